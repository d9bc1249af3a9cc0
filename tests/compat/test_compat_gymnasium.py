"""What Gymnasium and Stable-Baselines3 expect of the LLVM envs: render modes, SB3's
make_vec_env with subprocesses and a short PPO run, forks with their own generator, and the
Programl observation turned into PyG / networkx."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import optgym  # noqa: F401 - registers the environments
from optgym.envs.llvm import LlvmEnv
from optgym.errors import OptgymError, RenderModeError
from optgym.programgraphs import from_observation

SMALL = "benchmark://builtin-v0/adler32_fletcher"


def test_render_modes():
    for mode in (None, "ansi", "human"):
        env = gym.make("optgym/llvm-ic-v0", benchmark=SMALL, render_mode=mode)
        env.reset()
        out = env.render()
        assert (out is not None and "define" in out) == (mode == "ansi")
        env.close()
    # SB3 offers rgb_array and retries without it on TypeError (it gave up on ValueError).
    with pytest.raises(TypeError, match="rgb_array"):
        gym.make("optgym/llvm-ic-v0", benchmark=SMALL, render_mode="rgb_array")
    assert issubclass(RenderModeError, OptgymError)


def test_sb3_make_vec_env_subprocesses_and_ppo():
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    venv = make_vec_env("optgym:optgym/llvm-autophase-ic-v0", n_envs=2,
                        vec_env_cls=SubprocVecEnv, env_kwargs={"benchmark": SMALL})
    try:
        obs = venv.reset()
        assert obs.shape == (2, 56)
        mem2reg = venv.get_attr("actions")[0].index("-mem2reg")
        obs, rewards, dones, infos = venv.step(np.array([mem2reg, mem2reg]))
        assert obs.shape == (2, 56) and rewards[0] > 0 and rewards[0] == rewards[1]
        assert [i["action"] for i in infos] == ["-mem2reg", "-mem2reg"]
        model = PPO("MlpPolicy", venv, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu")
        from stable_baselines3.common.logger import Logger

        model.set_logger(Logger(folder=None, output_formats=[]))  # no /tmp/SB3-* directory
        model.learn(total_timesteps=32)
        assert model.num_timesteps >= 32
        action, _ = model.predict(obs, deterministic=True)
        assert action.shape == (2,)
    finally:
        venv.close()


def test_forks_draw_with_their_own_generator():
    env = LlvmEnv(dataset="builtin-v0")
    env.reset(seed=3)
    fork = env.fork()
    for _ in range(3):
        fork.reset()  # must not move the parent's draws
    assert fork.np_random is not env.np_random
    twin = LlvmEnv(dataset="builtin-v0")
    twin.reset(seed=3)
    assert [env.reset()[1]["benchmark"] for _ in range(3)] == \
        [twin.reset()[1]["benchmark"] for _ in range(3)]
    for e in (fork, env, twin):
        e.close()


def test_programl_observation_to_pyg_and_networkx():
    env = LlvmEnv(SMALL, observation_space="Programl")
    obs, _ = env.reset()
    graph = from_observation(obs)
    direct = env.program_graph()
    assert graph.num_nodes == direct.num_nodes and graph.num_edges == direct.num_edges
    data = graph.to_pyg()
    assert data.num_nodes == len(obs.nodes) and data.edge_index.shape == (2, len(obs.edges))
    assert (data.x.numpy() == obs.nodes[:, 1]).all()
    assert (data.edge_type.numpy() == obs.edges[:, 0]).all()
    nxg = graph.to_networkx()
    assert nxg.number_of_nodes() == direct.num_nodes
    texts = [nxg.nodes[i]["text"] for i in range(5)]
    known = [t for t, d in zip(texts, direct.node_texts[:5], strict=True) if t != "[OOV]"]
    assert known and all(t in direct.node_texts for t in known)
    with pytest.raises(OptgymError, match="not a Programl observation"):
        from_observation(np.zeros(3))
    env.close()
