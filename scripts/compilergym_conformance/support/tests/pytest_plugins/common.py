"""Fixtures and markers CompilerGym's tests import from their common plugin (optgym's)."""

import os
import sys
import tempfile
from pathlib import Path

import pytest

skip_on_ci = pytest.mark.skipif(os.environ.get("CI", "") != "", reason="Skip on CI")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
macos_only = pytest.mark.skipif(not sys.platform.startswith("darwin"), reason="macOS only")
bazel_only = pytest.mark.skipif(os.environ.get("TEST_WORKSPACE", "") == "", reason="bazel only")


@pytest.fixture
def tmpwd():
    """A temporary working directory."""
    with tempfile.TemporaryDirectory(prefix="compat-test-") as d:
        old = os.getcwd()
        os.chdir(d)
        try:
            yield Path(d)
        finally:
            os.chdir(old)


@pytest.fixture
def temporary_environ():
    """os.environ restored afterwards."""
    saved = os.environ.copy()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def set_command_line_flags(flags):
    """Parse absl flags from a list."""
    from absl import flags as absl_flags

    sys.argv = flags
    absl_flags.FLAGS.unparse_flags()
    absl_flags.FLAGS(flags)
