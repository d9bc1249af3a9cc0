"""``--episode_length``: The number of steps in each episode."""

from absl import flags

flags.DEFINE_integer("episode_length", 5, "The number of steps in each episode.")

FLAGS = flags.FLAGS
