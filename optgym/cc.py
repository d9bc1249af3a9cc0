"""``optgym-cc``: a C compiler wrapper for real builds (``make CC=optgym-cc``) that ships
objects no larger than ``clang-19 -Oz``'s and never changes what a program does.

A compile step (``-c``) of C files at ``-Oz`` (or with no ``-O`` at all: optgym-cc is a size
optimizer) goes, per file, like this:

1. ``clang-19 <your flags> -Oz -Xclang -disable-llvm-passes -emit-llvm -c``: the bitcode clang
   -Oz hands its optimizer (your -D, -I, -f, -m and -g flags apply; -Oz's attributes are set);
2. the chosen policy (as in ``optgym-opt``) picks passes among the *safe* ones, judging
   candidates by the ``.text`` bytes of the object clang -Oz's code generator makes;
3. ``clang-19 <your code-generation flags> -Oz -Xclang -disable-llvm-passes -c``: the object,
   generated exactly as clang -Oz would generate it, from the optimized bitcode;
4. the reference ``clang-19 <your flags> -Oz -c`` object is built too, and whichever of the two
   has less ``.text`` (ties and any larger ``size`` text go to clang) is written.

Step 2 runs in the build server (:mod:`optgym.ccserver`), which the first compile step of a build
starts and later ones reuse, so Python, the model and the compiler worker start once per build;
a server that cannot be reached, crashes or hangs means clang's object ships. Set
``OPTGYM_CC_SERVER=0`` to choose passes in the compile step's own process instead.

Any other invocation (linking, ``-E``, ``-S``, C++, assembly, another ``-O`` level,
``--version``) is ``clang-19`` with the same arguments.

Environment: ``OPTGYM_CC_BUDGET`` (compilations per file; default 20, or fewer when that many
would take longer than ``OPTGYM_CC_TIME_FACTOR`` (default 10) times what clang -Oz took on the
file: a build stays a small multiple of clang's), ``OPTGYM_CC_SECONDS`` (seconds per file,
instead), ``OPTGYM_CC_POLICY`` (default: as optgym-opt),
``OPTGYM_CC_UNSAFE_PASSES=1`` (every pass of CompilerGym's action space),
``OPTGYM_CC_VERBOSE=1`` (print each file's choice and its .text against clang -Oz's),
``OPTGYM_CC_SERVER=0`` (no build server), ``OPTGYM_CC_SERVER_IDLE`` (seconds a server waits for
the next file before it exits; default 30), ``OPTGYM_CC_SERVER_JOBS`` (files it optimizes at once;
default the CPU count), ``OPTGYM_CC_SERVER_TIMEOUT`` (seconds a compile step waits for the
server's answer before it ships clang's object; default a generous multiple of the budget).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optgym.cache import atomic_write
from optgym.errors import OptgymError
from optgym.scratch import scratch_dir

if TYPE_CHECKING:
    from optgym.agents.base import Budget

DEFAULT_BUDGET = 20
#: By default the search on a file stops after this many times clang -Oz's time on it...
DEFAULT_TIME_FACTOR = 10.0
#: ...but never before this many seconds: tiny files take clang a few milliseconds.
MIN_SEARCH_SECONDS = 2.0

HELP = f"""\
usage: optgym-cc [clang options] -c FILE.c [-o FILE.o]

A drop-in for clang-19 that optimizes each C file's passes for code size. Compile steps at -Oz
(or with no -O option) get passes chosen for the .text size of the object, never a larger
.text than clang-19 -Oz's own object, and only passes that keep a program's meaning; every
other invocation, and every option, is clang-19's (see `clang-19 --help`).

environment:
  OPTGYM_CC_BUDGET=N        compilations per file: exactly N, so builds are reproducible
                            (default: {DEFAULT_BUDGET}, or as many as fit in OPTGYM_CC_TIME_FACTOR
                            times clang-19 -Oz's time on the file, at least {MIN_SEARCH_SECONDS:g} s)
  OPTGYM_CC_TIME_FACTOR=F   that multiple of clang's time (default {DEFAULT_TIME_FACTOR:g})
  OPTGYM_CC_MIN_SECONDS=S   the least search time per file (default {MIN_SEARCH_SECONDS:g})
  OPTGYM_CC_SECONDS=S       seconds per file instead of compilations
  OPTGYM_CC_POLICY=NAME     policy choosing the passes (default: as optgym-opt)
  OPTGYM_CC_UNSAFE_PASSES=1 allow passes that can change a program's behaviour
  OPTGYM_CC_VERBOSE=1       print each file's .text against clang -Oz's and the pipeline
  OPTGYM_CC_SERVER=0        choose passes in each compile step's own process, instead of in
                            the build server the first step starts (it exits after
                            OPTGYM_CC_SERVER_IDLE seconds without a file, default 30)
"""

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
    from optgym import interrupts

    clang = _clang()
    sys.stdout.flush()
    interrupts.release()
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
    levels = [o for o in options if o.startswith("-O") and not o.startswith("-Ob")]
    if levels and levels[-1] != "-Oz":
        return None  # the user asked for another level: clang's, as asked
    return options, sources, output


def _frontend_options(options: list[str], output: Path) -> list[str]:
    """The user's options for making bitcode: no -O level (-Oz is added), dependency files
    named after the real object file."""
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


def _without_dependency_files(options: list[str]) -> list[str]:
    """The user's options minus those that write a dependency file (written once, by step 1)."""
    kept: list[str] = []
    skip = False
    for o in options:
        if skip:
            skip = False
        elif o in ("-MF", "-MT", "-MQ"):
            skip = True
        elif not o.startswith(("-MD", "-MMD", "-MP")):
            kept.append(o)
    return kept


@dataclass
class _Choice:
    """The passes chosen for one file, however they were chosen."""

    bitcode: bytes
    pipeline: str
    codegen: tuple[str, ...]
    policy: str


class _InProcess:
    """Chooses passes in this process (``OPTGYM_CC_SERVER=0``): one compiler worker for all
    the files of the compile step, started on first use."""

    def __init__(self) -> None:
        self.env: Any = None

    def choose(self, bitcode: Path, budget: Budget) -> _Choice:
        from optgym.opt import optimize

        if self.env is None:
            from optgym.envs.llvm import LlvmEnv
            from optgym.llvm.passes import FLAGS, SAFE_FLAGS

            actions = FLAGS if _flag("OPTGYM_CC_UNSAFE_PASSES") else SAFE_FLAGS
            # What ships keeps always_inline's promise, even with every pass allowed.
            self.env = LlvmEnv(observation_space=None, action_space=actions.name,
                               honor_always_inline=True)
        output, choice = optimize(bitcode.read_bytes(), str(bitcode),
                                  policy=os.environ.get("OPTGYM_CC_POLICY") or None,
                                  budget=budget, env=self.env, objective="text", codegen=True,
                                  unsafe_passes=_flag("OPTGYM_CC_UNSAFE_PASSES"))
        return _Choice(output, choice.pipeline, choice.codegen, choice.policy)

    def close(self) -> None:
        if self.env is not None:
            self.env.close()


def _from_server(bitcode: Path, budget: Budget) -> _Choice | None:
    """The build server's choice for one file; None when it could not give one in time."""
    from optgym import ccserver

    request = ccserver.Request(bitcode.read_bytes(), str(bitcode),
                               os.environ.get("OPTGYM_CC_POLICY") or None,
                               budget.compilations, budget.seconds,
                               _flag("OPTGYM_CC_UNSAFE_PASSES"))
    # A search stops at its budget; past several times that, the server is hung.
    deadline = float(os.environ.get("OPTGYM_CC_SERVER_TIMEOUT") or 0) or (
        60.0 + 5.0 * (budget.seconds or 0.0) + 5.0 * (budget.compilations or 0))
    reply = ccserver.request(request, deadline)
    if reply is None:
        return None
    return _Choice(reply.bitcode, reply.pipeline, reply.codegen, reply.policy)


def compile_file(source: str, output: Path, options: list[str], *,
                 chooser: _InProcess | None = None) -> int:
    """One C file to one object file: the smaller of ours and clang -Oz's; clang's exit code.

    Passes are chosen by ``chooser`` when given (in this process), else by the build server.
    """
    from optgym.llvm.core import elf_size_text, elf_text_size

    clang = _clang()
    with scratch_dir("optgym-cc-") as tmp:
        bitcode = Path(tmp) / "input.bc"
        front = [clang, *_frontend_options(options, output), "-Oz", "-Xclang",
                 "-disable-llvm-passes", "-emit-llvm", "-c", source, "-o", str(bitcode)]
        code = subprocess.run(front).returncode
        if code != 0:
            return code
        reference = Path(tmp) / "clang-oz.o"
        started = time.monotonic()
        code = subprocess.run([clang, *_without_dependency_files(_frontend_options(options, output)),
                               "-Wno-unused-command-line-argument", "-w", "-Oz", "-c", source,
                               "-o", str(reference)]).returncode
        if code != 0:
            return code
        budget = default_budget(time.monotonic() - started)
        choice = (chooser.choose(bitcode, budget) if chooser is not None
                  else _from_server(bitcode, budget))
        if choice is None:  # no server could answer: clang's own object, as clang would
            return _ship(output, reference.read_bytes())
        opt_bc = Path(tmp) / "optimized.bc"
        opt_bc.write_bytes(choice.bitcode)
        ours = Path(tmp) / "optgym.o"
        back = [clang, *_codegen_options(options), "-Wno-unused-command-line-argument", "-Oz",
                *(w for o in choice.codegen for w in ("-mllvm", o)),
                "-Xclang", "-disable-llvm-passes", "-c", str(opt_bc), "-o", str(ours)]
        code = subprocess.run(back).returncode
        if code != 0:
            return code
        mine, theirs = ours.read_bytes(), reference.read_bytes()
        better = (elf_text_size(mine) < elf_text_size(theirs)
                  and elf_size_text(mine) <= elf_size_text(theirs))
        if _flag("OPTGYM_CC_VERBOSE"):
            print(f"optgym-cc: {source}: .text {elf_text_size(mine)} bytes against clang -Oz's "
                  f"{elf_text_size(theirs)}: "
                  + (f"-passes='{choice.pipeline}'"
                     + "".join(f" -mllvm {o}" for o in choice.codegen)
                     + f" ({choice.policy})" if better else "clang -Oz's"),
                  file=sys.stderr)
        return _ship(output, mine if better else theirs)


def _ship(output: Path, data: bytes) -> int:
    """Write the object, whole (a signal arriving meanwhile waits for it; after it, the step has
    succeeded); not at all if the step was interrupted (see :mod:`optgym.interrupts`)."""
    from optgym import interrupts

    if interrupts.received():  # an interrupt whose exception was swallowed on its way out
        return interrupts.exit_code()
    with interrupts.committing():
        atomic_write(output, data)
    return 0


def default_budget(clang_seconds: float) -> Budget:
    """The search budget for one file, from the environment, given that clang -Oz took
    ``clang_seconds`` on it. OptgymError naming the variable when a value is not a number."""
    from optgym.agents.base import Budget

    def number(name: str, kind: type) -> Any:
        value = os.environ.get(name, "")
        try:
            return kind(value) if value else None
        except ValueError:
            raise OptgymError(f"{name}={value!r} is not {'an integer' if kind is int else 'a number'}"
                              ) from None

    seconds, compilations = number("OPTGYM_CC_SECONDS", float), number("OPTGYM_CC_BUDGET", int)
    if seconds is not None or compilations is not None:
        return Budget(compilations=compilations, seconds=seconds)
    factor = number("OPTGYM_CC_TIME_FACTOR", float)
    factor = DEFAULT_TIME_FACTOR if factor is None else factor
    if not factor > 0:
        raise OptgymError(f"OPTGYM_CC_TIME_FACTOR={factor!r} must be a positive number")
    least = number("OPTGYM_CC_MIN_SECONDS", float)
    least = MIN_SEARCH_SECONDS if least is None else least
    if not least >= 0:
        raise OptgymError(f"OPTGYM_CC_MIN_SECONDS={least!r} must be a number of seconds (>= 0)")
    return Budget(compilations=DEFAULT_BUDGET, seconds=max(least, factor * clang_seconds))


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def main(argv: list[str] | None = None) -> int:
    """Run ``optgym-cc`` with clang's arguments; returns the exit code.

    Ctrl-C exits 130 and SIGTERM or SIGHUP (``timeout``, ``make``, CI runners) 128 + its
    number, leaving no object half-written, no worker and no temporary directory behind.
    """
    from optgym import interrupts

    with interrupts.handled(program=argv is None):
        try:
            return _main(list(sys.argv[1:] if argv is None else argv))
        except KeyboardInterrupt as exc:  # Terminated included
            return interrupts.exit_code(exc)
        except Exception:
            # A signal that lands inside a C extension's import (numpy's) comes out as that
            # import's ImportError: it is still the signal, and nothing was written.
            if interrupts.received():
                return interrupts.exit_code()
            raise


def _main(args: list[str]) -> int:
    if args in (["--help"], ["-h"]):
        print(HELP, end="")
        return 0
    split = _split(args)
    if split is None:
        return _passthrough(args)
    options, sources, output = split
    from optgym import ccserver

    if not ccserver.enabled():
        from optgym.opt import start_workers

        start_workers(os.environ.get("OPTGYM_CC_POLICY") or None)  # they load while clang runs

    chooser = None if ccserver.enabled() else _InProcess()
    try:
        for source in sources:
            target = Path(output) if output else Path(Path(source).stem + ".o")
            code = compile_file(source, target, options, chooser=chooser)
            if code != 0:
                return code
    except OptgymError as exc:
        print(f"optgym-cc: {exc}", file=sys.stderr)
        return 1
    finally:
        if chooser is not None:
            chooser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
