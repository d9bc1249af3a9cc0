"""``--output_dir``: The directory to write output to."""

from absl import flags

flags.DEFINE_string("output_dir", None, "The directory to write output to.")

FLAGS = flags.FLAGS
