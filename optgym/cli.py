"""The `optgym` command: one entry point whose subcommands live beside the code they drive.

Each part of the package that has commands exposes ``register(subparsers)`` in its own
``cli.py``; this module only collects them. ``register`` must stay cheap to import (no torch,
no LLVM): heavy imports belong inside the handler, so ``optgym --help`` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from optgym import __version__

#: Modules that add subcommands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "optgym.llvm.cli",
    "optgym.datasets.cli",
    "optgym.agents.cli",
    "optgym.agents.train_cli",
    "optgym.leaderboard.cli",
    "optgym.memory.cli",
    "optgym.cc_report",
    "optgym.cache",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser with every part's subcommands."""
    parser = argparse.ArgumentParser(
        prog="optgym",
        description=(
            "Compiler-optimization gym on LLVM 19: pass-ordering and memory-mapping "
            "environments, search and learned agents, and a replay-checked leaderboard."
        ),
    )
    parser.add_argument("--version", action="version", version=f"optgym {__version__} (LLVM 19)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the `optgym` command line; returns the process exit code."""
    from optgym import interrupts

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        # SIGTERM and SIGHUP unwind like Ctrl-C: downloads, workers and temporary files go.
        with interrupts.handled():
            return int(args.handler(args) or 0)
    except KeyboardInterrupt as exc:  # Terminated included
        print("interrupted", file=sys.stderr)
        return interrupts.exit_code(exc)
    except BrokenPipeError:  # `optgym passes | head`: the reader left, which is not an error
        sys.stdout = None
        return 0
    except Exception as exc:  # typed errors from our own modules reach the user as one line
        from optgym.errors import OptgymError

        if isinstance(exc, OptgymError):
            print(f"optgym: error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
