"""Exact search for buffer packing (dynamic storage allocation) after MiniMalloc's techniques.

Each buffer has a fixed half-open live interval ``[lower, upper)`` and a size; the search gives
every buffer an offset so that ``offset + size <= capacity`` and buffers that are live at the same
time never share an address. The problem is NP-hard. The search is a depth-first branch and bound
built from the ideas published with MiniMalloc (Moffitt, "MiniMalloc: A Lightweight Memory
Allocator for Hardware-Accelerated Machine Learning", ASPLOS 2023); this is our own code:

* **Canonical solutions.** Time is cut into *sections* at the buffers' endpoints. A buffer is only
  ever placed at its *minimum offset* (0 or the top of a placed buffer it overlaps), and buffers
  are placed in non-decreasing lexicographic order of (offset, static rank), so each packing
  that can be pushed down is reached once.
* **Dynamic ordering.** At each node the unplaced buffers are tried by increasing minimum offset,
  then by a static rank (one of three preorders: by lifetime, area, and the busiest section's
  total, as MiniMalloc's ``WAT``, ``TAW``, ``TWA``).
* **Dominance.** A buffer whose minimum offset is at or above the lowest top any unplaced buffer
  could reach is skipped: it would leave a gap that buffer could fill.
* **Section inference.** A section's floor is the highest placed top in it, raised to the lowest
  minimum offset of its unplaced buffers; a node is pruned when some section's
  ``max(floor, current offset) + unplaced bytes`` exceeds the capacity (a lower bound on the height).
* **Dynamic decomposition.** When no unplaced buffer crosses a section boundary any more, the two
  sides are independent sub-problems and are solved one after the other.
* **Restarts.** The three preorders run round-robin under a node budget that doubles each round,
  so one heavy-tailed ordering does not hold the others up.

An exhausted search (with no budget cut) proves that nothing fits. The core is compiled with numba
(a required dependency): the search state is one :class:`_Search` bundle, and every result of
the core is a :class:`Status`.
"""

from __future__ import annotations

import csv
import enum
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from optgym.errors import BenchmarkError

__all__ = [
    "PackingResult",
    "Status",
    "greedy_best_fit",
    "load_minimalloc_csv",
    "pack",
    "packing_height",
    "validate_packing",
]


class Status(enum.IntEnum):
    """Outcome of a search (and of every recursive call inside it)."""

    FIT = 0  # every buffer placed
    NO_FIT = 1  # the search space is exhausted: nothing fits
    BUDGET = 2  # the node budget of this restart ran out
    TIMEOUT = 3  # the CPU-time deadline passed


@dataclass
class PackingResult:
    """Outcome of :func:`pack`.

    ``offsets`` holds one offset per buffer when ``status == "fit"`` (``None`` otherwise);
    ``height`` is the packing's peak (max offset + size) when it fits, else the lowest height of
    any valid packing found (the greedy best-fit one, which exceeds the capacity). ``status`` is
    ``"fit"``, ``"no-fit"`` (the search proved that nothing fits) or ``"timeout"``.
    """

    offsets: np.ndarray | None
    height: int
    status: str
    seconds: float
    nodes: int
    cpu_seconds: float = 0.0  # CPU time of this process during the search (robust to machine load)


# --------------------------------------------------------------------------------------------
# Input, output and checking


def load_minimalloc_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Read a MiniMalloc-format CSV (header ``id,lower,upper,size``; capacity in the file name).

    The capacity is the number between the first and the last dot of the file name, as in
    ``A.1048576.csv``. Returns ``(lower, upper, size, capacity)`` with int64 arrays ordered by row.
    """
    name = os.path.basename(os.fspath(path))
    match = re.fullmatch(r"[^.]+\.(\d+)\.csv", name)
    if match is None:
        raise BenchmarkError(f"{path}: file name must look like NAME.CAPACITY.csv (e.g. A.1048576.csv)")
    capacity = int(match.group(1))
    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise BenchmarkError(f"{path}: cannot read: {exc}") from exc
    if not rows or [c.strip() for c in rows[0]] != ["id", "lower", "upper", "size"]:
        raise BenchmarkError(f"{path}: first line must be the header 'id,lower,upper,size'")
    data = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 4:
            raise BenchmarkError(f"{path}:{lineno}: expected 4 fields, got {len(row)}")
        try:
            data.append([int(x) for x in row])
        except ValueError as exc:
            raise BenchmarkError(f"{path}:{lineno}: non-integer field in {row!r}") from exc
    table = np.array(data, dtype=np.int64).reshape(-1, 4)
    lower, upper, size = table[:, 1].copy(), table[:, 2].copy(), table[:, 3].copy()
    _check_problem(lower, upper, size, capacity, where=str(path))
    return lower, upper, size, capacity


def _as_int_array(values, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise BenchmarkError(f"{name} must be a one-dimensional array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise BenchmarkError(f"{name} must hold integers")
    return arr.astype(np.int64)


def _check_problem(lower, upper, size, capacity, where: str = "problem") -> None:
    if not (len(lower) == len(upper) == len(size)):
        raise BenchmarkError(
            f"{where}: lower, upper and size differ in length ({len(lower)}, {len(upper)}, {len(size)})"
        )
    if int(capacity) < 0:
        raise BenchmarkError(f"{where}: capacity must be >= 0, got {capacity}")
    bad = np.flatnonzero(upper < lower)
    if bad.size:
        i = int(bad[0])
        raise BenchmarkError(f"{where}: buffer {i} has upper {upper[i]} < lower {lower[i]}")
    bad = np.flatnonzero(size < 0)
    if bad.size:
        i = int(bad[0])
        raise BenchmarkError(f"{where}: buffer {i} has negative size {size[i]}")


def validate_packing(lower, upper, size, offsets, capacity: int) -> list[str]:
    """Check a packing; return one message per violation (an empty list means it is valid).

    Violations: a missing or negative offset, a buffer that ends above ``capacity``, and every
    pair of buffers whose live intervals ``[lower, upper)`` intersect and whose address ranges
    ``[offset, offset + size)`` intersect. Zero-size buffers and empty intervals occupy nothing.
    """
    lower = _as_int_array(lower, "lower")
    upper = _as_int_array(upper, "upper")
    size = _as_int_array(size, "size")
    _check_problem(lower, upper, size, capacity)
    errors: list[str] = []
    if offsets is None:
        return ["no offsets given"]
    offsets = _as_int_array(offsets, "offsets")
    if len(offsets) != len(size):
        return [f"{len(offsets)} offsets for {len(size)} buffers"]
    for i in np.flatnonzero(offsets < 0):
        errors.append(f"buffer {i}: negative offset {offsets[i]}")
    top = offsets + size
    for i in np.flatnonzero(top > capacity):
        errors.append(f"buffer {i}: offset {offsets[i]} + size {size[i]} = {top[i]} exceeds capacity {capacity}")
    # Sweep over start times; only buffers that occupy something can conflict.
    real = np.flatnonzero((size > 0) & (upper > lower))
    order = real[np.lexsort((upper[real], lower[real]))]
    active: list[int] = []
    for i in order:
        li = lower[i]
        active = [j for j in active if upper[j] > li]
        for j in active:
            if offsets[i] < top[j] and offsets[j] < top[i]:
                a, b = (j, i) if j < i else (i, j)
                errors.append(
                    f"buffers {a} and {b} overlap: both live in [{max(lower[a], lower[b])}, "
                    f"{min(upper[a], upper[b])}) and share addresses "
                    f"[{max(offsets[a], offsets[b])}, {min(top[a], top[b])})"
                )
        active.append(int(i))
    return errors


def packing_height(size, offsets) -> int:
    """Peak address used by a packing: the largest ``offset + size`` (0 with no buffers)."""
    size = np.asarray(size, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64)
    return int((offsets + size).max()) if len(size) else 0


def greedy_best_fit(lower, upper, size) -> np.ndarray:
    """Greedy heap without a capacity: buffers by decreasing size, each at the lowest free offset.

    This is the classic baseline (XLA's default heap also sorts by decreasing size); the result is
    always valid and its height is an upper bound on the optimum.
    """
    lower = _as_int_array(lower, "lower")
    upper = _as_int_array(upper, "upper")
    size = _as_int_array(size, "size")
    _check_problem(lower, upper, size, 0)
    n = len(size)
    offsets = np.zeros(n, dtype=np.int64)
    order = np.lexsort((lower, -(upper - lower), -size))
    placed: list[int] = []
    for i in order:
        if size[i] == 0 or upper[i] <= lower[i]:
            continue
        busy = sorted(
            (offsets[j], offsets[j] + size[j]) for j in placed if lower[j] < upper[i] and lower[i] < upper[j]
        )
        candidate = 0
        for start, end in busy:
            if start - candidate >= size[i]:
                break
            candidate = max(candidate, end)
        offsets[i] = candidate
        placed.append(int(i))
    return offsets


# --------------------------------------------------------------------------------------------
# Search core (compiled with numba)


# The compiled core returns plain ints (numba's cache cannot reload recursive functions typed
# with enum members); these are the values of :class:`Status`, nothing else.
_FIT = int(Status.FIT)
_NO_FIT = int(Status.NO_FIT)
_BUDGET = int(Status.BUDGET)
_TIMEOUT = int(Status.TIMEOUT)


class _Search(NamedTuple):
    """Everything the search reads and changes, bundled (arrays by buffer ``b`` or section ``s``).

    ``budget[0]`` counts the nodes still allowed in this restart, ``nodes[0]`` those visited.
    Changes to ``minoff`` and ``floor`` go on a trail of (kind, index, old value) so that
    backtracking restores them; placing and removing a buffer is undone directly.
    """

    capacity: int
    deadline: float  # process CPU time at which to stop
    heuristic: np.ndarray  # key codes of the static order (see _preorder)
    size: np.ndarray  # [n] bytes
    width: np.ndarray  # [n] lifetime (upper - lower)
    sa: np.ndarray  # [n] first section of the buffer
    sb: np.ndarray  # [n] one past its last section
    ovl_ptr: np.ndarray  # [n + 1] CSR: buffers sharing a section with b
    ovl: np.ndarray
    sec_ptr: np.ndarray  # [S + 1] CSR: buffers live in section s
    sec: np.ndarray
    offset: np.ndarray  # [n] current offset, -1 while unplaced
    solution: np.ndarray  # [n] offsets of the last complete packing of each sub-problem
    minoff: np.ndarray  # [n] lowest offset b can still take
    floor: np.ndarray  # [S] lowest offset any unplaced buffer of s can take
    total: np.ndarray  # [S] bytes of the unplaced buffers live in s
    cuts: np.ndarray  # [S] unplaced buffers live in both s and s + 1 (0: independent sides)
    trail_kind: np.ndarray
    trail_idx: np.ndarray
    trail_old: np.ndarray
    trail_top: np.ndarray  # [1]
    budget: np.ndarray  # [1]
    nodes: np.ndarray  # [1]
    stamp: np.ndarray  # [S] last placement that re-checked the section's floor
    tick: np.ndarray  # [1] placements so far (the stamp of the current one)


_TRAIL_MINOFF = 0
_TRAIL_FLOOR = 1
_CLOCK_EVERY = 1024  # nodes between deadline checks (a clock read leaves compiled code)


@numba.njit(cache=True)
def _clock() -> float:
    with numba.objmode(now="float64"):
        now = time.process_time()
    return now


@numba.njit(cache=True)
def _record(st, kind, idx, old):
    t = st.trail_top[0]
    st.trail_kind[t] = kind
    st.trail_idx[t] = idx
    st.trail_old[t] = old
    st.trail_top[0] = t + 1


@numba.njit(cache=True)
def _undo(st, mark):
    t = st.trail_top[0]
    while t > mark:
        t -= 1
        if st.trail_kind[t] == _TRAIL_MINOFF:
            st.minoff[st.trail_idx[t]] = st.trail_old[t]
        else:
            st.floor[st.trail_idx[t]] = st.trail_old[t]
    st.trail_top[0] = mark


@numba.njit(cache=True)
def _place(st, b, off):
    """Put ``b`` at ``off``: raise the floors of its sections and the minimum offsets (and the
    floors they imply) of the unplaced buffers it overlaps."""
    top = off + st.size[b]
    st.offset[b] = off
    for s in range(st.sa[b], st.sb[b]):
        _record(st, _TRAIL_FLOOR, s, st.floor[s])
        st.floor[s] = top
        st.total[s] -= st.size[b]
    for s in range(st.sa[b], st.sb[b] - 1):
        st.cuts[s] -= 1
    st.tick[0] += 1
    tick = st.tick[0]
    for k in range(st.ovl_ptr[b], st.ovl_ptr[b + 1]):
        c = st.ovl[k]
        if st.offset[c] < 0 and st.minoff[c] < top:
            _record(st, _TRAIL_MINOFF, c, st.minoff[c])
            st.minoff[c] = top
    # A section's floor is at least the lowest minimum offset of its unplaced buffers: re-check
    # (once each) the sections of the buffers that were just raised.
    for k in range(st.ovl_ptr[b], st.ovl_ptr[b + 1]):
        c = st.ovl[k]
        if st.offset[c] >= 0 or st.minoff[c] != top:
            continue
        for s in range(st.sa[c], st.sb[c]):
            if st.stamp[s] == tick or st.floor[s] >= top:
                continue
            st.stamp[s] = tick
            low = top
            for j in range(st.sec_ptr[s], st.sec_ptr[s + 1]):
                d = st.sec[j]
                if st.offset[d] < 0 and st.minoff[d] < low:
                    low = st.minoff[d]
                    if low <= st.floor[s]:
                        break  # the floor stays: stop looking
            if low > st.floor[s]:
                _record(st, _TRAIL_FLOOR, s, st.floor[s])
                st.floor[s] = low


@numba.njit(cache=True)
def _remove(st, b):
    for s in range(st.sa[b], st.sb[b]):
        st.total[s] += st.size[b]
    for s in range(st.sa[b], st.sb[b] - 1):
        st.cuts[s] += 1
    st.offset[b] = -1


@numba.njit(cache=True)
def _feasible(st, lo, hi, off):
    """Section inference: every section of [lo, hi) can still hold its unplaced bytes."""
    for s in range(lo, hi):
        if st.total[s] > 0 and max(st.floor[s], off) + st.total[s] > st.capacity:
            return False
    return True


@numba.njit(cache=True)
def _search(st, bufs, lo, hi, min_off, min_rank):  # noqa: C901 - numba-compiled inner search: one function keeps the recursion's hot path free of calls
    """Place every unplaced buffer of ``bufs`` (rank-ordered; sections ``[lo, hi)``).

    Returns a :class:`Status` value; the state is unchanged on return, and on ``FIT`` the offsets are in
    ``st.solution``. Candidates must not precede ``(min_off, min_rank)`` (canonical order).
    """
    if st.budget[0] <= 0:
        return _BUDGET
    st.budget[0] -= 1
    st.nodes[0] += 1
    if st.nodes[0] % _CLOCK_EVERY == 0 and _clock() > st.deadline:
        return _TIMEOUT
    m = 0
    for b in bufs:
        if st.offset[b] < 0:
            m += 1
    if m == 0:
        for b in bufs:
            st.solution[b] = st.offset[b]
        return _FIT
    # Candidates by (minimum offset, rank); a buffer's rank is its position in ``bufs``.
    todo = np.empty(m, dtype=np.int64)
    key = np.empty(m, dtype=np.int64)
    stride = bufs.shape[0] + 1
    min_top = st.capacity + 1
    j = 0
    for rank in range(bufs.shape[0]):
        b = bufs[rank]
        if st.offset[b] < 0:
            todo[j] = rank
            key[j] = st.minoff[b] * stride + rank
            min_top = min(min_top, st.minoff[b] + st.size[b])
            j += 1
    order = np.argsort(key)
    for i in order:
        rank = todo[i]
        b = bufs[rank]
        off = st.minoff[b]
        if off < min_off or (off == min_off and rank < min_rank):
            continue  # not canonical: reached in another order
        if off >= min_top:
            continue  # dominated: leaves a gap another buffer could fill
        if off + st.size[b] > st.capacity:
            continue
        mark = st.trail_top[0]
        _place(st, b, off)
        status = _NO_FIT
        if _feasible(st, lo, hi, off):
            # Where no unplaced buffer crosses a boundary of b's span any more, the sides are
            # independent: solve them one after the other (MiniMalloc's dynamic decomposition).
            split = False
            for s in range(max(st.sa[b], lo), min(st.sb[b], hi) - 1):
                if st.cuts[s] == 0:
                    split = True
            if not split:
                status = _search(st, bufs, lo, hi, off, rank)
            else:
                status = _FIT
                a = lo
                while a < hi and status == _FIT:
                    e = a + 1
                    while e < hi and st.cuts[e - 1] > 0:
                        e += 1
                    sub = _preorder(st, _unplaced_in(st, bufs, a, e))
                    if len(sub):
                        status = _search(st, sub, a, e, np.int64(0), np.int64(-1))
                    a = e
                if status == _FIT:
                    for c in bufs:
                        if st.offset[c] >= 0:
                            st.solution[c] = st.offset[c]
        _undo(st, mark)
        _remove(st, b)
        if status != _NO_FIT:
            return status
    return _NO_FIT


@numba.njit(cache=True)
def _preorder(st, bufs):
    """``bufs`` in the static order of a sub-problem: by each key of ``st.heuristic`` in turn,
    decreasing (0 lifetime, 1 area, 2 unplaced bytes of the busiest section the buffer lives in,
    as of now), ties by buffer id."""
    n = bufs.shape[0]
    out = bufs.copy()
    key = np.empty(n, dtype=np.int64)
    for h in range(st.heuristic.shape[0] - 1, -1, -1):  # stable sorts, least important key first
        for i in range(n):
            b = out[i]
            code = st.heuristic[h]
            if code == 0:
                key[i] = -st.width[b]
            elif code == 1:
                key[i] = -st.width[b] * st.size[b]
            else:
                busiest = 0
                for s in range(st.sa[b], st.sb[b]):
                    busiest = max(busiest, st.total[s])
                key[i] = -busiest
        order = np.argsort(key, kind="mergesort")
        out = out[order]
    return out


@numba.njit(cache=True)
def _unplaced_in(st, bufs, a, e):
    """The unplaced buffers of ``bufs`` live in some section of ``[a, e)``, in id order."""
    n_sub = 0
    for c in bufs:
        if st.offset[c] < 0 and st.sa[c] < e and a < st.sb[c]:
            n_sub += 1
    sub = np.empty(n_sub, dtype=np.int64)
    j = 0
    for c in bufs:
        if st.offset[c] < 0 and st.sa[c] < e and a < st.sb[c]:
            sub[j] = c
            j += 1
    return np.sort(sub)


# --------------------------------------------------------------------------------------------
# Driver

#: Static orders tried round-robin, as MiniMalloc's ``WAT``, ``TAW`` and ``TWA``: each letter a
#: decreasing key, W = lifetime, A = area (size x lifetime), T = unplaced bytes of the busiest
#: section the buffer lives in (see :func:`_preorder`).
_PREORDERS = ("WAT", "TAW", "TWA")
_KEY_CODE = {"W": 0, "A": 1, "T": 2}


class _Instance:
    """Sections and overlaps of one packing problem (built once, shared by every restart)."""

    def __init__(self, lo: np.ndarray, up: np.ndarray, sz: np.ndarray, capacity: int):
        self.capacity = int(capacity)
        points = np.unique(np.concatenate([lo, up]))
        sa = np.searchsorted(points, lo).astype(np.int64)
        sb = np.searchsorted(points, up).astype(np.int64)
        n, ns = len(sz), max(len(points) - 1, 1)
        live = np.zeros((n, ns), dtype=bool)
        for b in range(n):
            live[b, sa[b]:sb[b]] = True
        ovl = (sa[:, None] < sb[None, :]) & (sa[None, :] < sb[:, None])
        np.fill_diagonal(ovl, False)
        cuts = np.zeros(ns, dtype=np.int64)
        for b in range(n):
            cuts[sa[b]:sb[b] - 1] += 1
        self.arrays = dict(
            size=sz.astype(np.int64), width=(up - lo).astype(np.int64), sa=sa, sb=sb,
            ovl_ptr=np.concatenate([[0], np.cumsum(ovl.sum(1))]).astype(np.int64),
            ovl=np.nonzero(ovl)[1].astype(np.int64),
            sec_ptr=np.concatenate([[0], np.cumsum(live.sum(0))]).astype(np.int64),
            sec=np.nonzero(live.T)[1].astype(np.int64),
            total=(sz.astype(np.int64) @ live).astype(np.int64), cuts=cuts,
        )
        self.n, self.n_sections = n, ns

    def state(self, heuristic: str, deadline: float, budget: int) -> _Search:
        """A fresh search state (nothing placed) for one restart."""
        n, ns = self.n, self.n_sections
        trail = n * (2 * ns + n) + 16  # each placement records at most 2 floors per section + n
        a = self.arrays
        return _Search(
            capacity=self.capacity, deadline=float(deadline),
            heuristic=np.array([_KEY_CODE[c] for c in heuristic], dtype=np.int64),
            size=a["size"], width=a["width"], sa=a["sa"], sb=a["sb"], ovl_ptr=a["ovl_ptr"],
            ovl=a["ovl"], sec_ptr=a["sec_ptr"], sec=a["sec"],
            offset=np.full(n, -1, dtype=np.int64), solution=np.full(n, -1, dtype=np.int64),
            minoff=np.zeros(n, dtype=np.int64), floor=np.zeros(ns, dtype=np.int64),
            total=a["total"].copy(), cuts=a["cuts"].copy(),
            trail_kind=np.zeros(trail, dtype=np.int8), trail_idx=np.zeros(trail, dtype=np.int64),
            trail_old=np.zeros(trail, dtype=np.int64), trail_top=np.zeros(1, dtype=np.int64),
            budget=np.array([budget], dtype=np.int64), nodes=np.zeros(1, dtype=np.int64),
            stamp=np.zeros(ns, dtype=np.int64), tick=np.zeros(1, dtype=np.int64),
        )


def _solve_components(st: _Search) -> Status:
    """Solve each independent stretch of sections (no buffer crosses between them) in turn."""
    n_sec = len(st.floor)
    everyone = np.arange(len(st.size), dtype=np.int64)
    a = 0
    while a < n_sec:
        e = a + 1
        while e < n_sec and st.cuts[e - 1] > 0:
            e += 1
        members = _preorder(st, everyone[(st.sa < e) & (st.sb > a)])
        if len(members):
            status = Status(_search(st, members, np.int64(a), np.int64(e), np.int64(0), np.int64(-1)))
            if status != Status.FIT:
                return status
        a = e
    return Status.FIT


def pack(lower, upper, size, capacity: int, *, time_limit: float = 60.0, seed: int = 0) -> PackingResult:
    """Find offsets that pack every buffer below ``capacity``, or prove that none exist.

    ``lower``, ``upper`` (half-open live intervals) and ``size`` are integer arrays of equal
    length. The search stops after ``time_limit`` seconds of CPU time of this process with status
    ``"timeout"`` (CPU time, so that a busy machine does not change the answer much). ``seed`` is
    accepted for compatibility and unused: the search is deterministic.
    """
    del seed
    _compile_once()
    t0 = time.perf_counter()
    c0 = time.process_time()
    lower = _as_int_array(lower, "lower")
    upper = _as_int_array(upper, "upper")
    size = _as_int_array(size, "size")
    capacity = int(capacity)
    _check_problem(lower, upper, size, capacity)
    n = len(size)

    def finish(offsets, status: Status, nodes: int) -> PackingResult:
        if offsets is not None:
            height = packing_height(size, offsets)
        else:
            height = packing_height(size, greedy_best_fit(lower, upper, size)) if n else 0
        return PackingResult(offsets, height, _STATUS_NAME[status], time.perf_counter() - t0, nodes,
                             time.process_time() - c0)

    real = np.flatnonzero((size > 0) & (upper > lower))
    offsets = np.zeros(n, dtype=np.int64)
    if np.any(size > capacity):
        return finish(None, Status.NO_FIT, 0)
    if real.size == 0:
        return finish(offsets, Status.FIT, 0)
    inst = _Instance(lower[real], upper[real], size[real], capacity)
    deadline = c0 + float(time_limit)
    budget = len(real)
    nodes = 0
    while True:
        budget *= 2
        for heuristic in _PREORDERS:
            st = inst.state(heuristic, deadline, budget)
            status = _run_with_big_stack(_solve_components, st)
            nodes += int(st.nodes[0])
            if status == Status.FIT:
                offsets[real] = st.solution
                return finish(offsets, status, nodes)
            if status in (Status.NO_FIT, Status.TIMEOUT):
                return finish(None, status, nodes)


_COMPILED = threading.Event()


def _compile_once() -> None:
    """Compile (or load from numba's cache) the search before any clock starts, by solving a
    two-buffer problem, so that compilation never eats a caller's time limit."""
    if not _COMPILED.is_set():
        inst = _Instance(np.array([0, 1]), np.array([2, 3]), np.array([1, 1]), 2)
        _run_with_big_stack(_solve_components, inst.state(_PREORDERS[0], np.inf, 100))
        _COMPILED.set()


_STATUS_NAME = {Status.FIT: "fit", Status.NO_FIT: "no-fit", Status.TIMEOUT: "timeout"}


def _run_with_big_stack(fn, *args):
    """Call ``fn(*args)`` in a thread with a large stack: the search recurses once per decision."""
    box: list = []
    errors: list = []

    def target():
        try:
            box.append(fn(*args))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    old = threading.stack_size()
    threading.stack_size(256 * 1024 * 1024)
    try:
        worker = threading.Thread(target=target, name="packing-search")
        worker.start()
    finally:
        threading.stack_size(old)
    worker.join()
    if errors:
        raise errors[0]
    return box[0]
