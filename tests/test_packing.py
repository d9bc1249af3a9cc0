"""Tests of the exact buffer-packing search (optgym.memory.agents.packing)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from optgym.errors import BenchmarkError
from optgym.memory.agents.packing import (
    greedy_best_fit,
    load_minimalloc_csv,
    pack,
    packing_height,
    validate_packing,
)

# The eleven production problems ship as package data (a missing file is a packaging bug, so no skip).
DATA = Path(__file__).resolve().parents[1] / "optgym" / "memory" / "data" / "minimalloc"


def arrays(rows):
    lower, upper, size = (np.array(col, dtype=np.int64) for col in zip(*rows, strict=True))
    return lower, upper, size


def brute_force_min_height(lower, upper, size, cap):
    """Smallest height over all canonical packings (each buffer at 0 or on another's top)."""
    n = len(size)
    best = None
    for perm in itertools.permutations(range(n)):
        off = np.zeros(n, dtype=np.int64)
        done: list[int] = []
        for i in perm:
            cand = 0
            while True:
                clash = [j for j in done if lower[j] < upper[i] and lower[i] < upper[j]
                         and off[j] < cand + size[i] and cand < off[j] + size[j]]
                if not clash:
                    break
                cand = max(off[j] + size[j] for j in clash)
            off[i] = cand
            done.append(i)
        h = int((off + size).max())
        best = h if best is None else min(best, h)
    return best


def test_hand_made_fit_at_exact_capacity():
    # Three buffers live together must stack exactly; a fourth fits in the space one frees.
    lower, upper, size = arrays([(0, 4, 2), (0, 2, 3), (0, 6, 1), (2, 6, 3), (4, 6, 2)])
    res = pack(lower, upper, size, 6, time_limit=10)
    assert res.status == "fit"
    assert validate_packing(lower, upper, size, res.offsets, 6) == []
    assert res.height <= 6


def test_hand_made_needs_a_gap():
    # Greedy by size fails here; a valid packing must leave space unused under one buffer.
    lower, upper, size = arrays([(0, 2, 2), (1, 3, 2), (2, 4, 2), (0, 1, 1), (3, 4, 1)])
    res = pack(lower, upper, size, 4, time_limit=10)
    assert res.status == "fit"
    assert validate_packing(lower, upper, size, res.offsets, 4) == []


def cpsat_fits(lower, upper, size, cap) -> bool:
    """Independent check with OR-Tools CP-SAT (one NoOverlap2D constraint)."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    xs, ys = [], []
    for i, (lo, up, sz) in enumerate(zip(lower, upper, size, strict=True)):
        off = model.NewIntVar(0, int(cap - sz), f"o{i}")
        xs.append(model.NewFixedSizeIntervalVar(int(lo), int(up - lo), f"x{i}"))
        ys.append(model.NewFixedSizeIntervalVar(off, int(sz), f"y{i}"))
    model.AddNoOverlap2D(xs, ys)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    status = solver.Solve(model)
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.INFEASIBLE)
    return status != cp_model.INFEASIBLE


def test_hand_made_infeasible_is_proven():
    # Every time step is loaded to exactly 9, yet no packing fits below 11: the search has to
    # exhaust its tree to say so (CP-SAT agrees).
    lower, upper, size = arrays(
        [(2, 5, 2), (4, 5, 4), (0, 4, 2), (3, 6, 3), (0, 1, 7), (1, 2, 7), (2, 3, 5), (3, 4, 2), (5, 6, 6)]
    )
    for cap in (9, 10):
        res = pack(lower, upper, size, cap, time_limit=10)
        assert res.status == "no-fit" and res.offsets is None and res.nodes > 0
        assert res.height > cap
        assert not cpsat_fits(lower, upper, size, cap)
    res = pack(lower, upper, size, 11, time_limit=10)
    assert res.status == "fit" and res.height == 11
    assert validate_packing(lower, upper, size, res.offsets, 11) == []


def test_oversized_buffer_is_no_fit():
    res = pack([0, 0], [1, 1], [3, 9], 8, time_limit=1)
    assert res.status == "no-fit" and res.offsets is None and res.nodes == 0


def test_empty_and_degenerate_buffers():
    res = pack(np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([], dtype=np.int64), 0)
    assert res.status == "fit" and res.height == 0
    # A zero-size buffer and an empty interval take no space anywhere.
    res = pack([0, 0, 5], [4, 4, 5], [4, 0, 3], 4, time_limit=1)
    assert res.status == "fit"
    assert validate_packing([0, 0, 5], [4, 4, 5], [4, 0, 3], res.offsets, 4) == []


@pytest.mark.parametrize("seed", range(12))
def test_random_small_instances_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 6
    lower = rng.integers(0, 6, n)
    upper = lower + rng.integers(1, 5, n)
    size = rng.integers(1, 5, n)
    best = brute_force_min_height(lower, upper, size, 10**9)
    fit = pack(lower, upper, size, best, time_limit=10)
    assert fit.status == "fit"
    assert validate_packing(lower, upper, size, fit.offsets, best) == []
    assert fit.height == best
    assert pack(lower, upper, size, best - 1, time_limit=10).status == "no-fit"


def test_validator_reports_overlap_and_capacity():
    lower, upper, size = arrays([(0, 4, 3), (2, 6, 3), (4, 8, 3)])
    assert validate_packing(lower, upper, size, [0, 3, 0], 6) == []
    overlap = validate_packing(lower, upper, size, [0, 2, 5], 8)
    assert len(overlap) == 1 and "buffers 0 and 1 overlap" in overlap[0]
    over = validate_packing(lower, upper, size, [0, 4, 0], 6)
    assert len(over) == 1 and "exceeds capacity 6" in over[0]
    both = validate_packing(lower, upper, size, [0, 1, 2], 4)
    assert len(both) == 3  # 0-1 and 1-2 overlap; buffer 2 ends above 4
    assert validate_packing(lower, upper, size, [0, 3], 6) == ["2 offsets for 3 buffers"]
    assert any("negative offset" in e for e in validate_packing(lower, upper, size, [-1, 3, 0], 6))
    # Touching intervals [0, 4) and [4, 8) are not live together.
    assert validate_packing(lower, upper, size, [0, 3, 0], 6) == []


def test_bad_input_is_a_typed_error(tmp_path):
    with pytest.raises(BenchmarkError, match="upper 1 < lower 3"):
        pack([3], [1], [1], 8)
    with pytest.raises(BenchmarkError, match="differ in length"):
        pack([0, 1], [1], [1], 8)
    with pytest.raises(BenchmarkError, match="negative size"):
        pack([0], [1], [-1], 8)
    bad = tmp_path / "X.100.csv"
    bad.write_text("id,start,end,size\n0,0,1,1\n")
    with pytest.raises(BenchmarkError, match="header"):
        load_minimalloc_csv(bad)
    with pytest.raises(BenchmarkError, match="NAME.CAPACITY.csv"):
        load_minimalloc_csv(tmp_path / "nocapacity.csv")


def test_greedy_best_fit_is_valid():
    rng = np.random.default_rng(7)
    lower = rng.integers(0, 50, 80)
    upper = lower + rng.integers(1, 20, 80)
    size = rng.integers(1, 100, 80)
    off = greedy_best_fit(lower, upper, size)
    height = packing_height(size, off)
    assert validate_packing(lower, upper, size, off, height) == []


@pytest.mark.parametrize("name", ["H", "I"])
def test_production_problems_fit(name):
    # H and I are the two that needed the sub-problem reordering (the static orders alone time out).
    (path,) = DATA.glob(f"{name}.*.csv")
    lower, upper, size, cap = load_minimalloc_csv(path)
    assert cap == 1048576 and len(size) > 300
    res = pack(lower, upper, size, cap, time_limit=10)
    assert res.status == "fit"
    assert validate_packing(lower, upper, size, res.offsets, cap) == []
    assert res.height <= cap


def test_decomposition_keeps_independent_parts_apart():
    # Two groups joined by one long buffer: once it is placed the rest splits into two
    # sub-problems, each tight; the packing must be valid and exactly at capacity.
    rows = [(0, 10, 2), (0, 5, 3), (0, 5, 3), (5, 10, 1), (5, 10, 5), (2, 4, 0)]
    lower, upper, size = arrays(rows)
    res = pack(lower, upper, size, 8, time_limit=10)
    assert res.status == "fit" and res.height == 8
    assert validate_packing(lower, upper, size, res.offsets, 8) == []
    assert pack(lower, upper, size, 7, time_limit=10).status == "no-fit"


def test_statuses_come_from_one_enum():
    from optgym.memory.agents.packing import Status

    assert {s.name for s in Status} == {"FIT", "NO_FIT", "BUDGET", "TIMEOUT"}
    res = pack([0, 0], [1, 1], [1, 1], 1, time_limit=1)
    assert res.status == "no-fit"
