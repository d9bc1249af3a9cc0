"""``--dataset``: The name of a dataset to use."""

from absl import flags

flags.DEFINE_string("dataset", None, "The name of a dataset to use.")

FLAGS = flags.FLAGS
