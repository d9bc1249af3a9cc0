"""``--seed``: The random seed."""

from absl import flags

flags.DEFINE_integer("seed", 0, "The random seed.")

FLAGS = flags.FLAGS
