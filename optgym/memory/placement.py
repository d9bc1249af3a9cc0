"""Free-gap geometry of a partial placement: what space is free in fast memory over a live interval.

Shared by the environments (candidate offsets, occupancy features) and the heuristics (best fit).
"""

from __future__ import annotations

import numpy as np

from optgym.memory.problem import MemoryProblem


def _neighbours(problem: MemoryProblem) -> list[np.ndarray]:
    """Per buffer, the other buffers live at some common time (computed once per problem)."""
    nb = getattr(problem, "_neighbours", None)
    if nb is None:
        lo, up = problem.lower, problem.upper
        nb = []
        for b in range(problem.n_buffers):
            m = (lo < up[b]) & (up > lo[b])
            m[b] = False
            nb.append(np.flatnonzero(m))
        problem._neighbours = nb
    return nb


class Placement:
    """A partial placement of a problem's buffers: ``offset[b] >= 0`` when placed in fast memory."""

    def __init__(self, problem: MemoryProblem, capacity: int | None = None, unbounded: bool = False):
        self.problem = problem
        self.capacity = int(problem.capacity if capacity is None else capacity)
        self.unbounded = unbounded  # the top gap is open-ended: no "flush to its top" candidate
        self.offset = np.full(problem.n_buffers, -1, dtype=np.int64)

    def copy(self) -> Placement:
        other = Placement.__new__(Placement)
        other.problem, other.capacity, other.offset = self.problem, self.capacity, self.offset.copy()
        other.unbounded = self.unbounded
        return other

    def overlapping(self, b: int) -> np.ndarray:
        """Indices of placed buffers whose live interval overlaps buffer ``b``'s."""
        nb = _neighbours(self.problem)[b]
        return nb[self.offset[nb] >= 0]

    def gaps(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Maximal free ``[start, end)`` gaps in ``[0, capacity)`` over buffer ``b``'s live interval."""
        idx = self.overlapping(b)
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

    def height_over(self, b: int) -> int:
        """The highest used byte over buffer ``b``'s live interval."""
        idx = self.overlapping(b)
        return int((self.offset[idx] + self.problem.size[idx]).max()) if len(idx) else 0

    def best_fit(self, b: int) -> int:
        """XLA-style best fit: the start of the smallest free gap that holds ``b`` (-1 if none)."""
        starts, stops = self.gaps(b)
        length = stops - starts
        ok = length >= self.problem.size[b]
        if not ok.any():
            return -1
        i = np.flatnonzero(ok)[np.argmin(length[ok])]
        return int(starts[i])

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

    def place(self, b: int, offset: int) -> None:
        self.offset[b] = offset

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
        live = (p.lower[placed][:, None] < z[None, :]) & (p.upper[placed][:, None] > a[None, :])
        out = p.size[placed].astype(np.float64) @ live / max(self.capacity, 1)
        return np.minimum(out, 4.0)
