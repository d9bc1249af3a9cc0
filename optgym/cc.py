"""``optgym-cc``: a C compiler wrapper for real builds (``make CC=optgym-cc``).

A compile step (``-c``) of C files compiles each file with ``clang-19`` to -O0 bitcode (without
``optnone``, so passes can work on it), lets ``optgym-opt``'s selection choose and apply the
passes in-process, and generates the object file from the optimized bitcode with
``clang-19 -O2 -Xclang -disable-llvm-passes``: the -O2 code generator (instruction selection,
register allocation, scheduling) with no IR pipeline, so the chosen passes are exactly what
shaped the IR, while target flags (``-fPIC``, ``-march``, ``-g``) are honoured as in any
clang build. Every other invocation (linking, preprocessing, ``-S``, ``-E``, C++, assembly,
``--version``) is passed to ``clang-19`` unchanged.

Environment: ``OPTGYM_CC_BUDGET`` (compilations per file, default 20), ``OPTGYM_CC_SECONDS``
(seconds per file, instead), ``OPTGYM_CC_POLICY`` (default: as optgym-opt),
``OPTGYM_CC_VERBOSE=1`` (print each file's pipeline and its instruction count vs -Oz).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_BUDGET = 20

#: Options that stop clang before it makes an object file, or ask for something else: such
#: invocations are not compile steps, and go to clang-19 unchanged.
_NOT_A_COMPILE = {"-E", "-S", "-M", "-MM", "-fsyntax-only", "-emit-llvm", "-###", "-x",
                  "--analyze", "-save-temps"}
#: Options that take a separate value argument (so the value is not mistaken for a file).
_VALUED = {"-o", "-I", "-D", "-U", "-include", "-imacros", "-isystem", "-iquote", "-idirafter",
           "-MF", "-MT", "-MQ", "-Xclang", "-Xlinker", "-Xassembler", "-Xpreprocessor",
           "-target", "--target", "-arch", "-L", "-l", "-isysroot", "--sysroot", "-std",
           "-mllvm"}
#: Prefixes of options that matter to the code generator, kept for the object-file step.
_CODEGEN_PREFIXES = ("-f", "-m", "-g", "--target", "-target", "-mllvm", "-W", "-w")
#: Prefixes of options that only matter to the preprocessor or the dependency file.
_FRONTEND_ONLY = ("-I", "-D", "-U", "-include", "-imacros", "-isystem", "-iquote",
                  "-idirafter", "-M", "-std", "-ansi", "-pedantic", "-x")


def _clang() -> str:
    from optgym.llvm import toolchain

    return toolchain.clang()


def _passthrough(args: list[str]) -> int:
    clang = _clang()
    sys.stdout.flush()
    os.execv(clang, [clang, *args])
    return 0  # not reached


def _split(args: list[str]) -> tuple[list[str], list[str], str | None] | None:
    """(options, C sources, -o value) of a compile step, or None if this is not one."""
    if "-c" not in args or any(a in _NOT_A_COMPILE for a in args):
        return None
    options: list[str] = []
    sources: list[str] = []
    output: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-o":
            if i + 1 >= len(args):
                return None
            output = args[i + 1]
            i += 2
            continue
        if arg in _VALUED:
            if i + 1 >= len(args):
                return None
            options += [arg, args[i + 1]]
            i += 2
            continue
        if arg == "-" or (not arg.startswith("-") and not arg.endswith(".c")):
            return None  # stdin, C++, assembly, objects: clang's business
        if arg.endswith(".c") and not arg.startswith("-"):
            sources.append(arg)
        elif arg != "-c":
            options.append(arg)
        i += 1
    if not sources or (output is not None and len(sources) > 1):
        return None
    return options, sources, output


def _frontend_options(options: list[str], output: Path) -> list[str]:
    """The user's options for making -O0 bitcode: no -O level, dependency files named after
    the real object file."""
    kept = [o for o in options if not (o.startswith("-O") and not o.startswith("-Ob"))]
    deps = any(o in ("-MD", "-MMD") for o in kept)
    if deps and not any(o in ("-MT", "-MQ") for o in kept):
        kept += ["-MT", str(output)]
    if deps and "-MF" not in kept:
        kept += ["-MF", str(output.with_suffix(".d"))]
    return kept


def _codegen_options(options: list[str]) -> list[str]:
    """The user's options that the object-file step needs (target and code-generation ones)."""
    kept: list[str] = []
    i = 0
    while i < len(options):
        o = options[i]
        if o in _VALUED:
            value = options[i + 1]
            if o in ("-target", "--target", "-mllvm", "-Xclang"):
                kept += [o, value]
            i += 2
            continue
        if o.startswith(_CODEGEN_PREFIXES) and not o.startswith(_FRONTEND_ONLY):
            kept.append(o)
        i += 1
    return kept


def compile_file(source: str, output: Path, options: list[str], *, env: object = None) -> int:
    """One C file to one object file through bitcode and the chosen passes; clang's exit code."""
    from optgym.agents.base import Budget
    from optgym.opt import optimize

    clang = _clang()
    with tempfile.TemporaryDirectory(prefix="optgym-cc-") as tmp:
        bitcode = Path(tmp) / "input.bc"
        front = [clang, *_frontend_options(options, output), "-O0", "-Xclang",
                 "-disable-O0-optnone", "-emit-llvm", "-c", source, "-o", str(bitcode)]
        code = subprocess.run(front).returncode
        if code != 0:
            return code
        seconds = os.environ.get("OPTGYM_CC_SECONDS")
        budget = Budget(
            compilations=None if seconds else int(os.environ.get("OPTGYM_CC_BUDGET",
                                                                  DEFAULT_BUDGET)),
            seconds=float(seconds) if seconds else None,
        )
        optimized, choice = optimize(bitcode.read_bytes(), str(bitcode),
                                     policy=os.environ.get("OPTGYM_CC_POLICY") or None,
                                     budget=budget, env=env)
        if os.environ.get("OPTGYM_CC_VERBOSE"):
            print(f"optgym-cc: {source}: {choice.instruction_count} instructions "
                  f"(-Oz {choice.oz_count}, {choice.policy}): -passes='{choice.pipeline}'",
                  file=sys.stderr)
        opt_bc = Path(tmp) / "optimized.bc"
        opt_bc.write_bytes(optimized)
        # Object into a temporary name first, so a failed step never leaves a partial .o.
        partial = Path(tmp) / "out.o"
        back = [clang, *_codegen_options(options), "-Wno-unused-command-line-argument", "-O2",
                "-Xclang", "-disable-llvm-passes", "-c", str(opt_bc), "-o", str(partial)]
        code = subprocess.run(back).returncode
        if code != 0:
            return code
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = output.with_name(f".{output.name}.optgym-cc.tmp")
        tmp_out.write_bytes(partial.read_bytes())
        os.replace(tmp_out, output)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``optgym-cc`` with clang's arguments; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    split = _split(args)
    if split is None:
        return _passthrough(args)
    options, sources, output = split
    from optgym.envs.llvm import LlvmEnv
    from optgym.errors import OptgymError

    env = LlvmEnv(observation_space=None)  # one compiler worker for every file of the step
    try:
        for source in sources:
            target = Path(output) if output else Path(Path(source).stem + ".o")
            code = compile_file(source, target, options, env=env)
            if code != 0:
                return code
    except OptgymError as exc:
        print(f"optgym-cc: {exc}", file=sys.stderr)
        return 1
    finally:
        env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
