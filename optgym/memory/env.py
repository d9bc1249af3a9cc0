"""mallocGame-style Gymnasium environments: ``optgym/memory-v1`` (map) and ``optgym/memory-packing-v0`` (pack).

Both present buffers (allocation segments, for workloads) one at a time in a fixed order; the
full specifications are the class docstrings. An action outside the mask raises ``ValueError``,
as in ``optgym/llvm-v0``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from optgym.errors import BenchmarkError
from optgym.memory.placement import Placement
from optgym.memory.problem import (
    Hardware,
    MemoryProblem,
    get_hardware,
    mapping_height,
    validate_mapping,
)
from optgym.memory.timeline import CostModel

OBS_CLIP = 16.0


def _resolve(problem: str | MemoryProblem, hardware: str | Hardware) -> tuple[MemoryProblem, Hardware]:
    from optgym.memory.workloads import load_problem

    hw = get_hardware(hardware)
    if isinstance(problem, MemoryProblem):
        return problem, hw
    return load_problem(problem, hw)


class _MemoryEnvBase(gym.Env):
    """Shared machinery: buffer order, placement state, candidates, features, masks, state copies."""

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, problem: MemoryProblem, k: int, bins: int, unbounded: bool):
        super().__init__()
        self.problem = problem
        self.k = int(k)
        self.bins = int(bins)
        if self.k < 1 or self.bins < 1:
            raise ValueError("k and bins must be >= 1")
        cap = problem.capacity
        if cap <= 0:
            raise BenchmarkError(f"problem {problem.name!r} has no fast-memory capacity")
        self._gap_capacity = int(problem.size.sum()) if unbounded else cap
        self.horizon = max(problem.horizon, 1)
        self.order = self.default_order()
        self._default_order = self.order
        self.pos = 0
        self.placement = Placement(problem, self._gap_capacity, unbounded=unbounded)
        self._cands = np.zeros(0, dtype=np.int64)
        self._cand_gap = np.zeros(0, dtype=np.int64)

    # ----------------------------------------------------------------------------- subclasses
    def default_order(self) -> np.ndarray:
        raise NotImplementedError

    def _candidate_offsets(self, b: int) -> np.ndarray:
        raise NotImplementedError

    # ----------------------------------------------------------------------------- common
    def current(self) -> int:
        """The buffer being decided now (-1 when the episode is over)."""
        return int(self.order[self.pos]) if self.pos < len(self.order) else -1

    def _refresh_candidates(self) -> None:
        b = self.current()
        if b < 0:
            self._cands = np.zeros(0, dtype=np.int64)
            self._cand_gap = np.zeros(0, dtype=np.int64)
            return
        self._cands = self._candidate_offsets(b)
        starts, stops = self.placement.gaps(b)
        gi = np.searchsorted(starts, self._cands, "right") - 1
        self._cand_gap = (stops[gi] - starts[gi]) if len(self._cands) else np.zeros(0, dtype=np.int64)

    def _set_order(self, options: dict | None) -> None:
        order = None if not options else options.get("order")
        if order is None:
            self.order = self._default_order
            return
        order = np.asarray(order, dtype=np.int64)
        n = self.problem.n_buffers
        if order.ndim != 1 or len(np.unique(order)) != len(order) or (order < 0).any() or (order >= n).any():
            raise ValueError(f"options['order'] must list distinct buffer ids in [0, {n})")
        self.order = order

    def _occupancy_features(self, b: int) -> np.ndarray:
        p, cap = self.problem, self.problem.capacity
        if b < 0:
            return np.zeros(self.bins + 3, dtype=np.float64)
        occ = self.placement.occupancy(int(p.lower[b]), int(p.upper[b]), self.bins)
        starts, stops = self.placement.gaps(b)
        within = np.minimum(stops, cap) - starts
        within = within[within > 0]
        return np.concatenate([
            occ,
            [self.placement.height_over(b) / cap,
             (within.max() / cap) if len(within) else 0.0,
             len(within) / self.k],
        ])

    def _buffer_features(self, b: int) -> np.ndarray:
        p, cap = self.problem, self.problem.capacity
        if b < 0:
            return np.zeros(9, dtype=np.float64)
        kind = p.buffer_kinds[b]
        return np.array([
            p.size[b] / cap,
            np.log2(p.size[b]) / 32.0,
            p.lower[b] / self.horizon,
            p.upper[b] / self.horizon,
            (p.upper[b] - p.lower[b]) / self.horizon,
            kind == "weight",
            kind == "activation",
            kind == "input",
            kind not in ("weight", "activation", "input"),
        ], dtype=np.float64)

    def _candidate_features(self) -> np.ndarray:
        cap = self.problem.capacity
        f = np.zeros((self.k, 3), dtype=np.float64)
        n = len(self._cands)
        if n:
            b = self.current()
            f[:n, 0] = 1.0
            f[:n, 1] = self._cands / cap
            f[:n, 2] = (self._cand_gap - self.problem.size[b]) / cap
        return f.ravel()

    def _assemble(self, b: int, glob: np.ndarray) -> np.ndarray:
        """The observation: the current buffer, its candidates, occupancy, then ``glob``."""
        obs = np.concatenate([
            self._buffer_features(b), self._candidate_features(), self._occupancy_features(b),
            glob, self._global_occupancy(),
        ])
        return np.clip(obs, -OBS_CLIP, OBS_CLIP).astype(np.float32)

    def _global_occupancy(self) -> np.ndarray:
        return self.placement.occupancy(0, self.horizon, self.bins)

    def clone_state(self) -> tuple:
        """A snapshot of the episode state (for tree search with the exact simulator)."""
        pl = self.placement
        return (self.pos, pl.offset.copy(), pl.lo.copy(), pl.hi.copy(), self.order, self._extra_state())

    def restore_state(self, state: tuple) -> None:
        """Return to a snapshot taken by :meth:`clone_state`."""
        self.pos, offs, lo, hi, self.order, extra = state
        self.placement.offset, self.placement.lo, self.placement.hi = offs.copy(), lo.copy(), hi.copy()
        self._restore_extra(extra)
        self._refresh_candidates()

    def _extra_state(self):
        return None

    def _restore_extra(self, extra) -> None:
        pass

    def mapping(self) -> np.ndarray:
        """The current mapping: offset per buffer, -1 for slow (or not yet placed)."""
        return self.placement.offset.copy()

    def intervals(self) -> tuple[np.ndarray, np.ndarray]:
        """The current allocation intervals ``(lo, hi)`` of every buffer."""
        return self.placement.lo.copy(), self.placement.hi.copy()

    def _reset_placement(self) -> None:
        self.placement.offset[:] = -1
        self.placement.lo[:] = self.problem.lower
        self.placement.hi[:] = self.problem.upper


class MemoryMappingEnv(_MemoryEnvBase):
    """``optgym/memory-v1``: decide, segment by segment, what lives in fast memory and where.

    **Problem.** A workload (a traced model: scheduled ops reading and writing tensors) is cut
    into allocation segments for a hardware preset (:func:`~optgym.memory.problem.build_problem`):
    each segment has a default allocation interval ``[lower, upper)`` over the op schedule (XLA's
    preferred prefetch start or eviction end) and a size. A mapping gives each segment a
    fast-memory offset or leaves it in slow memory (-1); fast segments live at the same time never
    overlap and stay below the capacity. Runtime comes from the hazard-free timeline
    (:class:`~optgym.memory.timeline.CostModel`: ops overlapped with prefetch, eviction and
    write-back copies that share each memory's bandwidth; every read waits for its data). The
    env places segments at their default intervals; agents that choose other prefetch starts or
    eviction ends (the baselines, the rollouts of MCTS, search) return ``intervals`` too.

    **Action space.** ``Discrete(1 + k)``: ``0`` leaves the current segment in slow memory;
    ``i >= 1`` puts it at the ``i``-th candidate offset (best fit first, then first fit, other
    gaps by size, then flush-to-top positions). ``action_masks()`` (and ``info["action_mask"]``)
    marks the valid ones; any other action raises ``ValueError``.

    **Observation space.** ``Box(-16, 16, (9 + 3k + (bins + 3) + 6 + bins,), float32)``, clipped:

    ============================  ==============================================================
    index                         meaning
    ============================  ==============================================================
    0                             segment size / capacity
    1                             log2(size) / 32
    2, 3                          lower / horizon, upper / horizon
    4                             (upper - lower) / horizon
    5, 6, 7, 8                    kind is weight, activation, input, other (0/1)
    9 + 3j, j < k                 candidate j exists (0/1)
    10 + 3j                       candidate j's offset / capacity
    11 + 3j                       slack of candidate j's gap (gap - size) / capacity
    9 + 3k + i, i < bins          occupancy of fast memory over the segment's interval, bin i
    9 + 3k + bins                 highest used byte over the interval / capacity
    10 + 3k + bins                largest free gap within capacity over the interval / capacity
    11 + 3k + bins                number of free gaps / k
    12 + 3k + bins                fraction of segments still to decide
    13 + 3k + bins                summed solo benefit of the remaining segments / baseline runtime
    14 + 3k + bins                log(1 + remaining bytes / capacity)
    15 + 3k + bins                current runtime / baseline runtime
    16 + 3k + bins                10 x surrogate gain of this segment / baseline runtime
    17 + 3k + bins                10 x solo (timeline) benefit of this segment / baseline runtime
    18 + 3k + bins + i, i < bins  occupancy of fast memory over the whole schedule, bin i
    ============================  ==============================================================

    **Rewards.** After each step, ``(runtime before - runtime after) / baseline runtime`` where
    runtimes are the timeline's for the segments placed so far (all others slow) and the
    baseline is XLA's memory-space assignment (:func:`~optgym.memory.baselines.xla_mapping`). The
    return of an episode is ``(all-slow runtime - final runtime) / baseline runtime``; it beats
    the baseline when it exceeds ``(all-slow - baseline) / baseline``.

    **Starting state.** Nothing placed; the first segment of the order (the baseline's order,
    most memory-bound first, or ``reset(options={"order": [...]})``). Deterministic.

    **Episode end.** Terminates after the last segment of the order; never truncates. ``info``
    then holds ``mapping`` and ``intervals`` (validated) and ``speedup_vs_baseline``.

    **Arguments.**

    - ``workload``: a shipped workload name (``optgym memory list``), a path to a workload JSON
      or ONNX file, or a :class:`MemoryProblem`.
    - ``hardware``: a preset name (``tpu-like``, ``edge-npu``) or a :class:`Hardware`.
    - ``k``: number of candidate offsets; ``bins``: resolution of the occupancy features.
    - ``capacity``: override the preset's fast-memory capacity (bytes).

    **Version history.**

    - v1 (this): hazard-free timeline (reads wait for evictions, outputs are
      written back, copies share bandwidth, gathers charged the rows they read), segments by
      XLA's residency rule, XLA's baseline without simulation or repacking (before: an
      XLA-style baseline that simulated every allocation and repacked 16 times).
    - v0 (retired; ``gymnasium.make("optgym/memory-v0")`` names v1): timeline cost model with copies, allocation segments, XLA-style baseline with
      repacking; invalid actions raise ``ValueError`` (before: fell back to action 0); bytes at
      each tensor's dtype with fusion (before: float32 per-op roofline sum, no fusion).
    """

    def __init__(
        self,
        workload: str | MemoryProblem = "resnet18",
        hardware: str | Hardware = "tpu-like",
        k: int = 8,
        bins: int = 16,
        capacity: int | None = None,
        render_mode: str | None = None,
    ):
        problem, hw = _resolve(workload, hardware)
        if capacity is not None:
            problem = problem.with_capacity(capacity)
        if problem.n_ops == 0:
            raise BenchmarkError(
                f"problem {problem.name!r} has no ops, so no runtime to improve: use optgym/memory-packing-v0"
            )
        self.hardware = hw
        self.cost = CostModel(problem, hw)
        super().__init__(problem, k, bins, unbounded=False)
        from optgym.memory.baselines import xla_mapping

        self.baseline = xla_mapping(problem, hw, self.cost)
        from optgym.memory.baselines import XlaPlanner

        self.planner = XlaPlanner(self.cost)  # XLA's per-segment rules, for agents' rollouts
        self.baseline_runtime = self.baseline.runtime
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(1 + self.k)
        dim = 9 + 3 * self.k + (self.bins + 3) + 6 + self.bins
        self.observation_space = spaces.Box(-OBS_CLIP, OBS_CLIP, shape=(dim,), dtype=np.float32)
        self.op_mem = self.cost.op_mem_slow.copy()
        self.runtime = self.cost.all_slow

    def default_order(self) -> np.ndarray:
        from optgym.memory.baselines import xla_order

        return xla_order(self.cost)

    def _candidate_offsets(self, b: int) -> np.ndarray:
        return self.placement.candidates(b, self.k)

    def baseline_action(self) -> int:
        """The action that follows the XLA mapping now: its offset for the current segment
        among the candidates (0 when it leaves the segment slow or that offset is not offered,
        e.g. after earlier decisions that differ from the baseline's)."""
        b = self.current()
        if b < 0 or self.baseline.mapping[b] < 0:
            return 0
        hit = np.flatnonzero(self._cands == self.baseline.mapping[b])
        return 1 + int(hit[0]) if len(hit) else 0

    def action_masks(self) -> np.ndarray:
        """Valid actions now (sb3-contrib's MaskablePPO convention)."""
        mask = np.zeros(1 + self.k, dtype=bool)
        mask[0] = True
        mask[1 : 1 + len(self._cands)] = True
        return mask

    def _obs(self) -> np.ndarray:
        b = self.current()
        base = self.baseline_runtime
        gain = -self.cost.delta(self.op_mem, b) / base if b >= 0 else 0.0
        remaining = self.order[self.pos:]
        rem_benefit = float(self.cost.solo_benefit[remaining].sum()) / base if len(remaining) else 0.0
        rem_bytes = float(self.problem.size[remaining].sum()) / self.problem.capacity
        glob = np.array([
            1.0 - self.pos / max(len(self.order), 1),
            rem_benefit,
            np.log1p(rem_bytes),
            self.runtime / base,
            gain * 10.0,
            self.cost.solo_benefit[b] / base * 10.0 if b >= 0 else 0.0,
        ])
        return self._assemble(b, glob)

    def _info(self) -> dict:
        info = {
            "action_mask": self.action_masks(),
            "runtime": self.runtime,
            "baseline_runtime": self.baseline_runtime,
            "all_slow_runtime": self.cost.all_slow,
        }
        if self.pos >= len(self.order):
            info["mapping"] = self.mapping()
            info["intervals"] = self.intervals()
            info["speedup_vs_baseline"] = self.baseline_runtime / self.runtime
        return info

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._set_order(options)
        self.pos = 0
        self._reset_placement()
        self.op_mem = self.cost.op_mem_slow.copy()
        self.runtime = self.cost.all_slow
        self._refresh_candidates()
        return self._obs(), self._info()

    def step(self, action):
        if self.pos >= len(self.order):
            raise RuntimeError("step() called after the episode ended; call reset()")
        a = int(action)
        if not (0 <= a <= len(self._cands)):
            raise ValueError(f"action {a} is not valid now: valid actions are 0..{len(self._cands)} "
                             f"(see action_masks())")
        b = self.current()
        reward = 0.0
        if a >= 1:
            off = int(self._cands[a - 1])
            self.placement.place(b, off)
            self.cost.apply(self.op_mem, b)
            new = self.cost.runtime(self.placement.offset, self.placement.intervals)
            reward = (self.runtime - new) / self.baseline_runtime
            self.runtime = new
        self.pos += 1
        self._refresh_candidates()
        terminated = self.pos >= len(self.order)
        if terminated:
            validate_mapping(self.problem, self.placement.offset, intervals=self.placement.intervals)
        return self._obs(), float(reward), terminated, False, self._info()

    def _extra_state(self):
        return (self.op_mem.copy(), self.runtime)

    def _restore_extra(self, extra) -> None:
        self.op_mem, self.runtime = extra[0].copy(), extra[1]

    def render(self):
        if self.render_mode == "ansi":
            return (f"{self.problem.name}: buffer {self.pos}/{len(self.order)}, runtime "
                    f"{self.runtime * 1e6:.2f} us (XLA {self.baseline_runtime * 1e6:.2f} us)")
        return None


class MemoryPackingEnv(_MemoryEnvBase):
    """``optgym/memory-packing-v0``: place every buffer in fast memory, keeping the peak low.

    Action ``i`` puts the current buffer at candidate ``i`` (0: the lowest offset that fits);
    actions outside ``action_masks()`` raise ``ValueError``. Reward: minus the growth of the peak
    height over the capacity; the episode ends after the last buffer with ``info["success"]``
    when the height is within the capacity.

    Args:
        problem: a problem name (``minimalloc/A`` ... ``minimalloc/K`` or a traced workload) or a
            :class:`MemoryProblem`; its capacity is the target height.
        hardware: the preset that gives traced workloads their capacity.
        k: number of candidate offsets (action 0 = lowest offset that fits).
        bins: resolution of the occupancy features.
    """

    def __init__(
        self,
        problem: str | MemoryProblem = "minimalloc/A",
        hardware: str | Hardware = "tpu-like",
        k: int = 8,
        bins: int = 16,
        render_mode: str | None = None,
    ):
        prob, _ = _resolve(problem, hardware)
        super().__init__(prob, k, bins, unbounded=True)
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(self.k)
        dim = 9 + 3 * self.k + (self.bins + 3) + 4 + self.bins
        self.observation_space = spaces.Box(-OBS_CLIP, OBS_CLIP, shape=(dim,), dtype=np.float32)
        self.height = 0

    def default_order(self) -> np.ndarray:
        p = self.problem
        return np.lexsort((p.lower, -p.size)).astype(np.int64)

    def _candidate_offsets(self, b: int) -> np.ndarray:
        pl = self.placement
        low = pl.first_fit(b)
        rest = [int(c) for c in pl.candidates(b, self.k + 1) if int(c) != low]
        return np.array([low] + rest[: self.k - 1], dtype=np.int64)

    def action_masks(self) -> np.ndarray:
        """Valid actions now (sb3-contrib's MaskablePPO convention)."""
        mask = np.zeros(self.k, dtype=bool)
        mask[: len(self._cands)] = True
        if not mask.any():
            mask[0] = True  # after the last buffer: keep one action valid for wrappers
        return mask

    def _obs(self) -> np.ndarray:
        cap = self.problem.capacity
        remaining = self.order[self.pos:]
        glob = np.array([
            1.0 - self.pos / max(len(self.order), 1),
            self.height / cap,
            np.log1p(float(self.problem.size[remaining].sum()) / cap),
            float(self.height > cap),
        ])
        b = self.current()
        return self._assemble(b, glob)

    def _info(self) -> dict:
        info = {
            "action_mask": self.action_masks(),
            "height": self.height,
            "capacity": self.problem.capacity,
        }
        if self.pos >= len(self.order):
            info["mapping"] = self.mapping()
            info["success"] = self.height <= self.problem.capacity
        return info

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._set_order(options)
        if len(self.order) != self.problem.n_buffers:
            raise ValueError("options['order'] must list every buffer in a packing problem")
        self.pos = 0
        self._reset_placement()
        self.height = 0
        self._refresh_candidates()
        return self._obs(), self._info()

    def step(self, action):
        if self.pos >= len(self.order):
            raise RuntimeError("step() called after the episode ended; call reset()")
        a = int(action)
        if not (0 <= a < len(self._cands)):
            raise ValueError(f"action {a} is not valid now: valid actions are 0..{len(self._cands) - 1} "
                             f"(see action_masks())")
        b = self.current()
        off = int(self._cands[a])
        self.placement.place(b, off)
        new_h = max(self.height, off + int(self.problem.size[b]))
        reward = -(new_h - self.height) / self.problem.capacity
        self.height = new_h
        self.pos += 1
        self._refresh_candidates()
        terminated = self.pos >= len(self.order)
        if terminated:
            validate_mapping(self.problem, self.placement.offset, capacity=self.height, allow_slow=False)
            assert self.height == mapping_height(self.problem, self.placement.offset)
        return self._obs(), float(reward), terminated, False, self._info()

    def _extra_state(self):
        return self.height

    def _restore_extra(self, extra) -> None:
        self.height = extra

    def render(self):
        if self.render_mode == "ansi":
            return (f"{self.problem.name}: buffer {self.pos}/{len(self.order)}, height "
                    f"{self.height:,} of {self.problem.capacity:,}")
        return None
