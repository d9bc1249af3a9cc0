"""PPO (Stable-Baselines3 / sb3-contrib) on the pass-ordering environments ``optgym/llvm-*``.

Pieces:

* :class:`PassOrderingObservation` wraps an ``optgym/llvm-*`` environment into a
  ``Dict`` observation SB3 can store in its rollout buffers: the Autophase vector (or the
  ``Programl`` graph padded to fixed-size arrays), a histogram of the actions taken, the
  episode's progress and the instruction count relative to -O0. It also gives an action mask:
  a pass that just had no effect on this module is masked until the module changes, so the
  agent never spends two steps on the same no-op (MaskablePPO reads it).
* :class:`PassOrderingExtractor`: a features extractor. Autophase: log-scaled counts into an
  MLP. Programl: the padded arrays become one PyG batch, embedded (node text + node type)
  and passed through flow-typed message passing with edge-position embeddings, then mean and
  max pooled into a program embedding.
* :func:`train_ppo`: the ``ppo-llvm`` recipe (vectorized envs in subprocesses, TensorBoard,
  atomic checkpoints, resume; data-parallel over ``torchrun`` ranks with gradient all-reduce;
  evaluation spread over Ray when the run has a Ray address).
* :class:`PpoPolicy`: a trained model as a policy (``get_policy("ppo")``): a greedy rollout,
  then sampled rollouts while the compilation budget lasts, best prefix kept, -Oz fallback.
"""

from __future__ import annotations

import functools
import json
import math
import time
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn
from torch_geometric.nn import MessagePassing, global_max_pool, global_mean_pool

from optgym.agents.base import Budget, SearchResult, result_from_env
from optgym.errors import OptgymError

#: The exported-policy format written by :func:`export_policy` and read by :class:`PpoPolicy`.
EXPORT_FORMAT = "optgym-ppo-v1"
#: The checkpoint that ships with the package (used when PpoPolicy gets no checkpoint).
SHIPPED_CHECKPOINT = Path(__file__).parent / "data" / "ppo-autophase.pt"
#: Edge positions at or above this share one embedding (operand indices are mostly small).
MAX_EDGE_POSITION = 32


# -- observations ------------------------------------------------------------------------------
def observation_space(mode: str, n_actions: int, *, max_nodes: int = 4096,
                      max_edges: int = 12288) -> spaces.Dict:
    """The wrapped observation space: ``mode`` is ``"autophase"`` or ``"programl"``."""
    common = {
        "history": spaces.Box(0.0, 1.0, shape=(n_actions,), dtype=np.float32),
        "progress": spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32),
        "size": spaces.Box(0.0, np.inf, shape=(1,), dtype=np.float32),
    }
    if mode == "autophase":
        return spaces.Dict({"autophase": spaces.Box(0.0, np.inf, shape=(56,), dtype=np.float32),
                            **common})
    if mode == "programl":
        return spaces.Dict({
            # [node_type, text_id]; [source, target, flow, position]; [num_nodes, num_edges]
            "graph_nodes": spaces.Box(0.0, np.inf, shape=(max_nodes, 2), dtype=np.float32),
            "graph_edges": spaces.Box(0.0, np.inf, shape=(max_edges, 4), dtype=np.float32),
            "graph_size": spaces.Box(0.0, np.inf, shape=(2,), dtype=np.float32),
            **common,
        })
    raise OptgymError(f"PPO observation mode must be 'autophase' or 'programl', not {mode!r}")


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
    out_edges[:e, 2] = edges[:e, 0]
    out_edges[:e, 3] = np.minimum(edges[:e, 1], MAX_EDGE_POSITION - 1)
    return {"graph_nodes": out_nodes, "graph_edges": out_edges,
            "graph_size": np.array([n, e], dtype=np.float32)}


class _EpisodeTracker:
    """The parts of the observation that the environment does not give: which passes were
    taken, how far into the episode we are, and which passes are known to be no-ops here."""

    def __init__(self, n_actions: int, episode_length: int):
        self.n_actions = n_actions
        self.episode_length = episode_length
        self.reset()

    def reset(self) -> None:
        self.history = np.zeros(self.n_actions, dtype=np.float32)
        self.steps = 0
        self.dead: set[int] = set()

    def record(self, action: int, changed: bool) -> None:
        self.history[action] += 1.0
        self.steps += 1
        if changed:
            self.dead.clear()
        else:
            self.dead.add(action)

    def mask(self, enabled: bool = True) -> np.ndarray:
        mask = np.ones(self.n_actions, dtype=bool)
        if enabled and len(self.dead) < self.n_actions:
            mask[list(self.dead)] = False
        return mask

    def features(self, count: int, o0: int) -> dict[str, np.ndarray]:
        return {
            "history": np.minimum(self.history / self.episode_length, 1.0).astype(np.float32),
            "progress": np.array([min(self.steps / self.episode_length, 1.0)], dtype=np.float32),
            "size": np.array([count / max(o0, 1)], dtype=np.float32),
        }


def encode_observation(llvm_env: Any, tracker: _EpisodeTracker, mode: str, *,
                       max_nodes: int = 4096, max_edges: int = 12288,
                       raw: Any = None) -> dict[str, np.ndarray]:
    """The wrapped observation of an ``LlvmEnv``'s current state (``raw``: the env's own
    observation when it already is the Autophase vector or Programl graph)."""
    count = int(llvm_env.observation["IrInstructionCount"])
    o0 = int(llvm_env.observation["IrInstructionCountO0"])
    obs = tracker.features(count, o0)
    if mode == "autophase":
        vec = raw if raw is not None else llvm_env.observation["Autophase"]
        obs["autophase"] = np.asarray(vec, dtype=np.float32)
    else:
        graph = raw if raw is not None else llvm_env.observation["Programl"]
        obs.update(pad_graph(graph, max_nodes, max_edges))
    return obs


class PassOrderingObservation(gymnasium.Wrapper):
    """An ``optgym/llvm-*`` environment with the PPO observation and a no-op action mask.

    Args:
        env: an LlvmEnv (possibly wrapped, e.g. by a TimeLimit) whose observation space is
            ``Autophase`` (mode ``autophase``) or ``Programl`` (mode ``programl``).
        episode_length: the horizon the history and progress features are scaled by.
        mask_no_ops: mask passes that had no effect until the module changes.
    """

    def __init__(self, env: gymnasium.Env, mode: str = "autophase", *, episode_length: int = 45,
                 mask_no_ops: bool = True, max_nodes: int = 4096, max_edges: int = 12288):
        super().__init__(env)
        self.mode = mode
        self.mask_no_ops = mask_no_ops
        self.max_nodes, self.max_edges = max_nodes, max_edges
        n = int(env.action_space.n)
        self.observation_space = observation_space(mode, n, max_nodes=max_nodes,
                                                   max_edges=max_edges)
        self.tracker = _EpisodeTracker(n, episode_length)

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


def make_env(config: dict[str, Any], seed: int | None = None) -> gymnasium.Env:
    """One training environment from a ``ppo-llvm`` config (importable in subprocesses)."""
    mode = config.get("observation", "autophase")
    env_id = config.get("env_id", "optgym/llvm-pipelines-ic-v0")
    if not env_id.startswith("optgym:"):
        env_id = f"optgym:{env_id}"  # subprocess workers import optgym, which registers the ids
    kwargs: dict[str, Any] = {
        "observation_space": "Autophase" if mode == "autophase" else "Programl",
        "dataset": config.get("dataset", "builtin-v0"),
        "split": config.get("split", "train"),
    }
    if config.get("benchmark"):
        kwargs["benchmark"] = config["benchmark"]
    length = int(config.get("episode_length", 45))
    env = gymnasium.make(env_id, max_episode_steps=length, disable_env_checker=True, **kwargs)
    env = PassOrderingObservation(env, mode, episode_length=length,
                                  mask_no_ops=bool(config.get("mask_no_ops", True)),
                                  max_nodes=int(config.get("max_nodes", 4096)),
                                  max_edges=int(config.get("max_edges", 12288)))
    if seed is not None:
        env.action_space.seed(seed)
    return env


# -- the features extractor --------------------------------------------------------------------
class FlowConv(MessagePassing):
    """Message passing with one weight matrix per ProGraML flow and a learned embedding
    of the edge position (operand index), added to the sender's state."""

    def __init__(self, dim: int, flows: int):
        super().__init__(aggr="mean")
        self.rel = nn.ModuleList(nn.Linear(dim, dim, bias=False) for _ in range(flows))
        self.pos = nn.Embedding(MAX_EDGE_POSITION, dim)
        self.root = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Any, edge_index: Any, edge_type: Any, edge_pos: Any) -> Any:
        agg = self.propagate(edge_index, x=x, edge_type=edge_type, edge_pos=edge_pos)
        return self.norm(x + torch.relu(self.root(x) + agg))

    def message(self, x_j: Any, edge_type: Any, edge_pos: Any) -> Any:
        m = x_j + self.pos(edge_pos)
        out = torch.zeros_like(m)
        for f, lin in enumerate(self.rel):
            sel = edge_type == f
            if bool(sel.any()):
                out[sel] = lin(m[sel])
        return out

class PassOrderingExtractor(BaseFeaturesExtractor):
    """Turns the wrapped observation into features: an MLP over log-scaled Autophase
    counts, or a GNN over the Programl graph; both see the action history too."""

    def __init__(self, observation_space: spaces.Dict, hidden: int = 128,
                 gnn_dim: int = 64, gnn_layers: int = 3, vocab_size: int = 0):
        self.graph = "graph_nodes" in observation_space.spaces
        super().__init__(observation_space, features_dim=hidden)
        n_actions = observation_space["history"].shape[0]
        side = n_actions + 2
        if self.graph:
            from optgym.programgraphs import FLOWS, NODE_TYPES, default_vocabulary

            vocab = vocab_size or len(default_vocabulary())
            self.text = nn.Embedding(vocab + 1, gnn_dim)
            self.ntype = nn.Embedding(len(NODE_TYPES), gnn_dim)
            self.convs = nn.ModuleList(FlowConv(gnn_dim, len(FLOWS))
                                       for _ in range(gnn_layers))
            body_in = 2 * gnn_dim + side
        else:
            body_in = 56 + side
        self.body = nn.Sequential(nn.Linear(body_in, hidden), nn.ReLU(),
                                  nn.Linear(hidden, hidden), nn.ReLU())

    def forward(self, obs: dict[str, Any]) -> Any:
        side = [obs["history"], obs["progress"], torch.log(obs["size"].clamp_min(1e-3))]
        if self.graph:
            program = self._embed_graphs(obs)
        else:
            program = torch.log1p(obs["autophase"].clamp_min(0))
        return self.body(torch.cat([program, *side], dim=1))

    def _embed_graphs(self, obs: dict[str, Any]) -> Any:
        nodes, edges, size = obs["graph_nodes"], obs["graph_edges"], obs["graph_size"]
        b, max_n, _ = nodes.shape
        n = size[:, 0].long()
        e = size[:, 1].long()
        node_ok = torch.arange(max_n, device=nodes.device)[None, :] < n[:, None]
        edge_ok = torch.arange(edges.shape[1], device=nodes.device)[None, :] < e[:, None]
        offset = torch.cumsum(n, 0) - n
        batch = torch.arange(b, device=nodes.device)[:, None].expand(b, max_n)[node_ok]
        flat = nodes[node_ok].long()
        x = self.text(flat[:, 1].clamp(0, self.text.num_embeddings - 1)) \
            + self.ntype(flat[:, 0].clamp(0, self.ntype.num_embeddings - 1))
        ed = edges.long()
        shift = offset[:, None].expand(b, edges.shape[1])
        src = (ed[..., 0] + shift)[edge_ok]
        dst = (ed[..., 1] + shift)[edge_ok]
        edge_index = torch.stack([src, dst])
        edge_type = ed[..., 2][edge_ok]
        edge_pos = ed[..., 3][edge_ok].clamp(0, MAX_EDGE_POSITION - 1)
        for conv in self.convs:
            x = conv(x, edge_index, edge_type, edge_pos)
        if x.shape[0] == 0:
            return torch.zeros(b, 2 * x.shape[1], device=nodes.device)
        return torch.cat([global_mean_pool(x, batch, size=b),
                          global_max_pool(x, batch, size=b)], dim=1)


def policy_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    """SB3 ``policy_kwargs`` for a ``ppo-llvm`` config."""
    net = config.get("net", {}) or {}
    hidden = int(net.get("hidden", 128))
    return {
        "features_extractor_class": PassOrderingExtractor,
        "features_extractor_kwargs": {"hidden": hidden, "gnn_dim": int(net.get("gnn_dim", 64)),
                                      "gnn_layers": int(net.get("gnn_layers", 3))},
        "net_arch": {"pi": [hidden], "vf": [hidden]},
    }


# -- exported policies -------------------------------------------------------------------------
def export_policy(model: Any, config: dict[str, Any], path: str | Path,
                  metadata: dict[str, Any] | None = None) -> Path:
    """Save the policy network and what is needed to rebuild it as a small ``.pt`` file."""
    from optgym.cache import atomic_write

    env_id = config.get("env_id", "optgym/llvm-pipelines-ic-v0")
    from optgym.envs import _ENVS

    action_space = next((kw.get("action_space", "flags-v0") for i, _, kw in _ENVS
                         if i == env_id.removeprefix("optgym:")), "flags-v0")
    payload = {
        "format": EXPORT_FORMAT,
        "observation": config.get("observation", "autophase"),
        "action_space": action_space,
        "episode_length": int(config.get("episode_length", 45)),
        "mask_no_ops": bool(config.get("mask_no_ops", True)),
        "max_nodes": int(config.get("max_nodes", 4096)),
        "max_edges": int(config.get("max_edges", 12288)),
        "net": dict(config.get("net", {}) or {}),
        "state_dict": {k: v.detach().cpu() for k, v in model.policy.state_dict().items()},
        "metadata": metadata or {},
    }
    import io

    buf = io.BytesIO()
    torch.save(payload, buf)
    path = Path(path)
    atomic_write(path, buf.getvalue())
    return path


def load_exported(path: str | Path, device: str = "cpu") -> tuple[Any, dict[str, Any]]:
    """Rebuild an exported policy: ``(policy, payload-without-weights)``."""
    from sb3_contrib.common.maskable.policies import MaskableMultiInputActorCriticPolicy

    path = Path(path)
    if not path.is_file():
        raise OptgymError(f"PPO checkpoint {path} does not exist")
    if path.suffix == ".zip":
        from sb3_contrib import MaskablePPO

        model = MaskablePPO.load(path, device=device)
        info = {"observation": "programl" if "graph_nodes" in model.observation_space.spaces
                else "autophase", "action_space": None, "episode_length": 45,
                "mask_no_ops": True, "max_nodes": 4096, "max_edges": 12288}
        spec = model.observation_space
        if "graph_nodes" in spec.spaces:
            info["max_nodes"] = spec["graph_nodes"].shape[0]
            info["max_edges"] = spec["graph_edges"].shape[0]
        return model.policy, info
    try:
        payload = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same error to the user
        raise OptgymError(f"PPO checkpoint {path} cannot be read: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format") != EXPORT_FORMAT:
        raise OptgymError(f"PPO checkpoint {path} is not an {EXPORT_FORMAT} export")
    from optgym.llvm.passes import action_set

    n_actions = len(action_set(payload["action_space"]))
    obs_space = observation_space(payload["observation"], n_actions,
                                  max_nodes=payload["max_nodes"], max_edges=payload["max_edges"])
    policy = MaskableMultiInputActorCriticPolicy(
        obs_space, spaces.Discrete(n_actions), lr_schedule=lambda _: 0.0,
        **policy_kwargs({"net": payload["net"]}))
    policy.load_state_dict(payload.pop("state_dict"))
    policy.to(device).eval()
    return policy, payload


class PpoPolicy:
    """A trained PPO model as a pass-ordering policy.

    Spends the budget on a greedy rollout of the model (the most likely unmasked pass at each
    step), then on sampled rollouts, keeping the shortest best prefix seen; with
    ``fallback_oz`` one compilation is kept for -Oz, returned when it is smaller.

    Args:
        checkpoint: an exported ``.pt`` (see :func:`export_policy`) or an SB3 ``.zip``;
            default: the model shipped in the package.
        seed: seeds the sampled rollouts.
    """

    name = "ppo"

    def __init__(self, checkpoint: str | Path | None = None, *, device: str = "cpu",
                 fallback_oz: bool = True, seed: int = 0):
        path = Path(checkpoint) if checkpoint else SHIPPED_CHECKPOINT
        if checkpoint is None and not path.exists():
            raise OptgymError("no PPO model ships with this build; pass checkpoint=PATH "
                              "(train one with `optgym train ppo-llvm`)")
        self.policy, self.info = load_exported(path, device)
        self.fallback_oz = fallback_oz
        self.seed = seed

    def _act(self, obs: dict[str, np.ndarray], mask: np.ndarray, deterministic: bool) -> int:
        action, _ = self.policy.predict(obs, action_masks=mask, deterministic=deterministic)
        return int(np.asarray(action).reshape(-1)[0])

    def search(self, env: Any, budget: Budget) -> SearchResult:
        from optgym.envs.llvm import LlvmEnv

        clock = budget.clock()
        benchmark = env.benchmark
        if benchmark is None:
            raise OptgymError("reset the environment at a benchmark before searching")
        wanted = self.info.get("action_space") or env.actions.name
        own = env.actions.name != wanted
        work = LlvmEnv(benchmark, observation_space=None, action_space=wanted) if own else env
        try:
            if own:
                work.reset()
            mode = self.info["observation"]
            length = int(self.info["episode_length"])
            tracker = _EpisodeTracker(len(work.actions), length)
            reserve = 1 if self.fallback_oz else 0
            limit = budget.compilations

            def left() -> bool:
                return not clock.exhausted and (limit is None or clock.compilations < limit - reserve)

            best_count = int(work.observation["IrInstructionCount"])
            best_steps: list[str] = []
            rollout, generator = 0, torch.Generator().manual_seed(self.seed)
            while left():
                if rollout:
                    work.reset(options={"benchmark": benchmark})
                    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
                tracker.reset()
                steps: list[str] = []
                while left() and len(steps) < length:
                    obs = encode_observation(work, tracker, mode, max_nodes=self.info["max_nodes"],
                                             max_edges=self.info["max_edges"])
                    action = self._act(obs, tracker.mask(self.info.get("mask_no_ops", True)),
                                       deterministic=rollout == 0)
                    _, _, terminated, _, info = work.step(action)
                    clock.spend()
                    if "error" in info:  # the pass crashed LLVM; the module is as it was
                        break
                    steps.append(work.actions[action].pipeline)
                    tracker.record(action, not info.get("action_had_no_effect", False))
                    count = int(work.observation["IrInstructionCount"])
                    if count < best_count:
                        best_count, best_steps = count, list(steps)
                    if terminated:
                        break
                rollout += 1
            if self.fallback_oz:
                clock.spend()
                if int(work.observation["IrInstructionCountOz"]) <= best_count:
                    best_steps = ["default<Oz>"]
        finally:
            if own:
                work.close()
        if list(env.actions_taken) != best_steps:
            env.reset(options={"benchmark": benchmark, "replay": best_steps})
        return result_from_env(env, best_steps, clock, self.name)


def ppo_policy(**kwargs: Any) -> PpoPolicy:
    """The factory behind ``get_policy("ppo", checkpoint=..., ...)``.

    A factory rather than the class: ``get_policy`` returns objects that have a ``search``
    attribute as they are, and a class has one, so the class itself would come back unbuilt.
    """
    return PpoPolicy(**kwargs)


# -- evaluation --------------------------------------------------------------------------------
def evaluate_chunk(checkpoint: str, budget: int, fallback_oz: bool, uris: list[str]) -> list[dict]:
    """Run a checkpoint's policy on some benchmarks (one worker's share of an evaluation)."""
    from optgym.envs.llvm import LlvmEnv

    torch.set_num_threads(1)
    policy = PpoPolicy(checkpoint, fallback_oz=fallback_oz)
    env = LlvmEnv(observation_space=None, action_space=policy.info["action_space"])
    rows = []
    try:
        for uri in uris:
            env.reset(options={"benchmark": uri})
            started = time.monotonic()
            result = policy.search(env, Budget(compilations=budget))
            rows.append({"benchmark": uri, "instruction_count": result.instruction_count,
                         "oz_count": result.oz_count, "o0_count": result.o0_count,
                         "oz_ratio": result.oz_ratio, "compilations": result.compilations,
                         "seconds": time.monotonic() - started, "steps": result.steps})
    finally:
        env.close()
    return rows


def summarize(rows: list[dict]) -> dict[str, float]:
    """Geomean of -Oz/ours, share of programs better than -Oz, mean seconds per program."""
    if not rows:
        return {"programs": 0}
    ratios = [r["oz_ratio"] for r in rows]
    return {"programs": len(rows),
            "geomean_oz_over_ours": math.exp(sum(math.log(r) for r in ratios) / len(ratios)),
            "share_improved": sum(r > 1.0 for r in ratios) / len(ratios),
            "share_worse": sum(r < 1.0 for r in ratios) / len(ratios),
            "seconds_per_program": sum(r["seconds"] for r in rows) / len(rows)}


def evaluate(checkpoint: str | Path, uris: list[str], *, budget: int = 45, fallback_oz: bool = True,
             ctx: Any = None, chunks: int = 4) -> list[dict]:
    """Evaluate a checkpoint on benchmarks, in parallel over Ray when ``ctx`` has an address."""
    fn = functools.partial(evaluate_chunk, str(checkpoint), budget, fallback_oz)
    if ctx is None:
        return fn(list(uris))
    n = max(1, min(chunks, len(uris)))
    parts = [list(uris[i::n]) for i in range(n)]
    return [row for part in ctx.map(fn, parts, desc="evaluate") for row in part]


# -- the recipe --------------------------------------------------------------------------------
def _benchmark_uris(spec: dict[str, Any]) -> list[str]:
    from optgym.datasets import get_dataset

    uris: list[str] = []
    if spec.get("split"):
        uris += get_dataset(spec.get("dataset", "builtin-v0")).benchmark_uris(spec["split"])
    if spec.get("csmith"):
        uris += get_dataset("csmith-v0").first_uris(int(spec["csmith"]), spec.get("csmith_split", "test"))
    return uris


def train_ppo(config: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """The ``ppo-llvm`` recipe: MaskablePPO on an ``optgym/llvm-*`` environment.

    See ``optgym/agents/configs/ppo-llvm.yaml`` for every option. Under ``torchrun`` each rank
    collects its own rollouts (different seeds) and gradients are averaged across ranks before
    each optimizer step, so the ranks keep identical weights. The main rank writes
    TensorBoard logs, ``checkpoints/ppo-latest.zip`` (resumable) and ``checkpoints/ppo.pt``
    (the exported policy), then evaluates it (over Ray when the run has an address).
    """
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecMonitor

    torch.set_num_threads(int(config.get("torch_threads", 1)))
    n_envs = int(config.get("n_envs", 2))
    seed = ctx.seed + 1000 * ctx.rank
    factories = [functools.partial(make_env, config, seed + i) for i in range(n_envs)]
    vec_cls = SubprocVecEnv if config.get("vec_env", "subproc") == "subproc" and n_envs > 1 \
        else DummyVecEnv
    venv = VecMonitor(vec_cls(factories))  # episode returns for rollout/ep_rew_mean
    hp = dict(config.get("ppo", {}) or {})
    if ctx.distributed:
        hp["target_kl"] = None  # early stopping per rank would desynchronize the all-reduce
    total = int(config.get("total_timesteps", 20000))
    latest = ctx.checkpoint_dir / "ppo-latest.zip"
    try:
        if ctx.resume and latest.exists():
            model = MaskablePPO.load(latest, env=venv, device=ctx.device)
        else:
            model = MaskablePPO("MultiInputPolicy", venv, seed=seed, device=ctx.device,
                                policy_kwargs=policy_kwargs(config), verbose=0, **hp)
        start = int(model.num_timesteps)
        model.set_logger(configure(str(ctx.log_dir), ["tensorboard"] if ctx.is_main else []))
        if ctx.distributed:
            _make_data_parallel(model, ctx)
        every = int(config.get("checkpoint_every", 10000))
        bar = ctx.progress(total=total, initial=start, desc="ppo-llvm")
        max_seconds = config.get("max_seconds")
        started = time.monotonic()

        class _Callback(BaseCallback):
            def __init__(self) -> None:
                super().__init__()
                self.last_save = start

            def _on_step(self) -> bool:
                bar.update(self.training_env.num_envs)
                if ctx.is_main and self.num_timesteps - self.last_save >= every:
                    self.last_save = self.num_timesteps
                    with ctx.atomic_path("ppo-latest.zip") as tmp:
                        self.model.save(tmp)
                if max_seconds is not None:
                    over = time.monotonic() - started > float(max_seconds)
                    if ctx.distributed:  # every rank must stop at the same step
                        over = ctx.all_reduce_mean(float(over)) > 0
                    return not over
                return True

        if total > start:
            model.learn(total_timesteps=total - start, callback=_Callback(),
                        reset_num_timesteps=False)
        bar.close()
        seconds = time.monotonic() - started
        steps_done = int(model.num_timesteps) - start
        summary: dict[str, Any] = {
            "start_timesteps": start, "timesteps": int(model.num_timesteps),
            "train_seconds": round(seconds, 1),
            "env_steps_per_second": round(steps_done * ctx.world_size / max(seconds, 1e-9), 1),
        }
        from optgym.agents.train import parameter_digest

        summary["param_digest"] = parameter_digest(model.policy)
        if ctx.is_main:
            with ctx.atomic_path("ppo-latest.zip") as tmp:
                model.save(tmp)
            exported = export_policy(model, config, ctx.checkpoint_dir / "ppo.pt", {
                "timesteps": int(model.num_timesteps), "config": config,
                "train_seconds": round(seconds, 1)})
            summary["policy"] = str(exported)
            eval_spec = config.get("eval") or {}
            uris = _benchmark_uris(eval_spec)
            if uris:
                rows = evaluate(exported, uris, budget=int(eval_spec.get("budget", 45)),
                                fallback_oz=bool(eval_spec.get("fallback_oz", True)),
                                ctx=ctx if ctx.ray_address else None)
                summary["eval"] = summarize(rows)
                for key, value in summary["eval"].items():
                    ctx.log_scalars(int(model.num_timesteps), **{f"eval/{key}": value})
                (ctx.checkpoint_dir.parent / "eval.json").write_text(
                    json.dumps(rows, indent=1))
        return summary
    finally:
        venv.close()


def _make_data_parallel(model: Any, ctx: Any) -> None:
    """Start every rank from rank 0's weights and average gradients before each step."""
    import torch.distributed as dist

    params = list(model.policy.parameters())
    with torch.no_grad():
        for p in params:
            dist.broadcast(p.data, src=0)
    optimizer = model.policy.optimizer
    step = optimizer.step

    def all_reduced_step(*args: Any, **kwargs: Any) -> Any:
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            dist.all_reduce(p.grad)
            p.grad /= ctx.world_size
        return step(*args, **kwargs)

    optimizer.step = all_reduced_step
