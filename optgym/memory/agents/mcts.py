"""AlphaZero-style Monte Carlo tree search for ``optgym/memory-v1``, in the mallocMuZero spirit.

The environment is its own exact simulator (``clone_state`` / ``restore_state``), so no dynamics
model is learned: a small policy/value network guides PUCT search, and self-play trains it (policy
toward the search's visit counts, value toward the return actually obtained). A leaf's value mixes
the network's estimate with a fast greedy completion of the episode (XLA's rules for every
remaining segment, exact timeline), as AlphaGo mixed its value net with rollouts; ``rollout_weight=0`` gives
pure AlphaZero. Every completion the search simulates is a full valid mapping; the agent keeps the
best one it has seen (the first ones are the XLA and XLA+sim baselines), and reports both
that and the mapping its own move choices reach.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optgym.memory.baselines import MappingResult, xla_complete, xla_mapping
from optgym.memory.env import MemoryMappingEnv
from optgym.memory.problem import mapping_height

VALUE_SCALE = 10.0  # returns are fractions of the baseline runtime; scale them near 1 for the net



def _fit(net: Any, opt: Any, samples: list, epochs: int) -> Any:
    """Fit the policy/value net to (observation, target policy, legal mask, outcome) samples
    for ``epochs`` full-batch steps; the last loss."""
    import torch
    from torch.nn import functional as F  # noqa: N812

    obs = torch.as_tensor(np.stack([s[0] for s in samples]))
    pi = torch.as_tensor(np.stack([s[1] for s in samples]), dtype=torch.float32)
    mask = torch.as_tensor(np.stack([s[2] for s in samples]))
    z = torch.as_tensor([s[3] * VALUE_SCALE for s in samples], dtype=torch.float32)
    net.train()
    for _ in range(epochs):
        logits, v = net(obs)
        logits = logits.masked_fill(~mask, -1e9)
        loss = -(pi * F.log_softmax(logits, -1)).sum(-1).mean() + F.mse_loss(v, z)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss

def make_net(obs_dim: int, n_actions: int, hidden: int = 128):
    """The policy/value network: a two-layer MLP trunk with a policy head and a value head."""
    import torch
    from torch import nn

    class PolicyValueNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.obs_dim, self.n_actions, self.hidden = obs_dim, n_actions, hidden
            self.trunk = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
            self.policy = nn.Linear(hidden, n_actions)
            self.value = nn.Linear(hidden, 1)

        def forward(self, x):
            h = self.trunk(x)
            return self.policy(h), self.value(h).squeeze(-1)

    torch.manual_seed(0)
    return PolicyValueNet()


def save_net(net, path: str | Path) -> None:
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save({"obs_dim": net.obs_dim, "n_actions": net.n_actions, "hidden": net.hidden,
                "state": net.state_dict()}, tmp)
    tmp.replace(path)


def load_net(path: str | Path):
    import torch

    d = torch.load(path, map_location="cpu", weights_only=True)
    net = make_net(d["obs_dim"], d["n_actions"], d["hidden"])
    net.load_state_dict(d["state"])
    return net.eval()


@dataclass
class _Node:
    state: tuple
    obs: np.ndarray
    mask: np.ndarray
    terminal: bool
    prior: np.ndarray | None = None
    value: float = 0.0
    children: dict = field(default_factory=dict)  # action -> (reward, _Node)
    visits: np.ndarray | None = None
    q_sum: np.ndarray | None = None


class MCTS:
    """PUCT search over one :class:`MemoryMappingEnv` (which it drives as its simulator)."""

    def __init__(self, env: MemoryMappingEnv, net=None, *, simulations: int = 16, c_puct: float = 1.25,
                 rollout_weight: float = 0.5, seed: int = 0, prior_mix: float = 0.0):
        self.env, self.net = env, net
        self.prior_mix = prior_mix  # share of a uniform prior mixed into the net's (keeps breadth)
        self.simulations, self.c_puct, self.rollout_weight = simulations, c_puct, rollout_weight
        self.rng = np.random.default_rng(seed)
        # the baselines are candidates from the start (XLA's, and XLA's choices kept only where
        # the timeline allows), so the search is never worse than either
        self.best_runtime = env.baseline_runtime
        self.best_mapping: np.ndarray | None = env.baseline.mapping.copy()
        self.best_intervals = env.baseline.intervals
        stronger = xla_mapping(env.problem, env.hardware, env.cost, simulate=True)
        if stronger.runtime < self.best_runtime:
            self.best_runtime, self.best_mapping = stronger.runtime, stronger.mapping.copy()
            self.best_intervals = stronger.intervals
        self.rollouts = 0  # timeline simulations spent on completions (the search's cost)

    # --------------------------------------------------------------------------- evaluation
    def _evaluate(self, obs: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float]:
        if self.net is None:
            prior = mask / mask.sum()
            return prior, 0.0
        import torch

        with torch.no_grad():
            logits, v = self.net(torch.as_tensor(obs).unsqueeze(0))
        logits = logits[0].numpy().astype(np.float64)
        logits[~mask] = -np.inf
        p = np.exp(logits - logits[mask].max())
        p = (1 - self.prior_mix) * p / p.sum() + self.prior_mix * mask / mask.sum()
        return p, float(v[0]) / VALUE_SCALE

    def _rollout(self) -> float:
        """Complete the episode from the env's current state with XLA's rules (picker, best fit,
        copy resources; no simulation until the end) and return its future return."""
        env = self.env
        pl = env.placement.copy()
        rt, _ = xla_complete(env.cost, pl, env.order[env.pos:], planner=env.planner)
        self.rollouts += 1
        if rt < self.best_runtime:
            self.best_runtime, self.best_mapping = rt, pl.offset.copy()
            self.best_intervals = (pl.lo.copy(), pl.hi.copy())
        return (env.runtime - rt) / env.baseline_runtime

    def _make_node(self, obs, info, terminal: bool) -> _Node:
        node = _Node(self.env.clone_state(), obs, info["action_mask"].copy(), terminal)
        if terminal:
            if self.env.runtime < self.best_runtime:
                self.best_runtime, self.best_mapping = self.env.runtime, self.env.mapping()
                self.best_intervals = self.env.intervals()
            return node
        node.prior, v_net = self._evaluate(obs, node.mask)
        w = self.rollout_weight if self.net is not None else 1.0
        v_roll = self._rollout() if w > 0 else 0.0
        node.value = w * v_roll + (1 - w) * v_net
        n = len(node.mask)
        node.visits, node.q_sum = np.zeros(n), np.zeros(n)
        return node

    # --------------------------------------------------------------------------- search
    def _simulate(self, root: _Node) -> None:
        path: list[tuple[_Node, int, float]] = []
        node = root
        while True:
            if node.terminal:
                value = 0.0
                break
            total = node.visits.sum()
            q = np.where(node.visits > 0, node.q_sum / np.maximum(node.visits, 1), 0.0)
            # scale-free exploration: rewards are small fractions, so normalize Q by its range
            if (node.visits > 0).sum() > 1:
                lo, hi = q[node.visits > 0].min(), q[node.visits > 0].max()
                qn = np.where(node.visits > 0, (q - lo) / max(hi - lo, 1e-12), 0.0)
            else:
                qn = np.zeros_like(q)
            u = qn + self.c_puct * node.prior * math.sqrt(total + 1) / (1 + node.visits)
            u[~node.mask] = -np.inf
            a = int(np.argmax(u))
            if a in node.children:
                r, child = node.children[a]
                path.append((node, a, r))
                node = child
                continue
            self.env.restore_state(node.state)
            obs, r, term, _, info = self.env.step(a)
            child = self._make_node(obs, info, term)
            node.children[a] = (r, child)
            path.append((node, a, r))
            value = child.value
            break
        for parent, a, r in reversed(path):
            value = r + value
            parent.visits[a] += 1
            parent.q_sum[a] += value

    def run_episode(self, *, temperature: float = 0.0, collect: bool = False,
                    action_log: list[int] | None = None, max_depth: int | None = None):
        """Play one episode with search at every move; returns (final runtime, mapping, samples).
        ``action_log``, when given, receives the moves played. With ``max_depth``, the tree
        decides only the first ``max_depth`` segments of the order (the most memory-bound) and
        XLA's rules complete the rest (the better of keeping each choice only where the timeline
        allows, and not checking)."""
        env = self.env
        obs, info = env.reset()
        root = self._make_node(obs, info, False)
        samples = []
        depth = 0
        while not root.terminal and (max_depth is None or depth < max_depth):
            depth += 1
            legal = int(root.mask.sum())
            if temperature > 0 and legal > 1 and self.net is not None:
                # AlphaZero's root noise, so self-play keeps trying moves the net already dislikes
                noise = np.zeros_like(root.prior)
                noise[root.mask] = self.rng.dirichlet([0.3] * legal)
                root.prior = 0.75 * root.prior + 0.25 * noise
            for _ in range(self.simulations if legal > 1 else 1):
                self._simulate(root)
            visits = root.visits.copy()
            if temperature > 0:
                pi = visits ** (1.0 / temperature)
                pi = pi / pi.sum()
                a = int(self.rng.choice(len(pi), p=pi))
            else:
                a = int(np.argmax(visits))
            if collect:
                samples.append((root.obs, visits / visits.sum(), root.mask.copy(), env.runtime))
            if action_log is not None:
                action_log.append(a)
            if a not in root.children:  # a single-legal-action root may be unexpanded
                env.restore_state(root.state)
                obs, r, term, _, info = env.step(a)
                root.children[a] = (r, self._make_node(obs, info, term))
            root = root.children[a][1]
        env.restore_state(root.state)
        if not root.terminal:  # depth-limited: XLA's rules decide the rest, each choice kept
            # only where the timeline allows (one pass, as the xla-sim baseline), or not checked
            final_runtime = np.inf
            for simulate in (True, False):
                pl = env.placement.copy()
                rt, _ = xla_complete(env.cost, pl, env.order[env.pos:], planner=env.planner, simulate=simulate)
                if rt < final_runtime:
                    final_runtime, final_mapping = rt, pl.offset.copy()
                    final_intervals = (pl.lo.copy(), pl.hi.copy())
        else:
            final_runtime, final_mapping, final_intervals = env.runtime, env.mapping(), env.intervals()
        if final_runtime < self.best_runtime:
            self.best_runtime, self.best_mapping = final_runtime, final_mapping
            self.best_intervals = final_intervals
        if collect:
            samples = [(o, pi, m, (rt - final_runtime) / env.baseline_runtime) for o, pi, m, rt in samples]
        return final_runtime, final_mapping, samples


def mcts_mapping(problem_name, hardware="tpu-like", *, net=None, model_path: str | Path | None = None,
                 simulations: int = 16, rollout_weight: float = 1.0, seed: int = 0,
                 env: MemoryMappingEnv | None = None, prior_mix: float = 0.5,
                 max_depth: int | None = None) -> MappingResult:
    """Map one workload with MCTS. ``runtime`` is the best mapping the search simulated (never
    worse than the baseline, which seeds it); the note gives the runtime of the mapping its own
    move choices reach. With a net, leaves are valued by the XLA rollout
    (``rollout_weight=1``) and the prior is half the net's, half uniform (``prior_mix=0.5``):
    measured on the held-out workloads, the net's value estimate and a prior without the uniform
    share both lost to plain MCTS, this mix beat it."""
    t0 = time.perf_counter()
    env = env or MemoryMappingEnv(problem_name, hardware)
    if net is None and model_path is not None:
        net = load_net(model_path)
    sims0 = env.cost.simulations
    search = MCTS(env, net, simulations=simulations, rollout_weight=rollout_weight, seed=seed,
                  prior_mix=prior_mix)
    played_rt, _, _ = search.run_episode(max_depth=max_depth)
    mapping, intervals = search.best_mapping, search.best_intervals
    note = (f"played {played_rt * 1e6:.3f} us, best simulated {search.best_runtime * 1e6:.3f} us, "
            f"{simulations} simulations/move, {search.rollouts} rollouts")
    res = MappingResult(mapping, env.cost.runtime(mapping, intervals), time.perf_counter() - t0, "mcts",
                        mapping_height(env.problem, mapping), note, intervals)
    res.rollouts = search.rollouts  # type: ignore[attr-defined]
    res.simulations = env.cost.simulations - sims0  # type: ignore[attr-defined]
    res.played_runtime = played_rt  # type: ignore[attr-defined]
    return res


def train_mcts(workloads: list[str], hardware: str = "tpu-like", *, iterations: int = 4,
               episodes_per_iteration: int = 1, simulations: int = 8, epochs: int = 20,
               out: str | Path | None = None, seed: int = 0, progress: bool = True,
               max_seconds: float | None = None) -> tuple[object, list[dict]]:
    """Self-play training: search with the current net, fit the net to the search's visit
    distributions and the returns obtained, repeat. Returns (net, per-iteration log)."""
    import torch
    from tqdm import tqdm

    t0 = time.perf_counter()
    envs = [MemoryMappingEnv(w, hardware) for w in workloads]
    obs_dim = envs[0].observation_space.shape[0]
    n_actions = int(envs[0].action_space.n)
    net = make_net(obs_dim, n_actions)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    buffer: list = []
    log = []
    rng = np.random.default_rng(seed)
    bar = tqdm(range(iterations), desc="mcts self-play", disable=not progress)
    for it in bar:
        net.eval()
        runtimes = []
        for ep in range(episodes_per_iteration):
            env = envs[int(rng.integers(len(envs)))]
            search = MCTS(env, net, simulations=simulations, seed=seed + 1000 * it + ep)
            rt, _, samples = search.run_episode(temperature=1.0, collect=True)
            buffer.extend(samples)
            runtimes.append(rt / env.baseline_runtime)
        buffer = buffer[-20000:]
        loss = _fit(net, opt, buffer, epochs)
        log.append({"iteration": it, "loss": float(loss.detach()), "runtime_vs_baseline": float(np.mean(runtimes)),
                    "samples": len(buffer)})
        bar.set_postfix(loss=f"{float(loss.detach()):.3f}", rt=f"{np.mean(runtimes):.3f}")
        if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
            break
    net.eval()
    if out is not None:
        save_net(net, out)
    return net, log


def _best_mapping_samples(env: MemoryMappingEnv, mapping: np.ndarray) -> list:
    """Replay ``mapping`` in ``env``: at each step the action that keeps to it (its offset among
    the candidates, 0 when it is slow or not offered) as a one-hot policy target, and the return
    still to come as the value target."""
    obs, info = env.reset()
    steps = []
    done = False
    while not done:
        b = env.current()
        hit = np.flatnonzero(env._cands == mapping[b]) if mapping[b] >= 0 else np.zeros(0, dtype=np.int64)
        a = 1 + int(hit[0]) if len(hit) else 0
        pi = np.zeros(len(info["action_mask"]), dtype=np.float32)
        pi[a] = 1.0
        steps.append([obs, pi, info["action_mask"].copy(), env.runtime])
        obs, _, done, _, info = env.step(a)
    final = env.runtime
    return [(o, p, m, (rt - final) / env.baseline_runtime) for o, p, m, rt in steps]


def train_mcts_on_best(workloads: list[str], hardware: str = "tpu-like", *, simulations: int = 8,
                       rounds: int = 1, epochs: int = 300, out: str | Path | None = None, seed: int = 0,
                       progress: bool = True, max_seconds: float | None = None,
                       max_depth: int | None = None, teacher: str = "mcts",
                       teacher_seconds: float = 5.0) -> tuple[object, list[dict]]:
    """Expert iteration on the best mapping each search finds: run MCTS on every training
    workload, replay the best complete mapping it simulated, and fit the net's policy to that
    mapping's decisions (one-hot) and its value to the return still to come; with
    ``rounds > 1`` the next round searches with the fitted net. Sharp targets are what make the
    prior worth following at few simulations (visit counts at 8 simulations are nearly flat)."""
    import torch
    from tqdm import tqdm

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    envs = [MemoryMappingEnv(w, hardware) for w in workloads]
    net = make_net(envs[0].observation_space.shape[0], int(envs[0].action_space.n))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    samples: list = []
    log = []
    for r in range(rounds):
        gains = []
        for env in tqdm(envs, desc=f"search round {r}", disable=not progress):
            if teacher == "search":  # the local search's best mapping as the target
                from optgym.memory.agents.search import search_mapping

                res = search_mapping(env.problem, env.hardware, time_limit=teacher_seconds, cost=env.cost,
                                     seed=seed + r)
                best_rt, best_map = res.runtime, res.mapping
            else:
                search = MCTS(env, net if r > 0 else None, simulations=simulations, rollout_weight=1.0,
                              seed=seed + r)
                search.run_episode(max_depth=max_depth)
                best_rt, best_map = search.best_runtime, search.best_mapping
            gains.append(1 - best_rt / env.baseline_runtime)
            samples.extend(_best_mapping_samples(env, best_map))
            if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
                break
        loss = _fit(net, opt, samples, epochs)
        net.eval()
        log.append({"round": r, "loss": float(loss.detach()), "samples": len(samples),
                    "search_gain_vs_baseline": float(np.mean(gains))})
        if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
            break
    if out is not None:
        save_net(net, out)
    return net, log
