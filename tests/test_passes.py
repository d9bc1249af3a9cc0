"""The action table: every LLVM 19 action runs on real modules, and the table accounts for all 124."""

from __future__ import annotations

import pytest

from optgym.errors import OptgymError
from optgym.llvm import passes
from optgym.llvm.core import Module


def test_table_accounts_for_every_compilergym_flag():
    assert len(passes.FLAG_TABLE) == 124
    assert len({flag for flag, _, _ in passes.FLAG_TABLE}) == 124
    assert len(passes.FLAGS) + len(passes.LEFT_OUT) == 124
    assert all(reason for reason in passes.LEFT_OUT.values())
    assert passes.FLAGS.flags[:3] == ["-add-discriminators", "-adce", "-aggressive-instcombine"]
    assert len(passes.FLAGS_AND_PIPELINES) == len(passes.FLAGS) + 5


def test_index_and_pipeline():
    i = passes.FLAGS.index("-mem2reg")
    assert passes.FLAGS[i].pipeline == "function(mem2reg)"
    j = passes.FLAGS.index("-inline")
    assert passes.FLAGS.pipeline([i, j]) == "function(mem2reg),invalidate<all>,cgscc(inline)"
    assert passes.split_steps(passes.FLAGS.pipeline([i, j])) == [
        "function(mem2reg)", "cgscc(inline)"
    ]
    with pytest.raises(OptgymError, match="-no-such-flag"):
        passes.FLAGS.index("-no-such-flag")


@pytest.mark.parametrize("action", passes.FLAGS_AND_PIPELINES.actions, ids=lambda a: a.flag)
def test_every_action_runs_and_verifies(action, demo_ir, csmith_modules):
    for data in (demo_ir, csmith_modules[3], csmith_modules[5]):
        module = Module.parse(data)
        module.run_passes("function(mem2reg)")  # give loop and scalar passes SSA to work on
        module.run_passes(action.pipeline)
        assert module.verify() is None
