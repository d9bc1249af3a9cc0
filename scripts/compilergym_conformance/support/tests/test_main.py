"""``main()`` for test files run as scripts."""

import sys

import pytest


def main() -> None:
    """Run the calling test file under pytest."""
    sys.exit(pytest.main([sys.argv[0], *sys.argv[1:]]))
