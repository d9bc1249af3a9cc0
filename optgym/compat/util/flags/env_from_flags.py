"""``--env``, ``--observation``, ``--reward``: the environment a script uses."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from absl import app, flags

from optgym.compat.datasets import Benchmark

flags.DEFINE_string("env", None, "The id of the environment to make (llvm-v0, llvm-ic-v0, ...).")
flags.DEFINE_string("observation", None, "An observation space, instead of the env's default.")
flags.DEFINE_string("reward", None, "A reward space, instead of the env's default.")
flags.DEFINE_boolean("ls_env", False, "Print the environment ids --env takes and exit.")

FLAGS = flags.FLAGS


def env_from_flags(benchmark: str | Benchmark | None = None) -> object:
    """The environment ``--env`` names, with ``--observation`` and ``--reward`` when given."""
    from optgym.compat import COMPILER_GYM_ENVS, make

    if FLAGS.ls_env:
        print("\n".join(sorted(COMPILER_GYM_ENVS)))
        sys.exit(0)
    if not FLAGS.env:
        raise app.UsageError("--env is not set (optgym has no --service to connect to)")
    env = make(FLAGS.env, benchmark=benchmark)
    if FLAGS.observation:
        env.observation_space = FLAGS.observation
    if FLAGS.reward:
        env.reward_space = FLAGS.reward
    return env


@contextmanager
def env_session_from_flags(benchmark: str | Benchmark | None = None) -> Iterator[object]:
    """:func:`env_from_flags`, closed when the block ends."""
    env = env_from_flags(benchmark=benchmark)
    try:
        yield env
    finally:
        env.close()
