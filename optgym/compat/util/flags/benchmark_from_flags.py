"""``--benchmark``: the benchmark URI a script uses."""

from __future__ import annotations

from absl import flags

flags.DEFINE_string(
    "benchmark", None,
    "The URI of the benchmark to use (benchmark://, generator:// or file:///); without a "
    "scheme, benchmark:// is implied.")

FLAGS = flags.FLAGS


def benchmark_from_flags() -> str | None:
    """The ``--benchmark`` given, or None."""
    return FLAGS.benchmark or None
