"""Free-gap geometry of a partial placement: what space is free in fast memory over a live interval.

Shared by the environments (candidate offsets, occupancy features) and the heuristics (best fit).
"""

from __future__ import annotations

import numba
import numpy as np

from optgym.memory.problem import MemoryProblem


@numba.njit(cache=True)
def _best_fit(offset, lo, hi, size, b, qlo, qhi, capacity):
    """The start of the smallest free gap (lowest on ties) that holds ``b`` over ``[qlo, qhi)``
    among the placed buffers, -1 if none (compiled: the baselines and rollouts call it a lot)."""
    n = offset.shape[0]
    offs = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    k = 0
    for j in range(n):
        if j != b and offset[j] >= 0 and lo[j] < qhi and hi[j] > qlo:
            offs[k] = offset[j]
            ends[k] = offset[j] + size[j]
            k += 1
    need = size[b]
    if k == 0:
        return 0 if need <= capacity else -1
    order = np.argsort(offs[:k])
    best, best_len = -1, -1
    top = 0
    for q in range(k):
        j = order[q]
        start, stop = top, offs[j]
        if stop - start >= need and (best < 0 or stop - start < best_len):
            best, best_len = start, stop - start
        if ends[j] > top:
            top = ends[j]
    stop = max(capacity, top)
    if stop - top >= need and (best < 0 or stop - top < best_len):
        best = top
    return best


class Placement:
    """A partial placement: ``offset[b] >= 0`` when buffer ``b`` is placed in fast memory, over
    its allocation interval ``[lo[b], hi[b])`` (the problem's defaults unless placed otherwise)."""

    def __init__(self, problem: MemoryProblem, capacity: int | None = None, unbounded: bool = False):
        self.problem = problem
        self.capacity = int(problem.capacity if capacity is None else capacity)
        self.unbounded = unbounded  # the top gap is open-ended: no "flush to its top" candidate
        self.offset = np.full(problem.n_buffers, -1, dtype=np.int64)
        self.lo = problem.lower.copy()
        self.hi = problem.upper.copy()

    def copy(self) -> Placement:
        other = Placement.__new__(Placement)
        other.problem, other.capacity, other.offset = self.problem, self.capacity, self.offset.copy()
        other.unbounded = self.unbounded
        other.lo, other.hi = self.lo.copy(), self.hi.copy()
        return other

    @property
    def intervals(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` of every buffer (what the cost model and the validator take)."""
        return self.lo, self.hi

    def overlapping(self, b: int, lo: int | None = None, hi: int | None = None) -> np.ndarray:
        """Indices of placed buffers whose interval meets ``[lo, hi)`` (default: ``b``'s own)."""
        lo = self.lo[b] if lo is None else lo
        hi = self.hi[b] if hi is None else hi
        mask = (self.offset >= 0) & (self.lo < hi) & (self.hi > lo)
        mask[b] = False
        return np.flatnonzero(mask)

    def gaps(self, b: int, lo: int | None = None, hi: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Maximal free ``[start, end)`` gaps in ``[0, capacity)`` over ``[lo, hi)`` (default: ``b``'s interval)."""
        idx = self.overlapping(b, lo, hi)
        if len(idx) == 0:
            return np.array([0], dtype=np.int64), np.array([self.capacity], dtype=np.int64)
        offs = self.offset[idx]
        order = np.argsort(offs, kind="stable")
        offs = offs[order]
        ends = offs + self.problem.size[idx][order]
        prev_end = np.concatenate([[0], np.maximum.accumulate(ends)])
        starts = prev_end
        stops = np.concatenate([offs, [max(self.capacity, int(prev_end[-1]))]])
        keep = stops > starts
        return starts[keep], stops[keep]

    def fits_at(self, b: int, offset: int, lo: int, hi: int) -> bool:
        """Whether ``b`` can sit at ``offset`` over ``[lo, hi)``."""
        if offset < 0 or offset + self.problem.size[b] > self.capacity:
            return False
        idx = self.overlapping(b, lo, hi)
        o = self.offset[idx]
        return not bool(((o < offset + self.problem.size[b]) & (offset < o + self.problem.size[idx])).any())

    def height_over(self, b: int) -> int:
        """The highest used byte over buffer ``b``'s live interval."""
        idx = self.overlapping(b)
        return int((self.offset[idx] + self.problem.size[idx]).max()) if len(idx) else 0

    def best_fit(self, b: int, lo: int | None = None, hi: int | None = None) -> int:
        """XLA-style best fit: the start of the smallest free gap that holds ``b`` over
        ``[lo, hi)`` (default: its interval), -1 if none."""
        lo = self.lo[b] if lo is None else lo
        hi = self.hi[b] if hi is None else hi
        return int(_best_fit(self.offset, self.lo, self.hi, self.problem.size, b, lo, hi, self.capacity))

    def first_fit(self, b: int) -> int:
        """The lowest offset where ``b`` fits (-1 if none)."""
        starts, stops = self.gaps(b)
        ok = (stops - starts) >= self.problem.size[b]
        return int(starts[np.flatnonzero(ok)[0]]) if ok.any() else -1

    def candidates(self, b: int, k: int) -> np.ndarray:
        """Up to ``k`` candidate offsets for ``b``: best fit first, then first fit, then the other
        gaps that hold it by increasing size, then the tops of gaps (a buffer flush against the
        buffer above). Distinct, all valid."""
        starts, stops = self.gaps(b)
        size = self.problem.size[b]
        length = stops - starts
        ok = np.flatnonzero(length >= size)
        if len(ok) == 0:
            return np.zeros(0, dtype=np.int64)
        out: list[int] = []
        by_len = ok[np.lexsort((starts[ok], length[ok]))]
        out.append(int(starts[by_len[0]]))
        first = int(starts[ok[0]])
        if first not in out:
            out.append(first)
        for i in by_len[1:]:
            if len(out) >= k:
                break
            if int(starts[i]) not in out:
                out.append(int(starts[i]))
        for i in by_len:
            if len(out) >= k:
                break
            top = int(stops[i] - size)
            if (stops[i] < self.capacity or not self.unbounded) and top not in out:
                out.append(top)
        return np.array(out[:k], dtype=np.int64)

    def place(self, b: int, offset: int, lo: int | None = None, hi: int | None = None) -> None:
        """Put ``b`` at ``offset`` (-1: slow), optionally over another interval."""
        self.offset[b] = offset
        if lo is not None:
            self.lo[b] = lo
        if hi is not None:
            self.hi[b] = hi

    def occupancy(self, lo: int, hi: int, bins: int) -> np.ndarray:
        """Fraction of capacity in use at ``bins`` evenly spaced times in ``[lo, hi)`` (max per bin)."""
        p = self.problem
        out = np.zeros(bins, dtype=np.float64)
        placed = np.flatnonzero(self.offset >= 0)
        if len(placed) == 0 or hi <= lo:
            return out
        edges = np.linspace(lo, hi, bins + 1)
        a = edges[:-1]
        z = np.maximum(edges[1:], a + 1)
        live = (self.lo[placed][:, None] < z[None, :]) & (self.hi[placed][:, None] > a[None, :])
        out = p.size[placed].astype(np.float64) @ live / max(self.capacity, 1)
        return np.minimum(out, 4.0)
