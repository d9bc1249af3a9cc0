"""`optgym demo`, `optgym passes` and `optgym inline-mark`: a first look at the compiler, the
action table, and the tool that writes inlining decisions for LLVM to replay."""

from __future__ import annotations

import argparse
from pathlib import Path

DEMO_IR = Path(__file__).parent / "data" / "demo.ll"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the LLVM commands to the `optgym` parser."""
    demo = subparsers.add_parser(
        "demo",
        help="load an LLVM module, print its instruction count at -O0 and -Oz, run a few passes",
        description=(
            "Loads a module into a compiler worker (the bundled demo program when FILE is not "
            "given), prints its instruction count unoptimized and after -Oz, then applies a "
            "few passes one by one, showing the count after each."
        ),
    )
    demo.add_argument("file", nargs="?", type=Path, help="a .ll or .bc file (default: bundled)")
    demo.add_argument(
        "--passes", default="-mem2reg,-sroa,-instcombine,-simplifycfg,-inline,-gvn,-dce",
        help="comma-separated flags to apply in order (default: %(default)s)",
    )
    demo.set_defaults(handler=_demo)

    passes = subparsers.add_parser(
        "passes",
        help="list the actions: CompilerGym's flags and their LLVM 19 pipeline text",
        description="Print an action set as a table: index, flag, LLVM 19 -passes= text.",
    )
    passes.add_argument(
        "--set", default="flags-v0",
        choices=["flags-v0", "flags-pipelines-v0", "flags-safe-v0", "flags-safe-pipelines-v0"],
        help="which action set (default: %(default)s; flags-safe-v0: what the drop-ins and the "
             "shipped models use)",
    )
    passes.add_argument(
        "--unsafe", action="store_true",
        help="instead list the flags left out of flags-safe-v0, and why",
    )
    passes.add_argument(
        "--left-out", action="store_true",
        help="instead list CompilerGym's flags that have no action here, and why",
    )
    passes.set_defaults(handler=_passes)

    mark = subparsers.add_parser(
        "inline-mark",
        help="write a module's inlining decisions for opt-19 to replay (see the inlining env)",
        description=(
            "Gives every call of INPUT a synthetic debug location whose line is its call id + 1 "
            "(so that LLVM names a call site, and every copy inlining makes of it, by its "
            "chain of call ids), writes that module to -o, and writes the decisions to --replay "
            "in the form of LLVM's replay inline advisor. Then `opt-19 --relocation-model=pic "
            "-passes='<clang -Oz>' -cgscc-inline-replay=REPLAY -cgscc-inline-replay-scope=Module "
            "-cgscc-inline-replay-format=Line -cgscc-inline-replay-fallback=Original OUT` "
            "inlines as decided and leaves every other call site to LLVM. A call site is a call "
            "id (12) or the copy of it that inlining other calls made (12@5: call 12 inlined "
            "through call 5)."
        ),
    )
    mark.add_argument("input", type=Path, help="the module (.bc or .ll)")
    mark.add_argument("-o", dest="output", type=Path, required=True, help="the marked module")
    mark.add_argument("--replay", type=Path, required=True, help="the decisions file to write")
    mark.add_argument("--inline", default="", metavar="SITES",
                      help="comma-separated call sites to inline")
    mark.add_argument("--noinline", default="", metavar="SITES",
                      help="comma-separated call sites not to inline")
    mark.set_defaults(handler=_inline_mark)


def _demo(args: argparse.Namespace) -> int:
    from optgym.errors import BenchmarkError
    from optgym.llvm.passes import FLAGS
    from optgym.llvm.session import CompilerSession

    path: Path = args.file or DEMO_IR
    if not path.exists():
        raise BenchmarkError(f"{path}: no such file")
    flags = [f.strip() for f in args.passes.split(",") if f.strip()]
    indices = [FLAGS.index(f) for f in flags]
    with CompilerSession() as session:
        module = session.load(path.read_bytes(), name=path.name)
        o0 = module.instruction_count()
        oz = module.try_pipeline("default<Oz>", ("IrInstructionCount",))["IrInstructionCount"]
        print(f"module: {path}")
        print(f"instructions at -O0: {o0}")
        print(f"instructions at -Oz: {oz}")
        print(f"{'step':>4}  {'flag':<24} {'instructions':>12}  changed")
        for step, index in enumerate(indices, 1):
            result = module.run(FLAGS[index].pipeline, observe=("IrInstructionCount",))
            count = result.observations["IrInstructionCount"]
            print(f"{step:>4}  {FLAGS[index].flag:<24} {count:>12}  {result.changed}")
        print(f"opt-19 --relocation-model=pic -passes='{FLAGS.pipeline(indices)}' in.ll -o out.bc"
              "  # reproduces it")
    return 0


def _passes(args: argparse.Namespace) -> int:
    from optgym.llvm.passes import LEFT_OUT, UNSAFE_REASONS, action_set

    if args.unsafe:
        for flag, why in UNSAFE_REASONS.items():
            print(f"{flag:<28} {why}")
        return 0
    if args.left_out:
        for flag, why in LEFT_OUT.items():
            print(f"{flag:<28} {why}")
        return 0
    for i, action in enumerate(action_set(args.set).actions):
        print(f"{i:>4}  {action.flag:<32} {action.pipeline}")
    return 0


def _inline_mark(args: argparse.Namespace) -> int:
    from optgym.cache import atomic_write
    from optgym.errors import BenchmarkError
    from optgym.llvm.inlining import CallNames, decisions_from_args, replay_text
    from optgym.llvm.session import CompilerSession

    decisions = decisions_from_args([s for s in args.inline.split(",") if s],
                                    [s for s in args.noinline.split(",") if s])
    if not args.input.exists():
        raise BenchmarkError(f"{args.input}: no such file")
    with CompilerSession() as session:
        module = session.load(args.input.read_bytes(), name=str(args.input))
        obs = module.observe("InlineMarkedBitcode", "InlineCallSites")
    sites = obs["InlineCallSites"]
    text = replay_text(decisions, CallNames.of(sites["original"], sites["call_functions"]))
    atomic_write(args.output, obs["InlineMarkedBitcode"])
    atomic_write(args.replay, text.encode())
    return 0
