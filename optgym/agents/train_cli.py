"""``optgym train RECIPE``: train a learned agent from a YAML configuration.

The same entry as ``scripts/train.py``; under ``torchrun`` every rank runs it and the ranks
form one DDP job. Heavy imports (torch, LLVM) happen in the handler only.
"""

from __future__ import annotations

import argparse
import json
import sys

EPILOG = """\
recipes (each one's settings and defaults: optgym train RECIPE --print-config):
  ppo-llvm       PPO (Stable-Baselines3, masked) on the pass-ordering environments
  nvp            coreset + normalized value prediction (GNN over ProGraML graphs)
  autophase-oz   small supervised MLP on Autophase features (the framework's reference recipe)
  memory-ppo     MaskablePPO on the memory-mapping environment
  memory-mcts    AlphaZero-style MCTS self-play on the memory-mapping environment
  inliner        the learned size inliner (imitation of LLVM's, then evolution strategies on
                 realc-v0's train projects; chosen on its validation projects)
  module:function  your own recipe, called as function(config, ctx: TrainContext); annotate
                   config with a dataclass to get typed, checked settings (else a dict)

examples:
  optgym train ppo-llvm --out runs/ppo
  optgym train ppo-llvm --print-config > my.yaml       # every setting, to edit
  optgym train ppo-llvm --config my.yaml --set total_timesteps=50000 --out runs/ppo
  optgym train nvp --set stop_after=pool --set workdir=runs/nvp/build
  optgym train ppo-llvm --out runs/ppo --resume
  optgym train ppo-llvm --out runs/ppo --ray-address local
  torchrun --nproc_per_node 4 scripts/train.py ppo-llvm --out runs/ppo
"""


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The options shared by ``optgym train`` and ``scripts/train.py``."""
    p.add_argument("recipe", help="recipe name (see below) or module:function")
    p.add_argument("--config", metavar="FILE",
                   help="YAML file of the settings that differ from the recipe's defaults; "
                        "unknown keys are an error that lists the known ones")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one configuration value (dotted keys for sections, value "
                        "parsed as YAML); repeatable")
    p.add_argument("--out", metavar="DIR",
                   help="run directory: tensorboard/, checkpoints/, config.json, "
                        "summary-rank*.json (default runs/RECIPE)")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoints/latest.pt (or the recipe's own latest "
                        "checkpoint) instead of starting over")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="use Ray for parallel work: 'local' starts a local instance, otherwise a "
                        "cluster address such as ray://head:10001 or head:6379")
    p.add_argument("--device", metavar="DEV",
                   help="cpu, cuda, cuda:N or auto (default auto: this rank's GPU when CUDA is "
                        "present, else the CPU)")
    p.add_argument("--seed", type=int, help="random seed (overrides the config's 'seed')")
    p.add_argument("--no-progress", action="store_true", help="do not draw progress bars")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved configuration (JSON, which is also YAML) and exit "
                        "without training")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` command."""
    p = subparsers.add_parser(
        "train", help="train a learned agent (PPO, NVP, memory agents) from a YAML config",
        description="Train a learned agent. Picks CUDA when present; under torchrun the ranks "
                    "train one model with DDP (NCCL on GPU, gloo on CPU); logs to TensorBoard "
                    "(OUT/tensorboard), checkpoints atomically and resumes with --resume.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_train_arguments(p)
    p.set_defaults(handler=run_from_args)


def run_from_args(args: argparse.Namespace) -> int:
    """Resolve the configuration and run the recipe; prints the main rank's summary."""
    from optgym.agents.config import to_dict
    from optgym.agents.train import resolve_config, run

    overrides = list(args.overrides) + ([f"seed={args.seed}"] if args.seed is not None else [])
    config = resolve_config(args.recipe, None, args.config, overrides)
    if args.print_config:
        data = to_dict(config) if not isinstance(config, dict) else config
        print(json.dumps(data, indent=2, sort_keys=True, default=str))
        return 0
    summary = run(args.recipe, config, out=args.out, resume=args.resume,
                  ray_address=args.ray_address, device=args.device,
                  progress=not args.no_progress and sys.stderr.isatty())
    if summary.get("rank", 0) == 0:
        print(json.dumps(summary, indent=2, sort_keys=True, default=str))
    return 0
