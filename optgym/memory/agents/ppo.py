"""MaskablePPO (sb3-contrib) on ``optgym/memory-v1``: one policy trained across several workloads.

Training has two phases: a warm start that fits the policy to a teacher's moves (the XLA-style rule,
or the MCTS agent's moves, which distils the tree search into the policy), then PPO with action
masks on the environments' reward. Evaluation plays the policy deterministically, once.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from optgym.memory.agents.recipes import MemoryPpoConfig
from optgym.memory.baselines import MappingResult
from optgym.memory.env import MemoryMappingEnv
from optgym.memory.problem import mapping_height

#: The one place the training settings' defaults live (shared with ``optgym train memory-ppo``).
_DEFAULTS = MemoryPpoConfig()


def _teacher_actions(env: MemoryMappingEnv, teacher: str, simulations: int) -> list[int]:
    """The actions of a teacher episode: ``xla`` (the XLA-style baseline's offsets, replayed) or
    ``mcts`` (tree search with the exact simulator, as played)."""
    if teacher == "xla":
        actions, (_, info), done = [], env.reset(), False
        while not done:
            a = env.baseline_action()
            actions.append(a)
            _, _, done, _, info = env.step(a)
        return actions
    if teacher == "mcts":
        from optgym.memory.agents.mcts import MCTS

        search = MCTS(env, None, simulations=simulations)
        root_actions: list[int] = []
        search.run_episode(action_log=root_actions)
        return root_actions
    raise ValueError(f"unknown teacher {teacher!r}; choose xla or mcts")


def _imitate_baseline(model, envs: list[MemoryMappingEnv], epochs: int, teacher: str = "xla",
                      simulations: int = 8) -> float:
    """Warm start: fit the policy by maximum likelihood to a teacher's decisions (the XLA-style
    rule, or MCTS's moves: distilling the search into the policy, as AlphaGo's policy started from
    supervised moves); PPO then fine-tunes it."""
    import torch

    obs, acts, masks = [], [], []
    for env in envs:
        actions = _teacher_actions(env, teacher, simulations)
        o, info = env.reset()
        for a in actions:
            obs.append(o)
            acts.append(a)
            masks.append(info["action_mask"])
            o, _, _, _, info = env.step(a)
    policy = model.policy
    obs_t = torch.as_tensor(np.stack(obs))
    acts_t = torch.as_tensor(acts)
    masks_np = np.stack(masks)
    loss = torch.zeros(())
    opt = torch.optim.Adam(policy.parameters(), lr=1e-3)  # PPO's own rate is too slow to fit
    for _ in range(epochs):
        dist = policy.get_distribution(obs_t, action_masks=masks_np)
        loss = -dist.log_prob(acts_t).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.detach())


def train_ppo(workloads: list[str], hardware: str = _DEFAULTS.hardware, *,
              steps: int = _DEFAULTS.steps, seed: int = 0, out: str | Path | None = None,
              progress: bool = True, n_steps: int = _DEFAULTS.n_steps,
              imitation_epochs: int = _DEFAULTS.imitation_epochs, teacher: str = _DEFAULTS.teacher,
              teacher_simulations: int = _DEFAULTS.teacher_simulations):
    """Train MaskablePPO on one env per workload (vectorized in-process); returns the model.

    ``imitation_epochs > 0`` first fits the policy to a teacher's decisions (``teacher``: ``xla``
    or ``mcts``, see :func:`_imitate_baseline`); ``0`` trains from scratch."""
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    torch.set_num_threads(1)  # small MLPs: one thread is fastest and leaves cores to the envs

    def factory(w):
        return lambda: MemoryMappingEnv(w, hardware)

    venv = DummyVecEnv([factory(w) for w in workloads])
    model = MaskablePPO("MlpPolicy", venv, n_steps=n_steps, batch_size=64,
                        gamma=1.0, ent_coef=0.0, learning_rate=1e-4, seed=seed, verbose=0, device="cpu",
                        policy_kwargs={"net_arch": [128, 128]})
    if imitation_epochs > 0:
        _imitate_baseline(model, [MemoryMappingEnv(w, hardware) for w in workloads], imitation_epochs,
                          teacher, teacher_simulations)
    # Without a logger of its own, SB3 makes an empty /tmp/SB3-<date> directory per run.
    from stable_baselines3.common.logger import Logger

    model.set_logger(Logger(folder=None, output_formats=[]))
    model.learn(total_timesteps=int(steps), progress_bar=False)  # sb3's bar needs 'rich'
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.stem}.tmp.zip")
        model.save(tmp)
        tmp.replace(out if out.suffix == ".zip" else out.with_suffix(".zip"))
    return model


def ppo_mapping(workload, hardware="tpu-like", *, model=None, model_path: str | Path | None = None,
                env: MemoryMappingEnv | None = None, samples: int = 4, seed: int = 0) -> MappingResult:
    """Map one workload with a trained MaskablePPO policy: one deterministic rollout, then
    ``samples`` rollouts drawn from the policy (masked actions), keeping the fastest mapping.
    Sampling is cheap next to training and is how a stochastic policy is used at inference."""
    import torch
    from sb3_contrib import MaskablePPO

    t0 = time.perf_counter()
    if model is None:
        if model_path is None:
            raise ValueError("ppo_mapping needs a model or a model_path")
        model = MaskablePPO.load(model_path, device="cpu")
    env = env or MemoryMappingEnv(workload, hardware)
    torch.manual_seed(seed)
    best = None
    for rollout in range(1 + max(0, samples)):
        obs, info = env.reset()
        done = False
        while not done:
            action, _ = model.predict(obs, action_masks=env.action_masks(), deterministic=rollout == 0)
            obs, _, done, _, info = env.step(int(action))
        if best is None or env.runtime < best[1]:
            best = (info["mapping"], env.runtime, info["speedup_vs_baseline"], info["intervals"])
    mapping, runtime, speedup, intervals = best
    return MappingResult(mapping, runtime, time.perf_counter() - t0, "ppo",
                         mapping_height(env.problem, mapping),
                         f"speedup vs XLA {speedup:.4f}, best of {1 + max(0, samples)} rollouts", intervals)


