#!/usr/bin/env python3
"""Cluster entry for training: ``optgym train`` without the ``optgym`` command.

One machine:      python scripts/train.py ppo-llvm --out runs/ppo
Several GPUs:     torchrun --nproc_per_node 4 scripts/train.py nvp --out runs/nvp
Several nodes:    torchrun --nnodes 2 --node_rank R --master_addr HEAD --master_port 29500 \\
                      --nproc_per_node 8 scripts/train.py nvp --out /shared/runs/nvp
With Ray:         python scripts/train.py ppo-llvm --ray-address ray://head:10001

torchrun sets RANK/WORLD_SIZE/LOCAL_RANK; the framework joins the process group (NCCL when
CUDA is present, gloo on CPU) and gives each rank its own GPU.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Run from a checkout without installing: make the repository importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and train; returns the exit code."""
    from optgym.agents.train_cli import EPILOG, add_train_arguments, run_from_args
    from optgym.errors import OptgymError

    parser = argparse.ArgumentParser(
        prog="train.py", description="Train a learned optgym agent (see optgym train --help).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_from_args(args)
    except OptgymError as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
