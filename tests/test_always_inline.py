"""clang's always_inline promise in everything that ships: the drop-ins, the safe action spaces
and the leaderboard's code-size task run the always-inliner first (clang does at every -O level,
-O0 included), while the research action space keeps the free choice.

The C file below is built so that skipping the always-inliner is tempting: one large
``always_inline`` helper called from many places is far smaller as calls than inlined.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import compile_c

from optgym.envs.llvm import CompilerEnvState, LlvmEnv
from optgym.envs.llvm.state import commandline_of
from optgym.llvm import passes
from optgym.llvm.passes import CLANG_OZ_PIPELINE

SOURCE = textwrap.dedent("""\
    #include <stdio.h>
    #define FORCE static inline __attribute__((always_inline))
    FORCE unsigned scramble(unsigned h, unsigned v) {
      for (int r = 0; r < 4; r++) {
        h ^= v + 0x7f4a7c15u + (h << 6) + (h >> 2);
        h *= 0x2545f491u; v = (v >> 3) | (v << 29);
        if (h & 1) h ^= v * 31u; else h += v ^ 0x5bd1e995u;
      }
      return h ^ (h >> 16);
    }
    FORCE unsigned digest(const char *s, unsigned n) {
      unsigned h = 2166136261u;
      for (unsigned i = 0; i < n && s[i]; i++) h = scramble(h, (unsigned char)s[i]);
      return h;
    }
    unsigned k1(unsigned x) { return scramble(x, 1) + scramble(x, 2); }
    unsigned k2(unsigned x) { return scramble(x ^ 5, x) - scramble(3, x); }
    unsigned k3(const char *s) { return digest(s, 8) ^ scramble(8, 8); }
    unsigned k4(const char *s, unsigned n) { return digest(s, n) + digest(s + 1, n); }
    int main(void) {
      printf("%u %u %u %u\\n", k1(7), k2(9), k3("always inline"), k4("contract", 5));
      return 0;
    }
    """)
HELPERS = ("scramble", "digest")


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("always_inline") / "force.c"
    path.write_text(SOURCE)
    return path


@pytest.fixture(scope="module")
def bitcode(program: Path) -> Path:
    out = program.with_suffix(".bc")
    compile_c(program, out)
    return out


def test_a_sequence_without_the_inliner_is_smaller_here(bitcode: Path) -> None:
    """The premise: on this file, skipping the always-inliner wins on size (so the tests
    below would fail if anything that ships skipped it)."""
    from optgym.llvm.core import Module

    data = bitcode.read_bytes()
    skipped, kept, oz = Module.parse(data), Module.parse(data), Module.parse(data)
    skipped.run_passes("function(sroa,instcombine<no-verify-fixpoint>,simplifycfg)")
    kept.run_passes("always-inline,function(sroa,instcombine<no-verify-fixpoint>,simplifycfg)")
    oz.run_passes("default<Oz>")
    assert skipped.always_inline_calls() > 0
    assert kept.always_inline_calls() == 0 and oz.always_inline_calls() == 0
    assert skipped.object_text_size() < oz.object_text_size()


def test_safe_env_runs_the_always_inliner_first_and_research_env_does_not(bitcode: Path) -> None:
    uri = f"file://{bitcode}"
    with LlvmEnv(uri, observation_space=None, action_space="flags-safe-v0") as safe, \
            LlvmEnv(uri, observation_space=None) as research:
        assert safe.honor_always_inline and not research.honor_always_inline
        for env in (safe, research):
            env.reset()
            env.step(env.actions.index("-sroa"))
        assert safe.actions_taken == [passes.ALWAYS_INLINE, "function(sroa)"]
        assert safe.observe("IrInstructionCount") > 0
        assert safe.session and safe.validate().always_inline_calls == 0
        assert research.actions_taken == ["function(sroa)"]
        assert research.validate().always_inline_calls > 0  # the free choice, still valid
        # A standard pipeline runs the always-inliner itself: nothing is added before it.
        safe.reset()
        safe.step(safe.actions.index("-simplifycfg"))
        safe.reset()
        assert safe.try_steps(["default<Oz>"], ("AlwaysInlineCalls",))["AlwaysInlineCalls"] == 0
        assert safe.episode_steps(["default<Oz>"]) == ["default<Oz>"]
        assert safe.episode_steps([]) == [passes.ALWAYS_INLINE]
        # What a policy hands back is what the episode ran.
        fork = safe.fork()
        fork.step(fork.actions.index("-gvn"))
        assert fork.actions_taken[0] == passes.ALWAYS_INLINE
        fork.close()


def test_validation_refuses_a_result_that_skips_the_inliner_where_it_is_required(
        bitcode: Path) -> None:
    uri = f"file://{bitcode}"
    skipping = CompilerEnvState(uri, commandline_of("function(sroa)"))
    with LlvmEnv(uri, observation_space=None, reward_space="ObjectTextSizeOz",
                 honor_always_inline=True) as env:
        env.apply(skipping)  # a replay runs the steps as given
        refused = env.validate(CompilerEnvState(uri, skipping.commandline, 0, env.episode_reward))
        assert not refused.ok and "always_inline" in refused.error_details
        env.reset()
        env.step(env.actions.index("-sroa"))
        assert env.validate().ok


def _policy_module(directory: Path) -> str:
    """A user's policy that returns a size-winning sequence without the always-inliner."""
    (directory / "skipper.py").write_text(textwrap.dedent("""\
        from optgym.agents.base import result_from_env
        def search(env, budget):
            clock = budget.clock()
            clock.spend()
            steps = ["function(sroa)", "function(instcombine<no-verify-fixpoint>)",
                     "function(simplifycfg)"]
            return result_from_env(env, steps, clock, "skipper")
        """))
    return "skipper:search"


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(cwd), *filter(None, [os.environ.get("PYTHONPATH")])]), **env)
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=environ,
                          timeout=600)


@pytest.mark.parametrize("policy", ["skipper", "default"])
def test_optgym_opt_keeps_every_always_inline_call_inlined(bitcode: Path, tmp_path: Path,
                                                          policy: str) -> None:
    bindir = Path(sys.executable).parent
    own = ["--policy", _policy_module(tmp_path)] if policy == "skipper" else []
    for objective in ("instructions", "text"):
        out = tmp_path / f"{policy}-{objective}.ll"
        proc = _run([str(bindir / "optgym-opt"), *own, "--budget", "4", "--objective", objective,
                     str(bitcode), "-S", "-o", str(out), "--print-pipeline"], tmp_path)
        assert proc.returncode == 0, proc.stderr
        ir = out.read_text()
        leftover = [line for line in ir.splitlines()
                    if "call" in line and any(f"@{h}(" in line for h in HELPERS)]
        assert leftover == [], (proc.stderr, leftover[:3])
        # The printed pipeline makes the same module with plain opt-19.
        pipeline = proc.stderr.strip().splitlines()[-1].split("-passes=", 1)[1].strip("'")
        # (the learned inliner's output is made by clang -Oz's own pipeline, which runs the
        # always-inliner where clang does)
        assert pipeline.startswith(("always-inline", "default<Oz>", CLANG_OZ_PIPELINE)), pipeline


def test_optgym_cc_object_has_no_call_to_an_always_inline_helper(program: Path,
                                                                  tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    policy = _policy_module(tmp_path)
    obj = tmp_path / "force.o"
    proc = _run([str(bindir / "optgym-cc"), "-Oz", "-c", str(program), "-o", str(obj)], tmp_path,
                OPTGYM_CC_BUDGET="3", OPTGYM_CC_POLICY=policy, OPTGYM_CC_VERBOSE="1")
    assert proc.returncode == 0, proc.stderr
    symbols = subprocess.run(["llvm-nm-19", str(obj)], capture_output=True, text=True,
                             check=True).stdout
    assert not [s for s in symbols.split() if s in HELPERS], symbols
    exe = tmp_path / "force"
    subprocess.run(["clang-19", str(obj), "-o", str(exe)], check=True)
    reference = tmp_path / "reference"
    subprocess.run(["clang-19", "-O0", "-w", str(program), "-o", str(reference)], check=True)
    assert subprocess.run([str(exe)], capture_output=True).stdout == subprocess.run(
        [str(reference)], capture_output=True).stdout
