"""``--learning_rate``: The learning rate for training."""

from absl import flags

flags.DEFINE_float("learning_rate", 0.008, "The learning rate for training.")

FLAGS = flags.FLAGS
