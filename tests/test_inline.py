"""The inlining environment and the decisions it hands LLVM, with the real clang-19 and opt-19.

What must hold: clang -Oz's pipeline text is what clang runs; a decision taken is a decision
LLVM carries out, in its context, and every other call site stays LLVM's (no decision is clang
-Oz exactly); replays are exact and strictly parsed; always_inline and noinline are never
offered and always_inline is honoured; the model's walk is bottom-up; runaway inlining is
capped; modules with debug information are refused by name.
"""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from conftest import compile_c

import optgym  # noqa: F401 - registers the environments
from optgym.envs.llvm.inline import InlineCompiler, InlineEpisode, InliningEnv, InliningState
from optgym.errors import LlvmError, OptgymError
from optgym.llvm import inlining, passes, toolchain
from optgym.llvm.core import Module, elf_text_size

SOURCE = textwrap.dedent("""\
    #include <stdio.h>
    #define FORCE static inline __attribute__((always_inline))
    FORCE int mix(int a, int b) { return (a * 31) ^ (b >> 3); }
    static int leaf(int x) { return x * 3 + 1; }
    static int twice(int x) { int s = 0; for (int i = 0; i < x; i++) s += leaf(i) ^ leaf(s); return s; }
    __attribute__((noinline)) static int kept(int x) { return mix(x, x + 1) + leaf(x); }
    static int nested(int n) {
      int s = 0;
      for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) s += twice(j);
      return s;
    }
    int api(int n) { return nested(n) + kept(n) + mix(n, 2) + twice(n + 1); }
    int api2(int n) { return twice(n) - leaf(n); }
    int main(void) { printf("%d %d\\n", api(7), api2(5)); return 0; }
    """)


@pytest.fixture(scope="module")
def bitcode(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    d = tmp_path_factory.mktemp("inline")
    (d / "prog.c").write_text(SOURCE)
    return compile_c(d / "prog.c", d / "prog.bc")


class _Bench:
    """A benchmark made of bytes (what the compiler prepares)."""

    def __init__(self, uri: str, bitcode: bytes):
        self.uri, self.bitcode = uri, bitcode


@pytest.fixture(scope="module")
def compiler() -> InlineCompiler:
    c = InlineCompiler()
    yield c
    c.close()


def _text(bc: bytes) -> int:
    return elf_text_size(toolchain.object_file(bc))


def test_clang_oz_pipeline_is_what_clang_runs(tmp_path: Path) -> None:
    ir = tmp_path / "x.ll"
    ir.write_text('target triple = "x86_64-pc-linux-gnu"\ndefine i32 @f(i32 %x) { ret i32 %x }\n')
    out = subprocess.run([toolchain.clang(), "-Oz", "-c", "-emit-llvm", "-x", "ir", str(ir),
                          "-o", "/dev/null", "-mllvm", "-print-pipeline-passes"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out.removesuffix(",BitcodeWriterPass") == passes.CLANG_OZ_PIPELINE
    assert passes.CLANG_OZ_PREINLINE.endswith(",always-inline")
    assert "inline," not in passes.CLANG_OZ_SIMPLIFY_NO_INLINE.split("function-attrs")[0]


@pytest.mark.parametrize("uri", ["benchmark://builtin-v0/json_lite",
                                 "benchmark://builtin-v0/bytecode_vm"])
def test_no_decision_is_clang_oz(uri: str, compiler: InlineCompiler) -> None:
    from optgym.datasets import get_benchmark

    bench = get_benchmark(uri)
    prepared = compiler.prepare(bench)
    clang = toolchain.clang_optimize(bench.bitcode)
    replayed = inlining.replay(prepared.marked, "")
    assert _text(replayed) == _text(clang) == prepared.oz_text
    # in-process, the same pipeline text gives the same module as clang
    module = Module.parse(bench.bitcode)
    module.run_passes(passes.CLANG_OZ_PIPELINE)
    assert module.instruction_count() == Module.parse(clang).instruction_count()


def test_decisions_are_carried_out_in_context(bitcode: bytes, compiler: InlineCompiler) -> None:
    prepared = compiler.prepare(_Bench("file:///prog", bitcode))
    _, oz = inlining.replay_with_remarks(prepared.marked, "", prepared.names)
    episode = InlineEpisode(prepared.observation, prepared.names)
    flipped: dict = {}
    while episode.current is not None:
        site = episode.current
        llvm = oz.get(site.chain, episode.functions[site.caller].name)
        if llvm is not None and len(flipped) < 3:
            flipped[site.chain] = not llvm
            episode.decide(not llvm)
        else:
            episode.decide(None)
    assert flipped, "LLVM reported no call site to flip"
    _, after = inlining.replay_with_remarks(
        prepared.marked, inlining.replay_text(flipped, prepared.names), prepared.names)
    for chain, inline in flipped.items():
        if inline:
            assert chain in after.inlined
        else:
            assert chain not in after.inlined
    # a call site named by a chain through another call is matched in that context only
    assert any(len(c) > 1 for c in after.inlined | oz.inlined)


def test_episode_reward_sums_to_the_exact_saving_and_validates() -> None:
    env = gymnasium.make("optgym/llvm-inline-text-v0", benchmark="benchmark://builtin-v0/json_lite")
    try:
        obs, info = env.reset()
        assert obs.shape == (len(optgym.envs.llvm.inline.FEATURES),) and "call_site" in info
        total, rng = 0.0, np.random.default_rng(0)
        while True:
            obs, reward, terminated, truncated, info = env.step(int(rng.integers(2)))
            total += reward
            if terminated:
                break
        exact = (info["oz_text_size"] - info["text_size"]) / info["oz_text_size"]
        assert total == pytest.approx(exact, abs=1e-12)
        state = env.unwrapped.state
        assert state.reward == pytest.approx(exact)
        assert env.unwrapped.validate().ok
        tampered = InliningState(state.benchmark, state.commandline, state.walltime,
                                 state.reward + 0.01)
        assert not env.unwrapped.validate(tampered).ok
        with pytest.raises(OptgymError):
            env.step(0)  # over
        with pytest.raises(ValueError):
            env.reset()
            env.step(2)  # no defer action unless asked for
    finally:
        env.close()


def test_defer_everywhere_is_clang_oz() -> None:
    env = InliningEnv("benchmark://builtin-v0/huffman", reward_space="ObjectTextSize",
                      allow_defer=True)
    try:
        env.reset()
        while True:
            _, _, terminated, _, info = env.step(2)
            if terminated:
                break
        assert info["decisions"] == 0 and env.episode_reward == 0.0
        assert info["text_size"] == info["oz_text_size"]
    finally:
        env.close()


def test_always_inline_and_noinline_are_never_offered(bitcode: bytes,
                                                      compiler: InlineCompiler) -> None:
    prepared = compiler.prepare(_Bench("file:///prog", bitcode))
    episode = InlineEpisode(prepared.observation, prepared.names)
    offered = []
    while episode.current is not None:
        offered.append(episode.describe()["callee"])
        episode.decide(True)  # inline everything it may
    assert offered and "mix" not in offered and "kept" not in offered
    compiled = compiler.compile(prepared, episode.decisions)
    assert compiled.always_inline_calls == 0
    assert Module.parse(compiled.bitcode).verify() is None


def test_walk_is_bottom_up_and_features_see_loops(bitcode: bytes,
                                                  compiler: InlineCompiler) -> None:
    prepared = compiler.prepare(_Bench("file:///prog", bitcode))
    episode = InlineEpisode(prepared.observation, prepared.names)
    callers, depth = [], {}
    while episode.current is not None:
        d = episode.describe()
        callers.append(d["caller"])
        depth[(d["caller"], d["callee"])] = episode.current.loop_depth
        episode.decide(False)
    # callees are decided before their callers: twice's calls come before nested's and api's
    assert callers.index("twice") < callers.index("nested") < callers.index("api")
    assert depth[("nested", "twice")] == 2 and depth[("twice", "leaf")] == 1
    assert depth[("api", "twice")] == 0


def test_commandline_round_trip_and_strictness() -> None:
    decisions = {(3,): True, (5, 2): False, (7,): False}
    line = inlining.replay_commandline(decisions)
    assert inlining.parse_commandline(line) == (decisions, "input.bc")
    bad = [line.replace(" && ", " ; "),
           line.replace("-cgscc-inline-replay-scope=Module", "-cgscc-inline-replay-scope=Function"),
           line.replace("marked.bc -o output.bc", "marked.bc -o output.bc -print-after-all"),
           line.replace("--inline 3", "--inline 3@x"),
           line.replace("--noinline 5@2,7", "--noinline 5@2,3"),
           line.replace("optgym inline-mark", "optgym inline-mark --evil")]
    for text in bad:
        with pytest.raises(OptgymError):
            inlining.parse_commandline(text)


def test_inline_mark_command_replays_like_the_environment(tmp_path: Path) -> None:
    env = InliningEnv("benchmark://builtin-v0/json_lite", reward_space="ObjectTextSize")
    try:
        _, info = env.reset()
        while True:
            _, _, terminated, _, info = env.step(int(not info.get("heuristic_inlines", False)))
            if terminated:
                break
        (tmp_path / "input.bc").write_bytes(env.benchmark.bitcode)
        line = env.state.commandline
    finally:
        env.close()
    decisions, _ = inlining.parse_commandline(line)
    assert decisions
    mark, opt = line.split(" && ")
    from optgym.cli import main

    mark_args = mark.split()[1:]
    assert main(mark_args[:mark_args.index("input.bc")] +
                [str(tmp_path / "input.bc"), "-o", str(tmp_path / "marked.bc"),
                 "--replay", str(tmp_path / "decisions.txt")]) == 0
    subprocess.run(inlining.replay_argv("decisions.txt", "marked.bc", "output.bc"),
                   cwd=tmp_path, check=True)
    assert _text((tmp_path / "output.bc").read_bytes()) == info["text_size"]
    assert re.search(r"' (inlined into|will not be inlined into) '",
                     (tmp_path / "decisions.txt").read_text())


def test_unknown_call_site_and_debug_info_are_refused(tmp_path: Path, bitcode: bytes) -> None:
    with pytest.raises(OptgymError, match="not a direct call"):
        inlining.mark(bitcode, {(99999,): True})
    (tmp_path / "g.c").write_text(SOURCE)
    with_debug = compile_c(tmp_path / "g.c", tmp_path / "g.bc", "-g")
    with pytest.raises(LlvmError, match="debug information"):
        inlining.mark(with_debug, {})


def test_runaway_inlining_is_capped(tmp_path: Path, compiler: InlineCompiler) -> None:
    chain = "\n".join(f"static int f{i}(int x) {{ return f{i - 1}(x + 1) * f{i - 1}(x ^ 3); }}"
                      for i in range(1, 16))
    (tmp_path / "r.c").write_text(f"int f0(int x) {{ return x * 7; }}\n{chain}\n"
                                  "int top(int x) { return f15(x); }\n")
    prepared = compiler.prepare(_Bench("file:///r", compile_c(tmp_path / "r.c", tmp_path / "r.bc")))
    episode = InlineEpisode(prepared.observation, prepared.names)
    while episode.current is not None:
        episode.decide(True)
    assert episode.capped > 0
    assert episode.size <= 2.0 * episode.initial_size
    compiled = compiler.compile(prepared, episode.decisions)
    assert compiled.instruction_count < 20 * prepared.oz_count


def test_policy_files_round_trip(tmp_path: Path) -> None:
    from optgym.agents.inliner.policy import InlinerPolicy, shipped_policy
    from optgym.envs.llvm.inline import FEATURES

    n = len(FEATURES)
    rng = np.random.default_rng(0)
    policy = InlinerPolicy(rng.normal(size=n), np.ones(n), rng.normal(size=n), -0.5,
                           rng.normal(size=n), 0.1)
    policy.save(tmp_path / "m.npz", {"note": "test"})
    back = InlinerPolicy.load(tmp_path / "m.npz")
    assert np.allclose(back.flat(), policy.flat()) and back.metadata["note"] == "test"
    x = rng.normal(size=n)
    assert back.choice(x) == policy.choice(x)
    (tmp_path / "bad.npz").write_bytes(b"not numpy")
    with pytest.raises(OptgymError, match="not an inliner model"):
        InlinerPolicy.load(tmp_path / "bad.npz")
    shipped = shipped_policy()
    if shipped is not None:
        assert shipped.metadata.get("recipe") == "inliner"


def test_leaderboard_inlining_task(tmp_path: Path) -> None:
    from optgym.agents.base import Budget
    from optgym.leaderboard.evaluate import evaluate_to_file
    from optgym.leaderboard.tasks import Task, get_task, register_task
    from optgym.leaderboard.validate import validate_file

    assert get_task("realc-test-inline-v0").environment == "inline"
    task = register_task(Task("test-inline-v0", "two builtin programs", "builtin-v0",
                              ("json_lite", "huffman"), "ObjectTextSizeOz", Budget(seconds=60),
                              honor_always_inline=True, environment="inline"), replace=True)
    csv_path, _ = evaluate_to_file(task, "heuristic", tmp_path / "h.csv", progress=False)
    report = validate_file(csv_path, progress=False)
    assert report.ok and report.geomean_oz_ratio is not None
    oz_path, _ = evaluate_to_file(task, "oz", tmp_path / "oz.csv", progress=False)
    assert validate_file(oz_path, progress=False).geomean_oz_ratio == 1.0
    # a row whose reward was edited, or whose command line runs more, is refused
    text = csv_path.read_text().splitlines()
    header, first = text[0], text[1].split(",")
    first[1] = repr(float(first[1]) + 0.05)
    (tmp_path / "bad.csv").write_text("\n".join([header, ",".join(first), *text[2:]]) + "\n")
    (tmp_path / "bad.json").write_text((tmp_path / "h.json").read_text())
    assert not validate_file(tmp_path / "bad.csv", progress=False).ok
    evil = csv_path.read_text().replace("-o output.bc", "-o output.bc -print-after-all", 1)
    (tmp_path / "evil.csv").write_text(evil)
    (tmp_path / "evil.json").write_text((tmp_path / "h.json").read_text())
    with pytest.raises(OptgymError):
        validate_file(tmp_path / "evil.csv", progress=False)


def test_drop_in_ships_the_inliner_candidate_and_its_commands_replay(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import optgym.opt as opt
    from optgym.agents.base import Budget
    from optgym.agents.inliner.policy import InlinerPolicy
    from optgym.envs.llvm.inline import FEATURES

    n = len(FEATURES)
    heuristic = np.zeros(n)
    heuristic[FEATURES.index("heuristic_inlines")] = 1.0
    # a gate open everywhere, deciding as the environment's approximation of LLVM does
    everywhere = InlinerPolicy(np.zeros(n), np.ones(n), np.zeros(n), 1.0, heuristic, -0.5)
    monkeypatch.setattr(opt, "_inliner_policy", lambda: everywhere)
    from optgym.datasets import get_benchmark

    data = get_benchmark("benchmark://builtin-v0/json_lite").bitcode
    choice = opt.select(data, "json_lite.bc", policy="oz", objective="text",
                        budget=Budget(compilations=8))
    assert choice.compilations <= 8 + 1 + len(opt.IR_FINISHERS)
    # whichever won, the candidate itself must replay by its commands and keep clang's promise
    env = opt._env(False)
    try:
        env.reset(options={"benchmark": opt.InMemoryBenchmark("json_lite.bc", data)})
        measured = opt._Candidates(env, "ObjectTextSizeBytes")
        decisions, steps, values, replay = opt._inliner_candidate(
            env, env.benchmark, everywhere, measured, opt.IR_FINISHERS)
        assert decisions
        forced = opt.Selection(passes.CLANG_OZ_PIPELINE, 0, 0, 0, "test", 0, 0.0, "text",
                               inline=decisions, inline_steps=tuple(steps), inline_replay=replay)
        output = opt.run_inlined(forced, False, env.session)
        shipped = opt.measure(output, env.session, "ObjectTextSizeBytes")
        assert shipped.cost == values["ObjectTextSizeBytes"] and shipped.always_inline_calls == 0
        assert b"optgym-callsites" not in output  # the synthetic locations are gone
    finally:
        env.close()
    (tmp_path / "input.bc").write_bytes(data)
    import sys

    line = forced.commandline.replace("optgym inline-mark", f"{sys.executable} -m optgym.cli inline-mark")
    line = line.replace("opt-19 --strip-debug", f"{toolchain.opt()} --strip-debug")
    subprocess.run(line.replace("opt-19 ", f"{toolchain.opt()} "), shell=True, cwd=tmp_path,
                   check=True)
    assert _text((tmp_path / "output.bc").read_bytes()) == shipped.cost


@pytest.mark.slow
def test_inliner_recipe_runs_under_torchrun_with_two_ranks(tmp_path: Path) -> None:
    """The recipe's evolution splits each generation's compilations over the ranks and sums
    the fitness, so both ranks take the same steps and end with the same model."""
    import json
    import os
    import socket
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parent.parent
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(port), str(root / "scripts" / "train.py"), "inliner",
           "--out", str(tmp_path / "run"), "--no-progress",
           "--set", "train_programs=[benchmark://builtin-v0/json_lite,"
                    "benchmark://builtin-v0/huffman,benchmark://builtin-v0/interp_ast]",
           "--set", "validation_programs=[benchmark://builtin-v0/csv_parse]",
           "--set", "generations=2", "--set", "population=2", "--set", "batch=3",
           "--set", "scan=4", "--set", "workers=1", "--set", "validate_every=1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / "run" / f"summary-rank{r}.json").read_text()) for r in (0, 1)]
    assert [s["world_size"] for s in ranks] == [2, 2]
    assert ranks[0]["param_digest"] == ranks[1]["param_digest"]
    assert ranks[0]["generations"] == 2 and ranks[0]["imitation_pairs"] > 0
    from optgym.agents.inliner.policy import InlinerPolicy

    model = InlinerPolicy.load(tmp_path / "run" / "model" / "inliner.npz")
    assert model.metadata["recipe"] == "inliner"


@pytest.mark.slow
def test_inliner_recipe_on_ray_matches_the_local_run(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from optgym.agents.train import run

    config = {"train_programs": ["benchmark://builtin-v0/json_lite", "benchmark://builtin-v0/huffman"],
              "validation_programs": ["benchmark://builtin-v0/csv_parse"], "generations": 1,
              "population": 2, "batch": 2, "scan": 3, "workers": 1}
    local = run("inliner", config, out=tmp_path / "local", progress=False)
    remote = run("inliner", config, out=tmp_path / "ray", progress=False, ray_address="local")
    assert remote["param_digest"] == local["param_digest"]
    assert remote["validation_best"] == local["validation_best"]


def test_program_graph_marks_the_call_site() -> None:
    env = InliningEnv("benchmark://builtin-v0/json_lite")
    try:
        env.reset()
        graph, node = env.program_graph()
        from optgym.programgraphs.builder import INSTRUCTION

        assert graph.node_type[node] == INSTRUCTION and graph.node_texts[node] == "call"
        # the k-th call instruction of the module is call id k
        calls = [i for i in graph.instruction_nodes() if graph.node_texts[i] == "call"]
        assert node == calls[env.episode.current.chain[0]]
        env.step(0)
        assert env.program_graph()[0] is graph  # built once per benchmark
    finally:
        env.close()
