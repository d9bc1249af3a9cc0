"""``--nproc``: the number of parallel processes to run."""

import os

from absl import flags

flags.DEFINE_integer("nproc", os.cpu_count() or 1, "The number of parallel processes to run.")

FLAGS = flags.FLAGS
