"""Differential testing of the drop-ins: does `optgym-opt` or `optgym-cc` ever change what a
program does?

Every runnable built-in program and N csmith programs are built three ways and run:

1. the reference: ``clang-19 -O0`` on the C source (nothing optimized);
2. ``optgym-opt`` (in-process :func:`optgym.opt.optimize`, the default policy and budget) on the
   benchmark's bitcode, then clang -Oz's code generator;
3. ``optgym-cc -Oz -c`` on the C source (the real command), linked by clang-19.

With ``--inline`` each program is also built with inlining decisions forced through LLVM's
replay (the learned inliner's at both operating points, one random decision vector, and every
offered call site inlined), compiled as the drop-ins make an inliner output (the marked module
through clang -Oz's pipeline obeying the decisions, then without the synthetic locations), then
clang -Oz's code generator: the inliner path is tested whether or not it wins.

With ``--transforms`` each program is also built with each of LLVM's size transformations
forced on after -Oz (``mergefunc``, ``iroutliner``, the machine outliner, and all three):
``opt-19 -passes='default<Oz>,...'``, then ``llc-19`` with the code-generation options. A
transformation joins the drop-ins' safe set only when these builds show no difference.

Exit status and standard output must equal the reference's. The script also reports what the
drop-ins saved: IR instructions of optgym-opt's module against opt-19 -Oz's (its promise) and
clang-19 -Oz's, and ``.text`` bytes of optgym-cc's object against clang-19 -Oz's (geomeans, and
how many were larger). Every difference is saved as a reproducer directory (source, module,
chosen pipeline, expected and actual output) under ``--out``. csmith seeds come from the
validation split past the first 200, which no model was trained or evaluated on.

    .venv/bin/python benchmarks/differential.py [--csmith 500] [--no-builtin] [--out DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from optgym.datasets import RunResult, cache_root, count_instructions, get_benchmark, get_dataset
from optgym.envs.llvm import LlvmEnv
from optgym.errors import OptgymError
from optgym.llvm.passes import SAFE_FLAGS, SIZE_TRANSFORMS, join_steps, split_codegen
from optgym.llvm.toolchain import clang_optimize
from optgym.opt import optimize, run_opt

OPTGYM_CC = str(Path(sys.executable).parent / "optgym-cc")
TIMEOUT = 10.0


def _source_and_flags(benchmark) -> tuple[Path, list[str]]:
    if benchmark.dataset == "builtin-v0":
        return benchmark.source_path, []
    source = cache_root() / "csmith-v0" / f"{benchmark.name}.c"
    benchmark.bitcode  # noqa: B018 - generates (and caches) the source
    return source, ["-I/usr/include/csmith"]


def _run(exe: Path) -> tuple[int | None, str]:
    try:
        proc = subprocess.run([str(exe)], capture_output=True, timeout=TIMEOUT, cwd=exe.parent)
    except subprocess.TimeoutExpired:
        return None, ""
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def _outcome(result: RunResult) -> tuple[int | None, str]:
    return (None if result.timed_out else result.returncode), result.stdout


#: The forced builds of ``--transforms``: each size transformation after -Oz, then all of them.
FORCED = [[a.pipeline] for a in SIZE_TRANSFORMS] + [[a.pipeline for a in SIZE_TRANSFORMS]]


def check_transforms(benchmark, expected: tuple[int | None, str]) -> list[dict]:
    """Differences of the forced size-transformation builds of one program."""
    problems = []
    for extra in FORCED:
        ir, codegen = split_codegen(["default<Oz>", *extra])
        module = run_opt(benchmark.bitcode, None, join_steps(ir), False)
        got = _outcome(benchmark.run(module, timeout=TIMEOUT, codegen=codegen))
        if got != expected:
            problems.append({"drop-in": "forced " + "+".join(extra), "module": module,
                             "pipeline": join_steps(ir) + " " + " ".join(codegen),
                             "expected": expected, "got": got})
    return problems


def check_inline(benchmark, expected: tuple[int | None, str], env: LlvmEnv) -> list[dict]:
    """Differences of the forced inlining builds of one program."""
    import random

    from optgym.agents.inliner.policy import shipped_policy
    from optgym.agents.inliner.search import random_decisions, walk
    from optgym.envs.llvm.inline import InlineCompiler
    from optgym.llvm.inlining import replay, replay_text

    compiler = InlineCompiler(session=env.session)
    try:
        prepared = compiler.prepare(benchmark)
    except OptgymError:
        return []  # not markable (debug information): the drop-ins do not inline it either
    forced = {"random decisions": random_decisions(prepared, random.Random(benchmark.uri)),
              "inline everything": walk(prepared, lambda e, s: True)[1]}
    policy = shipped_policy()
    if policy is not None:
        forced["inliner (drop-in)"] = policy.operating_point("drop_in").decide(prepared)
        forced["inliner (alone)"] = policy.operating_point("alone").decide(prepared)
    problems = []
    for name, decisions in forced.items():
        text = replay_text(decisions, prepared.names)
        output = replay(prepared.marked, text, what=benchmark.uri)
        handle = env.session.load(output, f"{benchmark.uri} (inlined)")
        try:
            module = handle.observe("BitcodeWithoutDebugInfo")["BitcodeWithoutDebugInfo"]
        finally:
            handle.close()
        got = _outcome(benchmark.run(module, timeout=TIMEOUT))
        if got != expected:
            problems.append({"drop-in": f"forced {name}", "module": module,
                             "pipeline": text, "expected": expected, "got": got})
    return problems


def check(uri: str, env: LlvmEnv, work: Path, budget: int | None = None,
          transforms: str = "", inline: str = "") -> tuple[list[dict], dict]:
    """The differences (as reproducer records) of one program ([] when all builds agree), and
    the sizes: -Oz's and optgym-opt's IR instructions, clang -Oz's and optgym-cc's .text.
    ``transforms``: "" (the drop-ins only), "also" (and the forced size transformations) or
    "only" (just those)."""
    from optgym.agents.base import Budget

    benchmark = get_benchmark(uri)
    source, flags = _source_and_flags(benchmark)
    ref_exe = work / "ref"
    subprocess.run(["clang-19", "-O0", "-w", *flags, str(source), "-o", str(ref_exe), "-lm"],
                   check=True)
    expected = _run(ref_exe)
    if transforms == "only" or inline == "only":
        problems = check_transforms(benchmark, expected) if transforms else []
        problems += check_inline(benchmark, expected, env) if inline else []
        for p in problems:
            p["uri"], p["source"] = uri, source
        return problems, {}
    problems = []

    optimized, choice = optimize(benchmark.bitcode, policy=None, env=env,
                                 budget=Budget(compilations=budget) if budget else None)
    got = _outcome(benchmark.run(optimized, timeout=TIMEOUT))
    if got != expected:
        problems.append({"drop-in": "optgym-opt", "pipeline": choice.pipeline, "module": optimized,
                         "expected": expected, "got": got})

    obj, exe = work / "cc.o", work / "cc"
    cc = subprocess.run([OPTGYM_CC, "-Oz", "-w", *flags, "-c", str(source), "-o", str(obj)],
                        capture_output=True, text=True,
                        env=dict(os.environ, OPTGYM_CC_VERBOSE="1",
                                 **({"OPTGYM_CC_BUDGET": str(budget)} if budget else {})))
    if cc.returncode != 0:
        problems.append({"drop-in": "optgym-cc", "pipeline": "", "module": b"",
                         "expected": expected, "got": (cc.returncode, cc.stderr)})
    else:
        subprocess.run(["clang-19", str(obj), "-o", str(exe), "-lm"], check=True)
        got = _run(exe)
        if got != expected:
            problems.append({"drop-in": "optgym-cc", "pipeline": cc.stderr.strip(),
                             "module": b"", "expected": expected, "got": got})
    if transforms:
        problems += check_transforms(benchmark, expected)
    if inline:
        problems += check_inline(benchmark, expected, env)
    for p in problems:
        p["uri"], p["source"] = uri, source
    # optgym-opt promises "never larger than opt-19 -Oz" (choice.oz_cost, the objective being
    # instructions); clang-19 -Oz can differ from it by a few instructions.
    clang_oz = count_instructions(clang_optimize(benchmark.bitcode, "z", what=uri))
    sizes = {"oz_ir": clang_oz, "opt_oz_ir": choice.oz_cost,
             "opt_ir": choice.instruction_count}
    match = re.search(r"\.text (\d+) bytes against clang -Oz's (\d+): (.*)", cc.stderr)
    if match:
        # The line gives the candidate's size; when it ends "clang -Oz's", clang's object shipped.
        shipped_clang = match[3].strip() == "clang -Oz's"
        sizes["oz_text"] = int(match[2])
        sizes["cc_text"] = sizes["oz_text"] if shipped_clang else int(match[1])
    return problems, sizes


_ENV: LlvmEnv | None = None


def _inliner_ships() -> bool:
    from optgym.agents.inliner.policy import shipped_policy

    return shipped_policy() is not None


def _check_in_worker(task: tuple[str, int | None, str, str]
                     ) -> tuple[str, tuple[list[dict], dict] | str]:
    global _ENV
    if _ENV is None:
        _ENV = LlvmEnv(observation_space=None, action_space=SAFE_FLAGS.name)
    uri, budget, transforms, inline = task
    with tempfile.TemporaryDirectory(prefix="optgym-diff-") as tmp:
        try:
            return uri, check(uri, _ENV, Path(tmp), budget, transforms, inline)
        except (OptgymError, subprocess.CalledProcessError) as exc:
            return uri, str(exc)


def save(problem: dict, out: Path, index: int) -> Path:
    """Write one reproducer directory."""
    tag = problem["drop-in"].replace(" ", "-").replace("<", "").replace(">", "")
    d = out / f"{index:04d}-{tag}-{problem['uri'].rsplit('/', 1)[-1]}"
    d.mkdir(parents=True, exist_ok=True)
    (d / "source.c").write_bytes(Path(problem["source"]).read_bytes())
    if problem["module"]:
        (d / "module.bc").write_bytes(problem["module"])
    (d / "pipeline.txt").write_text(f"{problem['uri']}\n{problem['pipeline']}\n")
    (d / "expected.txt").write_text(f"exit {problem['expected'][0]}\n{problem['expected'][1]}")
    (d / "got.txt").write_text(f"exit {problem['got'][0]}\n{problem['got'][1]}")
    return d


def _builds(transforms: str, inline: str, inliner: bool) -> int:
    """Builds compared per program."""
    forced_inline = 4 if inliner else 2
    drop_ins = 0 if "only" in (transforms, inline) else 2
    return (drop_ins + (len(FORCED) if transforms else 0)
            + (forced_inline if inline else 0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csmith", type=int, default=500, help="csmith programs (default 500)")
    parser.add_argument("--no-builtin", action="store_true", help="skip the built-in programs")
    parser.add_argument("--budget", type=int, default=None,
                        help="compilations per program for both drop-ins (default: theirs)")
    parser.add_argument("--jobs", type=int, default=2, help="programs checked at once (default 2)")
    parser.add_argument("--transforms", choices=("also", "only"), default="",
                        help="also (or only) build each program with each size transformation "
                             "forced on after -Oz, and all of them: the test that admits them "
                             "to the safe set")
    parser.add_argument("--inline", choices=("also", "only"), default="",
                        help="also (or only) build each program with inlining decisions forced "
                             "through LLVM's replay (the learned inliner's, a random vector, "
                             "everything inlined)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where reproducers go (default <cache>/differential)")
    args = parser.parse_args(argv)
    out = args.out or cache_root() / "differential"
    uris = [] if args.no_builtin else get_dataset("builtin-v0").benchmark_uris()
    seeds = get_dataset("csmith-v0").first_uris(200 + args.csmith, "validation")[200:]
    uris += seeds
    differences = errors = 0
    all_sizes: list[dict] = []
    started = time.monotonic()
    tasks = [(uri, args.budget, args.transforms, args.inline) for uri in uris]
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for i, (uri, outcome) in enumerate(pool.imap_unordered(_check_in_worker, tasks), 1):
            problems: list[dict] = []
            if isinstance(outcome, str):
                errors += 1
                print(f"{uri}: could not check: {outcome}", file=sys.stderr)
            else:
                problems, sizes = outcome
                if sizes:
                    all_sizes.append(sizes)
            for p in problems:
                differences += 1
                print(f"DIFFERENCE {p['drop-in']} {uri}: reproducer in {save(p, out, differences)}")
            if i % 25 == 0 or i == len(uris):
                print(f"[{i}/{len(uris)}] {differences} differences, {errors} not checked, "
                      f"{time.monotonic() - started:.0f} s", flush=True)
    print(f"programs: {len(uris)} ({len(uris) - len(seeds)} built-in, {len(seeds)} csmith); "
          f"builds compared: {_builds(args.transforms, args.inline, _inliner_ships()) * (len(uris) - errors)}; "
          f"behaviour differences: {differences}; "
          f"not checked: {errors}")
    ir = [s["oz_ir"] / max(s["opt_ir"], 1) for s in all_sizes]
    opt_ir = [s["opt_oz_ir"] / max(s["opt_ir"], 1) for s in all_sizes]
    text = [s["oz_text"] / s["cc_text"] for s in all_sizes if "cc_text" in s]
    if ir:
        print(f"optgym-opt: geomean IR instructions opt-19 -Oz / ours "
              f"{statistics.geometric_mean(opt_ir):.4f} over {len(ir)}, larger than opt-19 -Oz "
              f"on {sum(r < 1 for r in opt_ir)}; clang-19 -Oz / ours "
              f"{statistics.geometric_mean(ir):.4f}, larger on {sum(r < 1 for r in ir)}")
    if text:
        print(f"optgym-cc: geomean .text clang -Oz / ours {statistics.geometric_mean(text):.4f}"
              f" over {len(text)}, larger than clang -Oz's on {sum(r < 1 for r in text)}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
