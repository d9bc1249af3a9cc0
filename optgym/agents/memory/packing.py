"""Exact search for buffer packing (dynamic storage allocation) in the spirit of MiniMalloc.

Each buffer has a fixed half-open live interval ``[lower, upper)`` and a size; the search gives
every buffer an offset so that ``offset + size <= capacity`` and buffers that are live at the same
time never share an address. The problem is NP-hard; the search below is a depth-first branch and
bound over *canonical* solutions (Moffitt, "MiniMalloc", ASPLOS 2023):

* Time is cut into *sections* at the buffers' endpoints. Every section has a *floor*: the height
  below which nothing more can go. Buffers are placed in non-decreasing order of offset, always
  at the lowest floor ``F`` among sections that still have unplaced buffers, so every placed
  buffer rests on the floor of all its sections (no gaps under it, which is what makes a
  solution canonical; any feasible packing can be pushed down into one of these).
* At the branching section the choices are: which of its unplaced buffers starts at ``F``
  (only buffers whose whole span is at ``F`` can), or that none does, which raises that
  section's floor to the next height where anything could still start (wasting the space).
  Trying every choice is complete, so an exhausted search proves that nothing fits.
* Spatial inference prunes a node when, in some section, the unplaced buffers cannot fit
  between the lowest offset any of them can still take and the capacity.
* Dominance: identical buffers (same interval and size) are interchangeable, so only the first
  unplaced one of each group is tried.

The search core is written in the subset of Python that numba compiles; with numba installed it
runs compiled (fast), without it it runs as plain Python (same answers, far slower).
"""

from __future__ import annotations

import csv
import os
import re
import threading
import time
from dataclasses import dataclass

import numpy as np

from optgym.errors import BenchmarkError

try:  # numba is optional: the same search code runs interpreted without it
    import numba

    _HAVE_NUMBA = True
except ImportError:  # pragma: no cover - depends on the environment
    numba = None
    _HAVE_NUMBA = False

__all__ = [
    "PackingResult",
    "greedy_best_fit",
    "load_minimalloc_csv",
    "pack",
    "packing_height",
    "validate_packing",
]

# Status codes returned by the search core.
_FIT = 1
_NOFIT = 2
_BUDGET = 3
_OVERFLOW = 4


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
# Search core (numba-compatible: arrays, scalars and loops only)
#
# State arrays, all indexed by section s or by buffer b:
#   floor[s]  height below which section s is full (placed buffers or space given up)
#   rem[s]    total size of the unplaced buffers live in s;  cnt[s]: how many there are
#   cross[s]  unplaced buffers live in both s - 1 and s (0 means the problem splits there)
#   minoff[b] lowest offset unplaced buffer b can still take: the highest floor under its span
# Every change goes on a trail (kind, index, old value) so that backtracking can undo it.

_T_PLACE = 0
_T_FLOOR = 1
_T_MINOFF = 2


def _clock_py() -> float:
    return time.perf_counter()


if _HAVE_NUMBA:

    @numba.njit(cache=True)
    def _clock() -> float:
        with numba.objmode(now="float64"):
            now = time.perf_counter()
        return now

else:  # pragma: no cover - depends on the environment
    _clock = _clock_py


def _push(tk, tb, tv, tctrl, kind, idx, old):
    t = tctrl[0]
    if t >= tk.shape[0]:
        tctrl[1] = 1  # overflow: reported as an error by the driver
        return
    tk[t] = kind
    tb[t] = idx
    tv[t] = old
    tctrl[0] = t + 1


def _undo_to(mark, sa, sb, size, floor, rem, cnt, cross, placed, offset, minoff, tk, tb, tv, tctrl):
    t = tctrl[0]
    while t > mark:
        t -= 1
        kind = tk[t]
        b = tb[t]
        if kind == _T_PLACE:
            f = offset[b]
            for s in range(sa[b], sb[b]):
                floor[s] = f
                rem[s] += size[b]
                cnt[s] += 1
            for s in range(sa[b] + 1, sb[b]):
                cross[s] += 1
            placed[b] = 0
        elif kind == _T_FLOOR:
            floor[b] = tv[t]
        else:
            minoff[b] = tv[t]
    tctrl[0] = mark


def _sections_ok(lo, hi, cap, size, live_ptr, live_idx, rem, cnt, placed, minoff, work):
    """Spatial inference on sections lo..hi-1.

    In a section, the unplaced buffers whose lowest possible offset is at least ``v`` must all
    fit between ``v`` and the capacity, for every such ``v`` (a release-date bound; ``v`` = the
    lowest one gives: all of them above the lowest offset any can take).
    """
    nw = work.shape[0]
    for s in range(lo, hi):
        if cnt[s] == 0:
            continue
        nd = 0
        low = cap
        for k in range(live_ptr[s], live_ptr[s + 1]):
            c = live_idx[k]
            if placed[c] == 0:
                m = minoff[c]
                if m < low:
                    low = m
                seen = False
                for j in range(nd):
                    if work[j] == m:
                        seen = True
                        break
                if not seen and nd < nw:
                    work[nd] = m
                    nd += 1
        if low + rem[s] > cap:
            return False
        if nd > 1:
            for j in range(nd):
                v = work[j]
                if v == low:
                    continue
                total = v
                for k in range(live_ptr[s], live_ptr[s + 1]):
                    c = live_idx[k]
                    if placed[c] == 0 and minoff[c] >= v:
                        total += size[c]
                if total > cap:
                    return False
    return True


def _raise_minoffs(lo, hi, level, cap, sa, sb, size, live_ptr, live_idx, placed, minoff, tk, tb, tv, tctrl, reg):
    """Raise the lowest possible offset of unplaced buffers live in sections lo..hi-1 to
    ``level``; widen ``reg`` to the sections they span; False if one no longer fits."""
    ok = True
    for s in range(lo, hi):
        for k in range(live_ptr[s], live_ptr[s + 1]):
            c = live_idx[k]
            if placed[c] == 0 and minoff[c] < level:
                _push(tk, tb, tv, tctrl, _T_MINOFF, c, minoff[c])
                minoff[c] = level
                if level + size[c] > cap:
                    ok = False
                if sa[c] < reg[0]:
                    reg[0] = sa[c]
                if sb[c] > reg[1]:
                    reg[1] = sb[c]
    return ok


def _component_end(a, hi, cross):
    """End (exclusive) of the independent component starting at section ``a``: the first later
    section that no unplaced buffer crosses into."""
    s = a + 1
    while s < hi and cross[s] > 0:
        s += 1
    return s


def _solve(lo, hi, cap, sa, sb, size, twin, live_ptr, live_idx, floor, rem, cnt, cross, placed, offset,
           minoff, tk, tb, tv, tctrl, reg, work, stats, deadline, rule):
    """Place every unplaced buffer of sections lo..hi-1: 1 done, 0 impossible, -1 out of time.

    Independent parts (no unplaced buffer crosses between them) are solved one after the other,
    so a failure in one never re-opens choices made in another.
    """
    mark = tctrl[0]
    # Split into independent components: count them, remembering the first.
    ncomp = 0
    a0 = -1
    e0 = -1
    s = lo
    while s < hi:
        if cnt[s] == 0:
            s += 1
            continue
        e = _component_end(s, hi, cross)
        if ncomp == 0:
            a0 = s
            e0 = e
        ncomp += 1
        s = e
    if ncomp == 0:
        return 1
    if ncomp > 1:
        s = lo
        while s < hi:
            if cnt[s] == 0:
                s += 1
                continue
            e = _component_end(s, hi, cross)
            r = _solve(s, e, cap, sa, sb, size, twin, live_ptr, live_idx, floor, rem, cnt, cross, placed,
                       offset, minoff, tk, tb, tv, tctrl, reg, work, stats, deadline, rule)
            if r != 1:
                _undo_to(mark, sa, sb, size, floor, rem, cnt, cross, placed, offset, minoff, tk, tb, tv, tctrl)
                return r
            s = e
        return 1
    lo = a0
    hi = e0
    # Branch at the lowest floor; among sections there, the one with the least slack.
    f = cap + 1
    best = -1
    bslack = cap + 1
    for s in range(lo, hi):
        fs = floor[s]
        if rule == 0:
            slack = cap - fs - rem[s]
        elif rule == 1:
            slack = s
        elif rule == 2:
            slack = 0
            if fs <= f:
                for k in range(live_ptr[s], live_ptr[s + 1]):
                    c = live_idx[k]
                    if placed[c] == 0 and minoff[c] == fs:
                        slack += 1
        else:
            slack = -rem[s]
        if fs < f or (fs == f and slack < bslack):
            f = fs
            best = s
            bslack = slack
    sec = best
    # Height to raise the section to if nothing starts at f there: the next height where any of
    # its buffers could start (its lowest possible offset, a higher floor = the top of a placed
    # buffer, or the top of a buffer still to be placed).
    raise_to = cap + 1
    any_at_floor = False
    for k in range(live_ptr[sec], live_ptr[sec + 1]):
        c = live_idx[k]
        if placed[c] == 0:
            if minoff[c] > f:
                if minoff[c] < raise_to:
                    raise_to = minoff[c]
            else:
                any_at_floor = True
    if any_at_floor:
        min_size = cap + 1
        for s in range(lo, hi):
            if floor[s] > f and floor[s] < raise_to:
                raise_to = floor[s]
            for k in range(live_ptr[s], live_ptr[s + 1]):
                c = live_idx[k]
                if placed[c] == 0 and size[c] < min_size:
                    min_size = size[c]
        if f + min_size < raise_to:
            raise_to = f + min_size
    for k in range(live_ptr[sec], live_ptr[sec + 1] + 1):
        if k < live_ptr[sec + 1]:
            b = live_idx[k]
            if placed[b] != 0 or minoff[b] != f or f + size[b] > cap:
                continue
            if twin[b] >= 0 and placed[twin[b]] == 0:
                continue
            # Place b at f: every section of its span is at f.
            _push(tk, tb, tv, tctrl, _T_PLACE, b, 0)
            top = f + size[b]
            offset[b] = f
            placed[b] = 1
            for s in range(sa[b], sb[b]):
                floor[s] = top
                rem[s] -= size[b]
                cnt[s] -= 1
            for s in range(sa[b] + 1, sb[b]):
                cross[s] -= 1
            reg[0] = sa[b]
            reg[1] = sb[b]
            ok = _raise_minoffs(sa[b], sb[b], top, cap, sa, sb, size, live_ptr, live_idx, placed, minoff,
                                tk, tb, tv, tctrl, reg)
        else:
            if raise_to + rem[sec] > cap:
                break
            _push(tk, tb, tv, tctrl, _T_FLOOR, sec, floor[sec])
            floor[sec] = raise_to
            reg[0] = sec
            reg[1] = sec + 1
            ok = _raise_minoffs(sec, sec + 1, raise_to, cap, sa, sb, size, live_ptr, live_idx, placed, minoff,
                                tk, tb, tv, tctrl, reg)
        stats[0] += 1
        if tctrl[1] != 0:
            return -1
        if ok:
            ok = _sections_ok(reg[0], reg[1], cap, size, live_ptr, live_idx, rem, cnt, placed, minoff, work)
        if ok:
            if stats[0] >= stats[2] or ((stats[0] & 4095) == 0 and _clock() > deadline):
                stats[1] = 1
                _undo_to(mark, sa, sb, size, floor, rem, cnt, cross, placed, offset, minoff, tk, tb, tv, tctrl)
                return -1
            r = _solve(lo, hi, cap, sa, sb, size, twin, live_ptr, live_idx, floor, rem, cnt, cross, placed,
                       offset, minoff, tk, tb, tv, tctrl, reg, work, stats, deadline, rule)
            if r == 1:
                return 1
            if r < 0:
                _undo_to(mark, sa, sb, size, floor, rem, cnt, cross, placed, offset, minoff, tk, tb, tv, tctrl)
                return r
        _undo_to(mark, sa, sb, size, floor, rem, cnt, cross, placed, offset, minoff, tk, tb, tv, tctrl)
    return 0


if _HAVE_NUMBA:
    _push = numba.njit(cache=True)(_push)
    _undo_to = numba.njit(cache=True)(_undo_to)
    _sections_ok = numba.njit(cache=True)(_sections_ok)
    _raise_minoffs = numba.njit(cache=True)(_raise_minoffs)
    _component_end = numba.njit(cache=True)(_component_end)
    _solve = numba.njit(cache=True)(_solve)


# --------------------------------------------------------------------------------------------
# Driver


# Branching rules for the section to branch on (among those at the lowest floor).
_RULE_SLACK = 0  # least slack (capacity - floor - remaining size)
_RULE_LEFT = 1  # leftmost
_RULE_FEWEST = 2  # fewest buffers that can start at the floor (fail first)
_RULE_BUSIEST = 3  # most remaining size

# Portfolio of (section rule, candidate order). The search is heavy-tailed: each configuration
# solves some problems at once and wanders on others, so the driver runs them in turn with
# growing time slices (restarts) instead of trusting any single one.
_PORTFOLIO = [
    (_RULE_FEWEST, 1), (_RULE_SLACK, 0), (_RULE_FEWEST, 2), (_RULE_FEWEST, 0),
    (_RULE_BUSIEST, 2), (_RULE_LEFT, 1), (_RULE_SLACK, 2), (_RULE_BUSIEST, 0),
    (_RULE_FEWEST, 3), (_RULE_SLACK, 3), (_RULE_BUSIEST, 1), (_RULE_SLACK, 1),
]


def _candidate_order(order: int, lower, upper, size, sa, sb, rng: np.random.Generator | None) -> np.ndarray:
    """Rank of each buffer in the order candidates are tried (lower rank first).

    0: longest-lived, then largest; 1: largest, then longest-lived; 2: largest area (size times
    lifetime); 3: most sections, then largest; with ``rng``: a random blend of lifetime and size.
    """
    n = len(size)
    life = (upper - lower).astype(np.float64)
    if rng is not None:
        alpha = rng.uniform(0.0, 1.0)
        key = alpha * np.log(life) + (1.0 - alpha) * np.log(size.astype(np.float64))
        key = key + rng.normal(0.0, 0.1, n)
        order_ = np.argsort(-key, kind="stable")
    elif order == 0:
        order_ = np.lexsort((np.arange(n), -size, -(upper - lower)))
    elif order == 1:
        order_ = np.lexsort((np.arange(n), -(upper - lower), -size))
    elif order == 2:
        order_ = np.lexsort((np.arange(n), -size, -life * size))
    else:
        order_ = np.lexsort((np.arange(n), -size, -(sb - sa)))
    rank = np.empty(n, dtype=np.int64)
    rank[order_] = np.arange(n)
    return rank


def pack(lower, upper, size, capacity: int, *, time_limit: float = 60.0, seed: int = 0) -> PackingResult:
    """Find offsets that pack every buffer below ``capacity``, or prove that none exist.

    ``lower``, ``upper`` (half-open live intervals) and ``size`` are integer arrays of equal
    length. The search stops after ``time_limit`` seconds with status ``"timeout"``; ``seed``
    drives the randomized restarts that follow the fixed configurations.
    """
    t0 = time.perf_counter()
    lower = _as_int_array(lower, "lower")
    upper = _as_int_array(upper, "upper")
    size = _as_int_array(size, "size")
    capacity = int(capacity)
    _check_problem(lower, upper, size, capacity)
    n = len(size)

    def finish(offsets, status, nodes):
        if offsets is not None:
            height = packing_height(size, offsets)
        else:
            height = packing_height(size, greedy_best_fit(lower, upper, size)) if n else 0
        return PackingResult(offsets, height, status, time.perf_counter() - t0, nodes)

    real = np.flatnonzero((size > 0) & (upper > lower))
    offsets = np.zeros(n, dtype=np.int64)
    if np.any(size > capacity):
        return finish(None, "no-fit", 0)
    if real.size == 0:
        return finish(offsets, "fit", 0)
    lo, up, sz = lower[real], upper[real], size[real]
    points = np.unique(np.concatenate([lo, up]))
    sa = np.searchsorted(points, lo).astype(np.int64)
    sb = np.searchsorted(points, up).astype(np.int64)
    rng = np.random.default_rng(seed)
    nodes = 0
    slice_ = 20000
    attempt = 0
    while True:
        configs = _PORTFOLIO if attempt == 0 else _PORTFOLIO[:4] + [(_RULE_FEWEST, -1), (_RULE_SLACK, -1)]
        for rule, order in configs:
            left = t0 + float(time_limit) - time.perf_counter()
            if left <= 0:
                return finish(None, "timeout", nodes)
            rank = _candidate_order(order, lo, up, sz, sa, sb, rng if order < 0 else None)
            code, sub, used = _attempt(capacity, sa, sb, sz, lo, up, rank, rule, left, slice_)
            nodes += used
            if code == 1:
                offsets[real] = sub
                return finish(offsets, "fit", nodes)
            if code == 0:
                return finish(None, "no-fit", nodes)
        attempt += 1
        slice_ *= 2


def _attempt(capacity, sa, sb, sz, lo, up, rank, rule, seconds, node_limit):
    """One complete search with a fixed configuration, cut off after ``seconds`` or
    ``node_limit`` nodes (node slices keep the restart schedule independent of machine load).

    Returns ``(code, offsets, nodes)``: code 1 fit, 0 proven no-fit, -1 out of time.
    """
    t0 = time.perf_counter()
    m = len(sz)
    num_sec = int(sb.max())
    # Buffers live in each section, in candidate order (CSR layout).
    secs = np.repeat(np.arange(m), sb - sa)
    sec_of = np.concatenate([np.arange(sa[b], sb[b]) for b in range(m)])
    order_ = np.lexsort((rank[secs], sec_of))
    live_idx = secs[order_].astype(np.int64)
    live_ptr = np.zeros(num_sec + 1, dtype=np.int64)
    live_ptr[1:] = np.cumsum(np.bincount(sec_of, minlength=num_sec))
    # twin[b]: the previous buffer (in candidate order) identical to b, or -1.
    twin = np.full(m, -1, dtype=np.int64)
    seen: dict[tuple[int, int, int], int] = {}
    for b in np.argsort(rank, kind="stable"):
        key = (int(lo[b]), int(up[b]), int(sz[b]))
        if key in seen:
            twin[b] = seen[key]
        seen[key] = int(b)
    floor = np.zeros(num_sec, dtype=np.int64)
    rem = np.zeros(num_sec, dtype=np.int64)
    cnt = np.zeros(num_sec, dtype=np.int64)
    cross = np.zeros(num_sec, dtype=np.int64)
    for b in range(m):
        rem[sa[b]:sb[b]] += sz[b]
        cnt[sa[b]:sb[b]] += 1
        cross[sa[b] + 1:sb[b]] += 1
    placed = np.zeros(m, dtype=np.int8)
    sub_offsets = np.zeros(m, dtype=np.int64)
    minoff = np.zeros(m, dtype=np.int64)
    trail = 1 << 22
    tk = np.zeros(trail, dtype=np.int8)
    tb = np.zeros(trail, dtype=np.int64)
    tv = np.zeros(trail, dtype=np.int64)
    tctrl = np.zeros(2, dtype=np.int64)
    reg = np.zeros(2, dtype=np.int64)
    work = np.zeros(64, dtype=np.int64)
    stats = np.zeros(3, dtype=np.int64)
    stats[2] = node_limit
    deadline = t0 + float(seconds)
    code = _run_with_big_stack(
        _solve, 0, num_sec, capacity, sa, sb, sz, twin, live_ptr, live_idx, floor, rem, cnt, cross, placed,
        sub_offsets, minoff, tk, tb, tv, tctrl, reg, work, stats, deadline, rule,
    )
    if tctrl[1] != 0:
        raise RuntimeError("packing search overflowed its undo trail; this is a bug")
    return int(code), sub_offsets, int(stats[0])


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
    threading.stack_size(512 * 1024 * 1024)
    try:
        worker = threading.Thread(target=target, name="packing-search")
        worker.start()
    finally:
        threading.stack_size(old)
    worker.join()
    if errors:
        raise errors[0]
    return box[0]
