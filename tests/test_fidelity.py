"""Fidelity: a sequence applied step by step in the worker gives what `opt-19 -passes=` gives.

CompilerGym checked the same with a fuzz test; a mismatch would mean results reported by the
environment could not be reproduced with the real compiler.
"""

from __future__ import annotations

import random
import re
import subprocess

import pytest

from optgym.llvm import passes
from optgym.llvm.core import Module
from optgym.llvm.session import CompilerSession

#: The worker keeps many modules in one LLVM context, so a named type may carry a suffix
#: (``%struct.S0.27``) that a fresh opt-19 process does not give it.
_TYPE_SUFFIX = re.compile(r"(%(?:struct|union|class)\.\w+?)(?:\.\d+)+\b")


def _body(ir: str) -> str:
    """IR text to compare: without the ``; ModuleID`` line (the name the module was loaded
    under) and without the worker's type-name suffixes. Intrinsic attribute groups (the ones
    with ``nocallback``) are compared without ``mustprogress``: the known discrepancy pinned
    by :func:`test_intrinsic_declarations_get_the_attributes_opt_gives`."""
    lines = []
    for line in ir.splitlines():
        if line.startswith("; ModuleID"):
            continue
        if "nocallback" in line:
            line = line.replace("mustprogress ", "")
        lines.append(_TYPE_SUFFIX.sub(r"\1", line))
    return "\n".join(lines)


def test_random_sequences_match_opt(demo_ir, csmith_modules, tmp_path):
    rng = random.Random(2024)
    inputs = {"demo": demo_ir, "csmith3": csmith_modules[3], "csmith5": csmith_modules[5]}
    checked = 0
    with CompilerSession() as session:
        for name, data in inputs.items():
            source = tmp_path / f"{name}.bc"
            source.write_bytes(data)
            for trial in range(8):
                seq = [rng.randrange(len(passes.FLAGS)) for _ in range(rng.randint(2, 15))]
                module = session.load(data, name)
                for index in seq:
                    module.run(passes.FLAGS[index].pipeline)
                ours = module.observe("IrInstructionCount", "Ir")
                out = tmp_path / f"{name}-{trial}.bc"
                subprocess.run(
                    ["opt-19", "--relocation-model=pic", f"-passes={passes.FLAGS.pipeline(seq)}",
                     str(source), "-o", str(out)],
                    check=True, capture_output=True,
                )
                theirs = Module.parse(out.read_bytes())
                assert ours["IrInstructionCount"] == theirs.instruction_count(), seq
                # The same module, not just the same count: identical IR apart from the
                # module's name. (Not IrHash: a bitcode hash also sees use-list order, which
                # may differ between one pipeline and the same passes run one at a time.)
                assert _body(ours["Ir"]) == _body(theirs.ir()), seq
                checked += 1
                module.close()
    assert checked == 24


@pytest.mark.xfail(strict=True, reason="after this sequence the worker's inferattrs marks the "
                   "llvm.memcpy declaration mustprogress and opt-19 does not (instruction "
                   "counts agree); strict, so a fix shows up here")
def test_intrinsic_declarations_get_the_attributes_opt_gives(csmith_modules, tmp_path):
    seq = ["function(instnamer)", "function(dce)", "function(loop(loop-rotate))",
           "function(sink)", "elim-avail-extern", "hotcoldsplit", "inferattrs"]
    source = tmp_path / "csmith5.bc"
    source.write_bytes(csmith_modules[5])
    with CompilerSession() as session:
        module = session.load(csmith_modules[5], "csmith5")
        for step in seq:
            module.run(step)
        ours = module.observe("Ir")["Ir"]
    out = tmp_path / "out.bc"
    subprocess.run(["opt-19", f"-passes={','.join(seq)}", str(source), "-o", str(out)],
                   check=True, capture_output=True)
    theirs = Module.parse(out.read_bytes()).ir()
    flagged = [("mustprogress nocallback" in ir) for ir in (ours, theirs)]
    assert flagged[0] == flagged[1]
