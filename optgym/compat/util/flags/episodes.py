"""``--episodes``: The number of episodes to run."""

from absl import flags

flags.DEFINE_integer("episodes", 2000, "The number of episodes to run.")

FLAGS = flags.FLAGS
