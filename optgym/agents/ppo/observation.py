"""What the PPO agent sees: an ``optgym/llvm-*`` environment wrapped into a ``Dict``
observation SB3 can store in its rollout buffers, and an action mask.

The observation holds the Autophase vector (or the ``Programl`` graph padded to fixed-size
arrays), a histogram of the actions taken, the episode's progress and the instruction count
relative to -O0. The mask hides a pass that just had no effect on this module until the
module changes, so the agent never spends two steps on the same no-op (MaskablePPO reads it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gymnasium
import numpy as np
from gymnasium import spaces

from optgym.agents.config import ConfigError
from optgym.agents.encoders import AUTOPHASE_SIZE
from optgym.agents.ppo.config import OBSERVATIONS, PpoConfig
from optgym.errors import OptgymError

if TYPE_CHECKING:
    from optgym.envs.llvm import LlvmEnv


def observation_space(mode: str, n_actions: int, *, max_nodes: int, max_edges: int) -> spaces.Dict:
    """The wrapped observation space: ``mode`` is ``"autophase"`` or ``"programl"``."""
    common = {
        "history": spaces.Box(0.0, 1.0, shape=(n_actions,), dtype=np.float32),
        "progress": spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32),
        "size": spaces.Box(0.0, np.inf, shape=(1,), dtype=np.float32),
    }
    if mode == "autophase":
        return spaces.Dict({"autophase": spaces.Box(0.0, np.inf, shape=(AUTOPHASE_SIZE,),
                                                    dtype=np.float32), **common})
    if mode == "programl":
        return spaces.Dict({
            # [node_type, text_id]; [source, target, flow, position]; [num_nodes, num_edges]
            "graph_nodes": spaces.Box(0.0, np.inf, shape=(max_nodes, 2), dtype=np.float32),
            "graph_edges": spaces.Box(0.0, np.inf, shape=(max_edges, 4), dtype=np.float32),
            "graph_size": spaces.Box(0.0, np.inf, shape=(2,), dtype=np.float32),
            **common,
        })
    raise ConfigError(f"PPO observation must be one of {OBSERVATIONS}, not {mode!r}")


def pad_graph(graph: Any, max_nodes: int, max_edges: int) -> dict[str, np.ndarray]:
    """A ``Programl`` GraphInstance as fixed-size arrays (graphs beyond the caps are cut:
    nodes past ``max_nodes`` and the edges touching them are dropped, then edges past
    ``max_edges``)."""
    nodes = np.asarray(graph.nodes)
    links = np.asarray(graph.edge_links)
    edges = np.asarray(graph.edges)
    n = min(len(nodes), max_nodes)
    if len(nodes) > max_nodes:
        keep = (links[:, 0] < n) & (links[:, 1] < n)
        links, edges = links[keep], edges[keep]
    e = min(len(links), max_edges)
    out_nodes = np.zeros((max_nodes, 2), dtype=np.float32)
    out_nodes[:n] = nodes[:n]
    out_edges = np.zeros((max_edges, 4), dtype=np.float32)
    out_edges[:e, :2] = links[:e]
    out_edges[:e, 2:] = edges[:e]  # float32 holds positions exactly up to 2**24; the encoder caps them far lower
    return {"graph_nodes": out_nodes, "graph_edges": out_edges,
            "graph_size": np.array([n, e], dtype=np.float32)}


class EpisodeTracker:
    """The parts of the observation that the environment does not give: which passes were
    taken, how far into the episode we are, and which passes are known to be no-ops here."""

    def __init__(self, n_actions: int, episode_length: int):
        self.n_actions = n_actions
        self.episode_length = episode_length
        self.reset()

    def reset(self) -> None:
        """Forget the episode (at every environment reset)."""
        self.history = np.zeros(self.n_actions, dtype=np.float32)
        self.steps = 0
        self.dead: set[int] = set()

    def record(self, action: int, changed: bool) -> None:
        """Note a step and whether it changed the module."""
        self.history[action] += 1.0
        self.steps += 1
        if changed:
            self.dead.clear()
        else:
            self.dead.add(action)

    def mask(self, enabled: bool = True) -> np.ndarray:
        """Which actions are worth trying (all when nothing is known or everything is dead)."""
        mask = np.ones(self.n_actions, dtype=bool)
        if enabled and len(self.dead) < self.n_actions:
            mask[list(self.dead)] = False
        return mask

    def features(self, count: int, o0: int) -> dict[str, np.ndarray]:
        """The history, progress and size entries of the observation."""
        return {
            "history": np.minimum(self.history / self.episode_length, 1.0).astype(np.float32),
            "progress": np.array([min(self.steps / self.episode_length, 1.0)], dtype=np.float32),
            "size": np.array([count / max(o0, 1)], dtype=np.float32),
        }


def encode_observation(llvm_env: LlvmEnv, tracker: EpisodeTracker, mode: str, *, max_nodes: int,
                       max_edges: int, raw: Any = None) -> dict[str, np.ndarray]:
    """The wrapped observation of an ``LlvmEnv``'s current state (``raw``: the env's own
    observation when it already is the Autophase vector or Programl graph)."""
    count = int(llvm_env.observe("IrInstructionCount"))
    o0 = int(llvm_env.observe("IrInstructionCountO0"))
    obs = tracker.features(count, o0)
    if mode == "autophase":
        vec = raw if raw is not None else llvm_env.observe("Autophase")
        obs["autophase"] = np.asarray(vec, dtype=np.float32)
    else:
        graph = raw if raw is not None else llvm_env.observe("Programl")
        obs.update(pad_graph(graph, max_nodes, max_edges))
    return obs


class PassOrderingObservation(gymnasium.Wrapper):
    """An ``optgym/llvm-*`` environment with the PPO observation and a no-op action mask.

    Args:
        env: an LlvmEnv (possibly wrapped, e.g. by a TimeLimit) whose observation space is
            ``Autophase`` (mode ``autophase``) or ``Programl`` (mode ``programl``).
        mode: ``autophase`` or ``programl``.
        episode_length: the horizon the history and progress features are scaled by.
        mask_no_ops: mask passes that had no effect until the module changes.
        max_nodes, max_edges: programl: the padded graph's size.
    """

    def __init__(self, env: gymnasium.Env, mode: str, *, episode_length: int, mask_no_ops: bool,
                 max_nodes: int, max_edges: int):
        super().__init__(env)
        self.mode = mode
        self.mask_no_ops = mask_no_ops
        self.max_nodes, self.max_edges = max_nodes, max_edges
        n = int(env.action_space.n)
        self.observation_space = observation_space(mode, n, max_nodes=max_nodes,
                                                   max_edges=max_edges)
        self.tracker = EpisodeTracker(n, episode_length)

    def _encode(self, raw: Any) -> dict[str, np.ndarray]:
        return encode_observation(self.env.unwrapped, self.tracker, self.mode,
                                  max_nodes=self.max_nodes, max_edges=self.max_edges, raw=raw)

    def reset(self, **kwargs: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        raw, info = self.env.reset(**kwargs)
        self.tracker.reset()
        return self._encode(raw), info

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        raw, reward, terminated, truncated, info = self.env.step(action)
        self.tracker.record(int(action), not info.get("action_had_no_effect", False))
        return self._encode(raw), float(reward), terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """Which actions are worth trying now (for MaskablePPO)."""
        return self.tracker.mask(self.mask_no_ops)


class BenchmarkMix(gymnasium.Wrapper):
    """Start each episode at a program drawn uniformly from a fixed list of URIs, which may
    span datasets (an LlvmEnv draws from one). A benchmark passed in ``reset``'s options
    still wins."""

    def __init__(self, env: gymnasium.Env, uris: list[str]):
        super().__init__(env)
        if not uris:
            raise OptgymError("BenchmarkMix needs at least one benchmark URI")
        self.uris = list(uris)
        self._rng = np.random.default_rng()

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        options = dict(options or {})
        options.setdefault("benchmark", self.uris[int(self._rng.integers(len(self.uris)))])
        return self.env.reset(seed=seed, options=options)


def training_uris(config: PpoConfig) -> list[str]:
    """The programs episodes start at when the config mixes in real code: the split of
    ``config.dataset`` plus ``config.realc`` realc-v0 modules per project of that split
    (of at most ``config.realc_max_instructions`` instructions). Empty when it does not."""
    if not config.realc or config.benchmark:
        return []
    from optgym.datasets import get_dataset

    realc = get_dataset("realc-v0")
    if not realc.manifests():
        raise OptgymError("realc is set but realc-v0 is not built; run: "
                          "optgym datasets build realc-v0")
    picked = realc.sample_uris(config.split or "train", config.realc,
                               max_instructions=config.realc_max_instructions)
    return get_dataset(config.dataset).benchmark_uris(config.split) + picked


def make_env(config: PpoConfig, seed: int | None = None) -> gymnasium.Env:
    """One training environment from a ``ppo-llvm`` config (importable in subprocesses)."""
    env_id = config.env_id
    if not env_id.startswith("optgym:"):
        env_id = f"optgym:{env_id}"  # subprocess workers import optgym, which registers the ids
    kwargs: dict[str, Any] = {
        "observation_space": "Autophase" if config.observation == "autophase" else "Programl",
        "dataset": config.dataset,
        "split": config.split,
    }
    if config.benchmark:
        kwargs["benchmark"] = config.benchmark
    env = gymnasium.make(env_id, max_episode_steps=config.episode_length,
                         disable_env_checker=True, **kwargs)
    mix = training_uris(config)
    if mix:
        env = BenchmarkMix(env, mix)
    env = PassOrderingObservation(env, config.observation, episode_length=config.episode_length,
                                  mask_no_ops=config.mask_no_ops, max_nodes=config.max_nodes,
                                  max_edges=config.max_edges)
    if seed is not None:
        env.action_space.seed(seed)
    return env


def action_space_of(env_id: str) -> str:
    """The action space an ``optgym/llvm-*`` id registers (read from Gymnasium's registry)."""
    import optgym  # noqa: F401  (registers the ids)

    spec = gymnasium.spec(env_id.removeprefix("optgym:"))
    return str(spec.kwargs.get("action_space", "flags-v0"))
