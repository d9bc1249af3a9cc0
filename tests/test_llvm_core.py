"""The in-process binding against real LLVM 19 output: counts, features, object size, errors."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from optgym.errors import ParseError, PipelineError
from optgym.llvm.core import Module, elf_text_size


def _count_in_text(ir: str) -> int:
    # In printed IR every instruction is an indented line inside a function body.
    body = False
    n = 0
    for line in ir.splitlines():
        if line.startswith("define "):
            body = True
        elif line.startswith("}"):
            body = False
        elif body and re.match(r"^  [^\s\]]", line):  # not the "]" closing a switch
            n += 1
    return n


def test_counts_match_printed_ir(demo_ir, csmith_modules):
    for data in [demo_ir, *csmith_modules.values()]:
        module = Module.parse(data)
        insts, blocks, funcs = module.counts()
        assert insts == _count_in_text(module.ir())
        assert funcs == module.ir().count("\ndefine ")
        assert blocks >= funcs > 0


def test_instcount_and_autophase_are_consistent(csmith_modules):
    module = Module.parse(csmith_modules[3])
    module.run_passes("function(mem2reg)")
    ic, ap = module.instcount(), module.autophase()
    assert ic.shape == (70,) and ap.shape == (56,)
    insts, blocks, funcs = module.counts()
    assert list(ic[:3]) == [insts, blocks, funcs]
    assert ic[3:].sum() == insts  # every instruction lands in exactly one opcode bucket
    assert ap[51] == insts and ap[50] == blocks  # TotalInsts, TotalBlocks
    ir = module.ir()
    assert ic[3 + 54] == ap[40] == len(re.findall(r"= phi ", ir))  # PHI
    assert ic[3 + 31] == ap[37] == len(re.findall(r"= load ", ir))  # Load
    assert ap[52] == ap[27] + ap[33] + ap[34] + ap[37] + ap[45]  # TotalMemInst (no invokes)
    assert ap[13] + ap[11] + ap[12] == blocks  # every block has no, few or many phis


def test_passes_change_the_module_and_verify(demo_ir):
    module = Module.parse(demo_ir)
    before = module.instruction_count()
    fingerprint = module.fingerprint()
    module.run_passes("function(mem2reg)")
    assert module.instruction_count() < before
    assert module.fingerprint() != fingerprint
    fingerprint = module.fingerprint()
    module.run_passes("function(mem2reg)")  # nothing left to promote
    assert module.fingerprint() == fingerprint
    assert module.verify() is None


def test_clone_is_independent(demo_ir):
    module = Module.parse(demo_ir)
    copy = module.clone()
    copy.run_passes("default<Oz>")
    assert copy.instruction_count() < module.instruction_count()
    assert copy.hash() != module.hash()
    assert Module.parse(module.bitcode()).hash() == module.hash()


def test_object_text_size_matches_llc(demo_ir, tmp_path):
    module = Module.parse(demo_ir)
    path = tmp_path / "demo.bc"
    path.write_bytes(module.bitcode())
    subprocess.run(["llc-19", "-filetype=obj", str(path), "-o", str(tmp_path / "demo.o")],
                   check=True)
    assert module.object_text_size() == elf_text_size((tmp_path / "demo.o").read_bytes())
    assert module.object_text_size() > 100


@pytest.mark.parametrize("data", [b"", b"hello world", b"BC\xc0\xde\x00\x00garbage"])
def test_bad_input_gives_parse_error(data):
    with pytest.raises(ParseError):
        Module.parse(data, name="input.ll")


def test_unknown_pipeline_gives_pipeline_error(demo_ir):
    with pytest.raises(PipelineError, match="no-such-pass"):
        Module.parse(demo_ir).run_passes("no-such-pass")


def test_hash_is_content_based(demo_ir):
    a, b = Module.parse(demo_ir), Module.parse(demo_ir)
    assert a.hash() == b.hash()
    assert np.array_equal(a.autophase(), b.autophase())
