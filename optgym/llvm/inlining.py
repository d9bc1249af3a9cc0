"""Inlining decisions that LLVM itself carries out, and replays exactly.

A *call site* is named by its chain of call ids: the id of a call in the original module (its
ordinal among the module's calls, in order), then, for a call that inlining copied into
another function, the ids of the calls it was inlined through (``12`` is call 12 where it was
written; ``12@5`` is the copy of call 12 that inlining call 5 made). LLVM keeps exactly this
chain in the debug locations of copied calls, so :meth:`~optgym.llvm.core.Module.mark_call_sites`
gives every call a synthetic location whose line is its id + 1, and a decision becomes a line
of an inline *replay file*, which LLVM's replay inline advisor (``-cgscc-inline-replay``) obeys
when its inliner reaches that call site, in that context. Call sites the file does not name are
decided by LLVM's own heuristic (``-cgscc-inline-replay-fallback=Original``), so an empty file
is clang -Oz. The rest of clang -Oz's pipeline runs as usual
(:data:`~optgym.llvm.passes.CLANG_OZ_PIPELINE`); the compile unit of the synthetic locations
emits no debug information, so objects are what they would be without it.

The replay of a set of decisions is two commands (:func:`replay_commandline`)::

    optgym inline-mark --inline 12,3@7 --noinline 5 input.bc -o marked.bc --replay decisions.txt
    opt-19 --relocation-model=pic -passes='<clang -Oz>' -cgscc-inline-replay=decisions.txt \
        -cgscc-inline-replay-scope=Module -cgscc-inline-replay-format=Line \
        -cgscc-inline-replay-fallback=Original marked.bc -o output.bc

Why not call-site attributes (``alwaysinline``/``noinline``): LLVM copies a call's attributes
to every copy inlining makes, so a ``noinline`` also forbids inlining the call in any caller it
is later inlined into, where clang -Oz often inlines it (16% of clang -Oz's inlinings on
realc-v0 train modules are such copies); and the always-inliner takes an ``alwaysinline`` call
site before the callee has been simplified, not when clang's inliner would. Replay decisions
are taken by the inliner itself, in each context, and leave every other call to it.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from optgym import LLVM_VERSION
from optgym.errors import LlvmError, OptgymError
from optgym.llvm import passes, toolchain
from optgym.llvm.core import INLINE_FUNCTION_COLUMNS, INLINE_SITE_COLUMNS, Module

#: Column indices of the native tables.
FN = {name: i for i, name in enumerate(INLINE_FUNCTION_COLUMNS)}
SITE = {name: i for i, name in enumerate(INLINE_SITE_COLUMNS)}

#: opt-19's options that make its inliner obey a replay file (after ``-cgscc-inline-replay=``).
REPLAY_OPTIONS: tuple[str, ...] = (
    "-cgscc-inline-replay-scope=Module",
    "-cgscc-inline-replay-format=Line",
    "-cgscc-inline-replay-fallback=Original",
)

Chain = tuple[int, ...]


def format_chain(chain: Chain) -> str:
    """``(12, 5)`` -> ``"12@5"``."""
    return "@".join(str(i) for i in chain)


def parse_chain(text: str) -> Chain:
    """``"12@5"`` -> ``(12, 5)``; OptgymError naming the text when it is not ids joined by @."""
    if not re.fullmatch(r"\d+(@\d+)*", text):
        raise OptgymError(f"call site {text!r}: expected call ids joined by '@', such as 12 or 12@5")
    return tuple(int(i) for i in text.split("@"))


@dataclass(frozen=True)
class CallNames:
    """What a replay file needs to know of a module's calls: for each call id, the name of the
    function it is written in, and the name of the defined function it calls directly (None
    for a call to a declaration or through a pointer)."""

    function: tuple[str, ...]
    callee: tuple[str | None, ...]

    @classmethod
    def of(cls, table: Mapping[str, object], call_functions: np.ndarray) -> CallNames:
        """From a marked module's :meth:`~Module.call_site_table` (before any pass ran) and its
        :meth:`~Module.call_functions`."""
        names = table["names"]
        function = tuple(names[int(k)] for k in call_functions)
        callee: list[str | None] = [None] * len(function)
        sites, chains = table["sites"], table["chains"]
        for row in sites:
            call = int(chains[row[SITE["chain_start"]]])
            if call >= 0:
                callee[call] = names[int(row[SITE["callee"]])]
        return cls(function, tuple(callee))

    def check(self, chain: Chain) -> None:
        """OptgymError unless every id of ``chain`` is a direct call to a defined function."""
        for call in chain:
            if not 0 <= call < len(self.function) or self.callee[call] is None:
                raise OptgymError(f"call site {format_chain(chain)}: call {call} is not a direct "
                                  f"call to a function the module defines (it has "
                                  f"{len(self.function)} calls)")

    def location(self, chain: Chain) -> str:
        """The call site's location as LLVM's replay advisor formats it (``Line`` format: each
        call's function and line offset, innermost first)."""
        return " @ ".join(f"{self.function[c]}:{c + 1}" for c in chain)


def replay_text(decisions: Mapping[Chain, bool], names: CallNames) -> str:
    """The replay file for ``decisions`` (call site -> inline or not), in the form LLVM's
    replay advisor reads (one remark per line)."""
    lines = []
    for chain, inline in sorted(decisions.items()):
        names.check(chain)
        callee, caller = names.callee[chain[0]], names.function[chain[-1]]
        verb = "inlined into" if inline else "will not be inlined into"
        lines.append(f"optgym: '{callee}' {verb} '{caller}' at callsite {names.location(chain)};")
    return "".join(line + "\n" for line in lines)


def replay_argv(replay_file: str, marked: str, output: str) -> list[str]:
    """``opt-19`` running clang -Oz's pipeline on a marked module with a replay file."""
    return [*toolchain.opt_argv(passes.CLANG_OZ_PIPELINE), f"-cgscc-inline-replay={replay_file}",
            *REPLAY_OPTIONS, marked, "-o", output]


def replay_commandline(decisions: Mapping[Chain, bool], input_name: str = "input.bc",
                       output_name: str = "output.bc") -> str:
    """The two commands that replay ``decisions`` with the real opt-19 (see the module doc)."""
    inline = sorted(c for c, v in decisions.items() if v)
    never = sorted(c for c, v in decisions.items() if not v)
    mark = ["optgym", "inline-mark"]
    if inline:
        mark += ["--inline", ",".join(format_chain(c) for c in inline)]
    if never:
        mark += ["--noinline", ",".join(format_chain(c) for c in never)]
    mark += [input_name, "-o", "marked.bc", "--replay", "decisions.txt"]
    opt = [f"opt-{LLVM_VERSION}", *toolchain.OPT_TARGET_FLAGS,
           f"-passes={passes.CLANG_OZ_PIPELINE}", "-cgscc-inline-replay=decisions.txt",
           *REPLAY_OPTIONS, "marked.bc", "-o", output_name]
    return f"{shlex.join(mark)} && {shlex.join(opt)}"


def parse_commandline(line: str) -> tuple[dict[Chain, bool], str]:
    """Inverse of :func:`replay_commandline`: the decisions and the input file name.

    Strict: anything but exactly the two commands :func:`replay_commandline` writes (the call
    sites aside) raises OptgymError naming what differs, so a replayed line runs only opt-19
    with clang -Oz's pipeline and the replay options.
    """
    parts = line.split(" && ")
    if len(parts) != 2:
        raise OptgymError("an inlining command line is `optgym inline-mark ... && opt-19 ...`; "
                          f"got {len(parts)} command(s)")
    try:
        mark, opt = shlex.split(parts[0]), shlex.split(parts[1])
    except ValueError as exc:
        raise OptgymError(f"inlining command line: {exc}") from None
    decisions: dict[Chain, bool] = {}
    if mark[:2] != ["optgym", "inline-mark"]:
        raise OptgymError(f"the first command must be `optgym inline-mark`, not {parts[0][:40]!r}")
    rest = mark[2:]
    for flag, value in (("--inline", True), ("--noinline", False)):
        if rest[:1] == [flag]:
            if len(rest) < 2:
                raise OptgymError(f"{flag} needs a list of call sites")
            for text in rest[1].split(","):
                chain = parse_chain(text)
                if chain in decisions:
                    raise OptgymError(f"call site {text} is decided twice")
                decisions[chain] = value
            rest = rest[2:]
    if len(rest) != 5 or rest[1:] != ["-o", "marked.bc", "--replay", "decisions.txt"]:
        raise OptgymError("expected `optgym inline-mark [--inline SITES] [--noinline SITES] "
                          "INPUT -o marked.bc --replay decisions.txt`")
    input_name = rest[0]
    expected = [f"opt-{LLVM_VERSION}", *toolchain.OPT_TARGET_FLAGS,
                f"-passes={passes.CLANG_OZ_PIPELINE}", "-cgscc-inline-replay=decisions.txt",
                *REPLAY_OPTIONS, "marked.bc", "-o"]
    if opt[:-1] != expected or len(opt) != len(expected) + 1:
        raise OptgymError("the second command must be exactly opt-19 with clang -Oz's pipeline "
                          "and the replay options on marked.bc (see optgym.llvm.inlining)")
    return decisions, input_name


# -- in the compiler worker -------------------------------------------------------------------

#: What the features describe: the module after clang -Oz's simplification before its inliner,
#: and then each function's own simplification as clang -Oz runs it (without inlining), so
#: that a callee looks about as small as it does when the inliner considers it.
FEATURE_VIEW = f"{passes.CLANG_OZ_PREINLINE},{passes.CLANG_OZ_SIMPLIFY_NO_INLINE}"


def _marked(module: Module) -> Module:
    marked = module.clone()
    try:
        marked.mark_call_sites()
    except LlvmError:
        marked.close()
        raise
    return marked


def call_sites_observation(module: Module) -> dict[str, object]:
    """The ``InlineCallSites`` observation: the module's call sites as the inliner of clang -Oz
    first sees them. The module is marked (:meth:`Module.mark_call_sites`) and its table taken
    (``original``: every call's function and callee), then clang -Oz's simplification before
    its inliner runs (:data:`~optgym.llvm.passes.CLANG_OZ_PREINLINE`) and the table taken
    again (``simplified``: what the features describe). The module itself is left as it is."""
    marked = _marked(module)
    try:
        original = marked.call_site_table()
        call_functions = marked.call_functions()
        marked.run_passes(FEATURE_VIEW)
        simplified = marked.call_site_table()
    finally:
        marked.close()
    return {"original": original, "call_functions": call_functions, "simplified": simplified}


def marked_bitcode(module: Module) -> bytes:
    """The ``InlineMarkedBitcode`` observation: the module with synthetic call-site locations
    (what ``optgym inline-mark`` writes); the module itself is left as it is."""
    marked = _marked(module)
    try:
        return marked.bitcode()
    finally:
        marked.close()


def bitcode_without_debug_info(module: Module) -> bytes:
    """The ``BitcodeWithoutDebugInfo`` observation: the module's bitcode with its debug
    information removed (the synthetic locations of a replayed module)."""
    copy = module.clone()
    try:
        copy.strip_debug_info()
        return copy.bitcode()
    finally:
        copy.close()


def mark(data: bytes, decisions: Mapping[Chain, bool], name: str = "input") -> tuple[bytes, str]:
    """``optgym inline-mark`` in-process: the marked module's bitcode and the replay file for
    ``decisions`` (every call site checked against the module)."""
    module = Module.parse(data, name)
    try:
        module.mark_call_sites()
        names = CallNames.of(module.call_site_table(), module.call_functions())
        return module.bitcode(), replay_text(decisions, names)
    finally:
        module.close()


def replay(marked: bytes, replay_file_text: str, *, what: str = "module",
           timeout: float = 600.0) -> bytes:
    """Run :func:`replay_argv` (the real opt-19) on a marked module; its output bitcode."""
    return _replay(marked, replay_file_text, what, timeout, ())[0]


#: opt-19's options that report each inlining decision (LLVM's remarks, on stderr).
REMARK_OPTIONS = ("-pass-remarks=inline", "-pass-remarks-missed=inline")
_REMARK = re.compile(r"optgym-callsites:(\d+):0: '([^']+)' (inlined into|not inlined into) "
                     r"'([^']+)'(.*)")


@dataclass
class LlvmDecisions:
    """What LLVM's inliner reported deciding in one compilation: the call sites it inlined
    (by chain), and the calls it left, by the call they copy and the function they are in (a
    remark for a call left in place does not give the rest of its chain)."""

    inlined: set[Chain] = field(default_factory=set)
    declined: set[tuple[int, str]] = field(default_factory=set)

    def get(self, chain: Chain, caller: str) -> bool | None:
        """Whether LLVM inlined the call site (in function ``caller``), if it said."""
        if chain in self.inlined:
            return True
        if (chain[0], caller) in self.declined:
            return False
        return None

    def update(self, other: LlvmDecisions) -> None:
        """Add what another compilation reported."""
        self.inlined |= other.inlined
        self.declined |= other.declined


def replay_with_remarks(marked: bytes, replay_file_text: str, names: CallNames, *,
                        what: str = "module", timeout: float = 600.0
                        ) -> tuple[bytes, LlvmDecisions]:
    """:func:`replay`, and what LLVM's inliner reported deciding (:class:`LlvmDecisions`)."""
    output, stderr = _replay(marked, replay_file_text, what, timeout, REMARK_OPTIONS)
    decided = LlvmDecisions()
    for line in stderr.splitlines():
        m = _REMARK.search(line)
        if not m:
            continue
        at = re.search(r"at callsite (.*);", m.group(5))
        if m.group(3) == "inlined into" and at:
            try:
                chain = tuple(int(part.split(":")[-2]) - 1 for part in at.group(1).split(" @ "))
            except (ValueError, IndexError):
                continue
            decided.inlined.add(chain)
        elif m.group(3) == "not inlined into":
            decided.declined.add((int(m.group(1)) - 1, m.group(4)))
    return output, decided


def _replay(marked: bytes, replay_file_text: str, what: str, timeout: float,
            extra: tuple[str, ...]) -> tuple[bytes, str]:
    with tempfile.TemporaryDirectory(prefix="optgym-inline-") as tmp:
        src, rep, out = Path(tmp, "marked.bc"), Path(tmp, "decisions.txt"), Path(tmp, "out.bc")
        src.write_bytes(marked)
        rep.write_text(replay_file_text)
        argv = [*replay_argv(str(rep), str(src), str(out)), *extra]
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise LlvmError(f"{what}: opt-19 timed out after {timeout:g} s") from None
        if proc.returncode != 0:
            diag = toolchain.truncate_diagnostics(proc.stderr.decode("utf-8", "replace"))
            raise LlvmError(f"{what}: opt-19 failed with exit code {proc.returncode}:\n{diag}")
        return out.read_bytes(), proc.stderr.decode("utf-8", "replace")


def decisions_from_args(inline: Iterable[str], never: Iterable[str]) -> dict[Chain, bool]:
    """Decisions from ``--inline``/``--noinline`` lists; a site named twice is an error."""
    out: dict[Chain, bool] = {}
    for texts, value in ((inline, True), (never, False)):
        for text in texts:
            chain = parse_chain(text)
            if chain in out:
                raise OptgymError(f"call site {text} is decided twice")
            out[chain] = value
    return out
