"""Fidelity: a sequence applied step by step in the worker gives what `opt-19 -passes=` gives.

CompilerGym checked the same with a fuzz test; a mismatch would mean results reported by the
environment could not be reproduced with the real compiler.
"""

from __future__ import annotations

import random
import subprocess

from optgym.llvm import passes
from optgym.llvm.core import Module
from optgym.llvm.session import CompilerSession


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
                ours = module.observe("IrInstructionCount", "IrHash")
                out = tmp_path / f"{name}-{trial}.bc"
                subprocess.run(
                    ["opt-19", "--relocation-model=pic", f"-passes={passes.FLAGS.pipeline(seq)}",
                     str(source), "-o", str(out)],
                    check=True, capture_output=True,
                )
                theirs = Module.parse(out.read_bytes())
                assert ours["IrInstructionCount"] == theirs.instruction_count(), seq
                checked += 1
                module.close()
    assert checked == 24
