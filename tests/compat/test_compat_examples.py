"""CompilerGym's example scripts and leaderboard policies, rewritten against optgym.compat.

The scripts are CompilerGym's (examples/random_walk.py, brute_force.py, tabular_q.py,
llvm_rl/wrappers.py; leaderboard/llvm_instcount/random_search and e_greedy) in our own words,
with budgets cut to seconds. The leaderboard policies run through ``optgym leaderboard eval``
as CompilerGym's ``policy(env) -> None`` functions and their rows are replayed by opt-19.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from queue import Queue

import numpy as np
import pytest

from optgym import compat as compiler_gym
from optgym.agents import Budget
from optgym.cli import main
from optgym.compat.wrappers import ConstrainedCommandline, ObservationWrapper, RewardWrapper
from optgym.leaderboard import evaluate, validate_states
from optgym.leaderboard.tasks import Task, register_task

SMALL = "benchmark://builtin-v0/adler32_fletcher"
TASK = register_task(Task(
    name="test-compat-ic-v0", description="two small builtin programs (compat tests only)",
    dataset="builtin-v0", benchmarks=("adler32_fletcher", "bit_tricks"),
    reward="IrInstructionCountOz", budget=Budget(seconds=30),
), replace=True)


# -- examples/random_walk.py: random actions, printing each step -----------------------------
def random_walk(env, step_limit: int) -> list[float]:
    env.reset()
    rewards = []
    for _ in range(step_limit):
        action = env.action_space.sample()
        _, reward, done, info = env.step(action)
        print(f"{env.action_space.flags[action]:>30} {reward:+.4f}")
        rewards.append(reward)
        if done:
            break
    return rewards


def test_random_walk(capsys):
    env = compiler_gym.make("llvm-autophase-ic-v0", benchmark=SMALL)
    rewards = random_walk(env, step_limit=8)
    assert env.episode_reward == pytest.approx(sum(rewards))
    assert len(capsys.readouterr().out.splitlines()) == len(rewards) == len(env.actions)
    env.close()


# -- examples/brute_force.py: every sequence of a few flags, worker threads, one env each -----
def brute_force(make_env, flags: list[str], length: int, nproc: int) -> tuple[float, tuple]:
    probe = make_env()
    actions = [probe.action_space.names.index(f) for f in flags]
    probe.close()
    work: Queue = Queue()
    for sequence in itertools.product(actions, repeat=length):
        work.put(sequence)
    results, lock = [], threading.Lock()

    def worker() -> None:
        env = make_env()
        while True:
            try:
                sequence = work.get_nowait()
            except Exception:  # noqa: BLE001 - the queue is empty
                break
            env.reset()
            rewards = [env.step(a)[1] for a in sequence]
            with lock:
                results.append((sum(rewards), sequence))
        env.close()

    threads = [threading.Thread(target=worker) for _ in range(nproc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == len(actions) ** length
    return max(results)


def test_brute_force():
    def make_env():
        return compiler_gym.make("llvm-ic-v0", benchmark=SMALL)

    best_reward, best = brute_force(make_env, ["-sroa", "-mem2reg", "-newgvn"], 2, nproc=2)
    env = make_env()
    env.reset()
    env.multistep(list(best))
    assert env.episode_reward == pytest.approx(best_reward) and best_reward > 0
    env.close()


# -- examples/tabular_q.py: Q-learning over three flags, states from three Autophase features -
def test_tabular_q():
    flags, features = ["-sroa", "-mem2reg", "-newgvn"], [15, 18, 24]
    q: dict = {}
    rng = random.Random(0)

    def key(obs, flag):
        return tuple(obs[features]), flag

    def best(obs, epsilon=0.0):
        if rng.random() < epsilon:
            return rng.choice(flags)
        return max(flags, key=lambda f: q.get(key(obs, f), -1))

    env = compiler_gym.make("llvm-v0", benchmark=SMALL, observation_space="Autophase",
                            reward_space="IrInstructionCount")
    for _ in range(4):
        obs = env.reset()
        for _ in range(3):
            flag = best(obs, epsilon=0.2)
            k = key(obs, flag)
            obs, reward, done, _ = env.step(env.action_space.flags.index(flag))
            target = reward + 0.99 * max(q.get(key(obs, f), 0) for f in flags)
            q[k] = 0.1 * target + 0.9 * q.get(k, 0)
    assert any(v > 0 for v in q.values())  # mem2reg/sroa remove instructions: learned
    obs = env.reset()
    chosen = []
    for _ in range(3):
        chosen.append(best(obs))
        obs, *_ = env.step(env.action_space.flags.index(chosen[-1]))
    assert chosen[0] in ("-sroa", "-mem2reg") and env.episode_reward > 0
    env.close()


# -- examples/llvm_rl/wrappers.py: the Autophase paper's wrappers -----------------------------
class ClampedReward(RewardWrapper):
    def __init__(self, env, low=-1.0, high=1.0, leak=0.001):
        super().__init__(env)
        self.low, self.high, self.leak = low, high, leak

    def convert_reward(self, reward):
        if reward > self.high:
            return self.high + (reward - self.high) * self.leak
        if reward < self.low:
            return self.low + (reward - self.low) * self.leak
        return reward


class ActionHistogram(ObservationWrapper):
    def __init__(self, env):
        super().__init__(env)
        self.histogram = np.zeros(self.action_space.n)

    def reset(self, *args, **kwargs):
        self.histogram = np.zeros(self.action_space.n)
        return super().reset(*args, **kwargs)

    def multistep(self, actions, *args, **kwargs):
        for a in actions:
            self.histogram[a] += 1
        return super().multistep(actions, *args, **kwargs)

    def convert_observation(self, observation):
        return np.concatenate([observation, self.histogram])


AUTOPHASE_FLAGS = [  # the paper's 42 flags less -prune-eh, which LLVM 19 dropped
    "-adce", "-break-crit-edges", "-constmerge", "-correlated-propagation", "-deadargelim",
    "-dse", "-early-cse", "-functionattrs", "-functionattrs", "-globaldce", "-globalopt",
    "-gvn", "-indvars", "-inline", "-instcombine", "-ipsccp", "-jump-threading", "-lcssa",
    "-licm", "-loop-deletion", "-loop-idiom", "-loop-reduce", "-loop-rotate", "-loop-simplify",
    "-loop-unroll", "-loop-unswitch", "-lower-expect", "-loweratomic", "-lowerinvoke",
    "-lowerswitch", "-mem2reg", "-memcpyopt", "-partial-inliner", "-reassociate", "-sccp",
    "-simplifycfg", "-sink", "-sroa", "-strip", "-strip-nondebug", "-tailcallelim",
]


def test_autophase_paper_wrappers():
    env = compiler_gym.make("llvm-autophase-ic-v0", benchmark=SMALL)
    env = ActionHistogram(ClampedReward(ConstrainedCommandline(env, AUTOPHASE_FLAGS)))
    obs = env.reset()
    assert env.action_space.n == 41 and obs.shape == (56 + 41,)
    obs, reward, done, _ = env.step(AUTOPHASE_FLAGS.index("-mem2reg"))
    assert obs[56 + AUTOPHASE_FLAGS.index("-mem2reg")] == 1 and -1.001 < reward <= 1.001
    env.close()


# -- leaderboard/llvm_instcount: CompilerGym's two search policies, policy(env) -> None -------
def random_search(env, search_time: float = 0.5, patience: int = 10,
                  min_episodes: int = 5) -> None:
    """Random episodes, each ended after `patience` steps without a new best; the best
    episode's actions are replayed on env. At least `min_episodes` run, so a loaded machine
    does not turn the search into a single unlucky episode."""
    best_reward, best_actions = -float("inf"), []
    worker = compiler_gym.make("llvm-ic-v0", benchmark=env.benchmark)
    deadline = time.monotonic() + search_time
    episodes = 0
    while time.monotonic() < deadline or episodes < min_episodes:
        episodes += 1
        worker.reset()
        since_best, episode_best = 0, -float("inf")
        while since_best < patience:
            _, _, done, _ = worker.step(worker.action_space.sample())
            if worker.episode_reward > episode_best:
                episode_best, since_best = worker.episode_reward, 0
                if episode_best > best_reward:
                    best_reward, best_actions = episode_best, list(worker.actions)
            else:
                since_best += 1
            if done:
                break
    worker.close()
    for action in best_actions:
        _, _, done, _ = env.step(action)
        assert not done


def e_greedy_search(env, epsilon: float = 0.1, max_steps: int = 3) -> None:
    """Greedy: try every action on a fork (in threads), take the best; stop when none helps
    (or, to keep the test short, after max_steps). With probability epsilon, a random step."""
    rng = random.Random(0)

    def try_action(fork, action):
        try:
            return fork.step(action)[1], action
        finally:
            fork.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(max_steps):
            if rng.random() < epsilon:
                if env.step(env.action_space.sample())[2]:
                    return
                continue
            futures = [pool.submit(try_action, env.fork(), a) for a in range(env.action_space.n)]
            best = max(f.result() for f in as_completed(futures))
            if best[0] <= 0:
                return
            _, reward, done, _ = env.step(best[1])
            if env.reward_space.deterministic:
                assert reward == pytest.approx(best[0])
            if done:
                return


@pytest.mark.parametrize("policy", [random_search, e_greedy_search])
def test_leaderboard_policies_evaluate_and_validate(policy):
    header, states = evaluate(TASK, policy, progress=False)
    assert not header.failures, header.failures
    assert all(s.reward > 0 for s in states)
    report = validate_states(TASK, states, header, progress=False)
    assert report.ok, report.errors


def always_fails(env) -> None:
    """A CompilerGym-style policy that fails on every benchmark."""
    raise RuntimeError("no luck")


def test_eval_exits_nonzero_when_every_benchmark_fails(tmp_path: Path, capsys):
    out = tmp_path / "fails.csv"
    code = main(["leaderboard", "eval", "--task", TASK.name, "--policy",
                 "test_compat_examples:always_fails", "-o", str(out), "--no-progress"])
    assert code != 0 and not out.exists()
    assert "failed on every benchmark" in capsys.readouterr().err
