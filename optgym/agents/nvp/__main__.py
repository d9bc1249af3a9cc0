"""Build an NVP model: ``python -m optgym.agents.nvp {pool,coreset,train} --workdir DIR``.

``pool``: random search on the training programs, then every candidate sequence on every
pool program (the reward matrix); ``coreset``: also pick the K sequences and measure the
extra training and the validation programs under them; ``train``: also fit the model and
write the model directory. Each step runs whatever earlier steps are missing; all results
go to ``DIR/pool.sqlite`` as they are made, so a killed run resumes where it stopped.
The same build runs as ``optgym train nvp --config FILE`` (see optgym.agents.train).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optgym.agents.nvp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["pool", "coreset", "train"], help="the last step to run")
    parser.add_argument("--workdir", required=True, type=Path,
                        help="directory of the build (pool.sqlite, coreset.json, checkpoints)")
    parser.add_argument("--config", type=Path, default=None,
                        help="YAML/JSON settings (keys of optgym.agents.nvp.train.DEFAULTS); "
                             "the options below override it")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default 2)")
    parser.add_argument("--ray-address", default=None,
                        help="spread pool work over this Ray cluster ('local' starts one)")
    parser.add_argument("--programs", nargs="+", default=None, metavar="URI",
                        help="pool: search these benchmarks instead of the default training set")
    parser.add_argument("--csmith", type=int, default=None,
                        help="pool: csmith train seeds searched (default 20)")
    parser.add_argument("--stress", type=int, default=None,
                        help="pool: llvm-stress train seeds searched (default 12)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="pool: random-search seconds per program (default 10)")
    parser.add_argument("--episodes", type=int, default=None,
                        help="pool: random episodes per program at most (default 200)")
    parser.add_argument("--candidates-per-program", type=int, default=None,
                        help="pool: best prefixes of each program that become candidates (default 2)")
    parser.add_argument("-k", "--coreset-size", type=int, default=None,
                        help="coreset: sequences in the coreset (default 50)")
    parser.add_argument("--extra-csmith", type=int, default=None,
                        help="coreset: more csmith train seeds measured on the coreset only (30)")
    parser.add_argument("--extra-stress", type=int, default=None,
                        help="coreset: more llvm-stress train seeds measured on the coreset only (40)")
    parser.add_argument("--val-csmith", type=int, default=None,
                        help="coreset: csmith validation seeds, with builtin's validation split (10)")
    parser.add_argument("--encoder", choices=["gnn", "autophase"], default=None,
                        help="train: program encoder (default gnn)")
    parser.add_argument("--epochs", type=int, default=None, help="train: epochs (default 40)")
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="train: stop training after this long (default 15)")
    parser.add_argument("--out", type=Path, default=None,
                        help="train: model directory to write (default WORKDIR/model)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    from optgym.agents.nvp.train import _Ctx, load_config, prepare, train_nvp

    config = load_config(args.config)
    config["workdir"] = str(args.workdir)
    sections = {"programs": "pool", "csmith": "pool", "stress": "pool", "seconds": "pool",
                "episodes": "pool", "candidates_per_program": "pool", "coreset_size": "coreset",
                "extra_csmith": "coreset", "extra_stress": "coreset", "val_csmith": "coreset"}
    for key, value in vars(args).items():
        if value is None or key in ("step", "workdir", "config", "quiet", "ray_address"):
            continue
        if key in sections:
            config[sections[key]]["k" if key == "coreset_size" else key] = value
        else:
            config[key] = str(value) if isinstance(value, Path) else value
    # One checkpoint directory per encoder, so training the other one never resumes from it.
    ctx = _Ctx(ray_address=args.ray_address, progress_bars=not args.quiet,
               log_dir=args.workdir / "tensorboard" / config["encoder"],
               checkpoint_dir=args.workdir / "checkpoints" / config["encoder"])
    started = time.monotonic()
    if args.step == "train":
        summary = train_nvp(config, ctx)
        print(json.dumps(summary, indent=1))
    else:
        coreset = prepare(config, ctx, pool_only=args.step == "pool")
        if coreset is not None:
            print(f"coreset of {len(coreset['sequences'])}: geomean Oz/ours over the pool "
                  f"{coreset['pool_geomean']:.4f} (all {coreset['pool_candidates']} candidates: "
                  f"{coreset['pool_geomean_all_candidates']:.4f}, best single: "
                  f"{coreset['pool_geomean_best_single']:.4f})")
    ctx.close()
    print(f"{args.step} took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
