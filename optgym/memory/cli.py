"""`optgym memory ...`: list problems, trace your own model, solve/show mappings, train agents, report.

Lives at the top of the memory package; the environments never import it.
"""

from __future__ import annotations

import sys

AGENT_HELP = ("xla (XLA's memory-space assignment, the baseline), xla-sim (XLA's choices kept only when "
              "the simulated timeline allows: a stronger baseline), greedy (the weaker greedy-benefit "
              "heuristic), random, search (anytime local search with restarts), mcts "
              "(tree search; --model for a trained net), ppo (needs --model), cpsat (exact, time limit); "
              "for packing problems: best-fit, pack (the packing solver)")


HW_HELP = "hardware: a preset (tpu-like, edge-npu) or a chip description NAME.toml (see optgym.memory.hardware)"


def register(subparsers) -> None:
    """Add the `memory` command and its subcommands."""
    mem = subparsers.add_parser("memory", help="memory-mapping environments, agents and report",
                                description="Memory mapping of ML programs to fast and slow memory.")
    sub = mem.add_subparsers(dest="memory_command", metavar="SUBCOMMAND")
    mem.set_defaults(handler=lambda args: (mem.print_help() or 0))

    p = sub.add_parser("list", help="list problems (workloads with their split, MiniMalloc set) and hardware",
                       description="List the shipped workloads (train / held-out test split), their "
                       "segments and peak live bytes on a hardware preset, the MiniMalloc packing "
                       "problems, and the hardware presets with the sources of their figures.")
    p.add_argument("--hardware", default="tpu-like", help=HW_HELP)
    p.set_defaults(handler=_list)

    p = sub.add_parser("trace", help="bring your own model: PyTorch (MODULE:FACTORY), JAX (--jax), ONNX or HLO",
                       description="Turn your model into a workload file the environments accept. "
                       "MODULE:FACTORY names a function returning (torch.nn.Module, example_args); "
                       "it is traced with torch.export (bf16 by default), views alias their base, "
                       "elementwise ops are fused. With --jax, the factory returns (jax function, "
                       "example_args): the function is lowered with jax on the CPU and its HLO read, "
                       "keeping every dtype. A path ending in .onnx is imported (--dtype bfloat16 "
                       "counts its float tensors at bf16), one ending in .hlo or .txt read as an XLA "
                       "HLO module. Then: 'optgym memory solve OUT.json --agent search'.")
    p.add_argument("source", nargs="?", default=None,
                   help="MODULE:FACTORY (e.g. mypkg.models:make), a model.onnx file or an HLO text file")
    p.add_argument("--jax", metavar="MODULE:FACTORY", default=None,
                   help="a JAX function: FACTORY() returns (function, example_args)")
    p.add_argument("--out", required=True, help="workload JSON to write")
    p.add_argument("--name", default=None, help="workload name (default: the factory's or file's name)")
    p.add_argument("--dtype", default=None, choices=["bfloat16", "float16", "float32"],
                   help="torch models: the dtype of floating parameters and inputs (default bfloat16); "
                   "ONNX: count floating tensors at this dtype (default: the file's own)")
    p.set_defaults(handler=_trace)

    def common(q, default_agent):
        q.add_argument("problem", help="problem name (e.g. resnet18, minimalloc/A; see 'optgym memory list') "
                       "or a workload .json / .onnx file")
        q.add_argument("--hardware", default="tpu-like", help=HW_HELP)
        q.add_argument("--agent", default=default_agent, help=AGENT_HELP)
        q.add_argument("--time-limit", type=float, default=10.0, help="CPU seconds for search and pack, seconds for cpsat")
        q.add_argument("--model", default=None, help="trained model file for ppo (.zip) or mcts (.pt)")
        q.add_argument("--simulations", type=int, default=8, help="MCTS simulations per move")
        q.add_argument("--seed", type=int, default=0, help="seed for random, search and mcts")
        q.add_argument("--max-depth", type=int, default=16,
                       help="mcts: segments the tree decides (the most memory-bound; XLA's rules the rest)")
        q.add_argument("--prior-mix", type=float, default=0.5,
                       help="mcts with --model: share of a uniform prior mixed into the net's")

    p = sub.add_parser("solve", help="map one problem with one agent and print its runtime / height",
                       description="Map one problem with one agent; print its timeline runtime next to "
                       "XLA's (or, for packing problems, the height it reaches).")
    common(p, "xla")
    p.add_argument("--out", default=None, help="write the mapping as JSON here")
    p.set_defaults(handler=_solve)

    p = sub.add_parser("show", help="map one problem and draw its timeline (PNG and HTML)",
                       description="Map one problem with one agent and draw its timeline on a "
                       "microsecond axis: a lane for the ops, one for the stalls and one per copy "
                       "engine (prefetches and evictions), and fast-memory occupancy over time, as a "
                       "PNG and a self-contained HTML page (hover for details). --offsets draws the "
                       "older op-index x offset map instead; packing problems always get that map.")
    common(p, "xla")
    p.add_argument("--out", default=None, help="PNG path (default: <problem>-<agent>.png); the HTML page "
                   "goes beside it with .html")
    p.add_argument("--offsets", action="store_true", help="draw the op-index x offset rectangles instead")
    p.set_defaults(handler=_show)

    p = sub.add_parser("check", help="replay a mapping's timeline and report every hazard",
                       description="Simulate a mapping (an agent's, or one saved by 'solve --out') and "
                       "replay its timeline with the independent checker: a read before its data "
                       "lands, two segments sharing fast-memory bytes or passing the capacity at any "
                       "moment, a memory or copy engine moving more bytes per second than its "
                       "bandwidth. Exit status 1 when there is any.")
    common(p, "xla")
    p.add_argument("--mapping", default=None, help="a mapping JSON written by 'optgym memory solve --out' "
                   "(instead of running --agent)")
    p.set_defaults(handler=_check)

    p = sub.add_parser("train", help="train MaskablePPO or the MCTS policy/value net",
                       description="Train a learned agent on workloads (default: the whole train split; "
                       "the held-out test split is for evaluation only).")
    p.add_argument("--agent", choices=["ppo", "mcts"], required=True, help="which agent to train")
    p.add_argument("--workloads", default="train",
                   help="comma-separated workloads to train on, or 'train' for the train families")
    p.add_argument("--hardware", default="tpu-like", help=HW_HELP)
    from optgym.memory.agents.recipes import MemoryPpoConfig  # the defaults of `optgym train`

    p.add_argument("--steps", type=int, default=MemoryPpoConfig.steps, help="ppo: environment steps")
    p.add_argument("--imitation-epochs", type=int, default=MemoryPpoConfig.imitation_epochs,
                   help="ppo: epochs of warm start on XLA's decisions (0: from scratch)")
    p.add_argument("--teacher", choices=["xla", "mcts"], default=MemoryPpoConfig.teacher,
                   help="ppo: whose decisions the warm start imitates (mcts: distill the tree search)")
    p.add_argument("--iterations", type=int, default=6, help="mcts self-play: iterations")
    p.add_argument("--target", choices=["best-mapping", "self-play"], default="best-mapping",
                   help="mcts: fit the net to the best mapping each search finds on every training "
                   "workload (expert iteration; default) or AlphaZero-style to self-play visit counts")
    p.add_argument("--rounds", type=int, default=1, help="mcts best-mapping: search-and-fit rounds")
    p.add_argument("--teacher-agent", choices=["search", "mcts"], default="search",
                   help="mcts best-mapping: whose best mapping the net is fitted to")
    p.add_argument("--teacher-seconds", type=float, default=5.0, help="mcts best-mapping: seconds of search per workload")
    p.add_argument("--max-depth", type=int, default=16, help="mcts: segments the tree decides")
    p.add_argument("--simulations", type=int, default=8,
                   help="mcts: simulations per move in self-play; ppo: of the mcts teacher")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="mcts: stop self-play after the iteration that passes this many seconds")
    p.add_argument("--out", required=True, help="where to save the model (.zip for ppo, .pt for mcts)")
    p.set_defaults(handler=_train)

    p = sub.add_parser("report", help="print the per-workload runtime table and the packing results",
                       description="Run the agents on a split of the workloads (default: the held-out "
                       "test families) and print runtimes against XLA's memory-space assignment, then the "
                       "MiniMalloc packing table.")
    p.add_argument("--split", choices=["test", "validation", "train", "all"], default="test",
                   help="which families' workloads (settings are chosen on validation, never on test)")
    p.add_argument("--hardware", default="tpu-like", help="hardware preset")
    p.add_argument("--time-limit", type=float, default=10.0, help="CPU seconds per workload for search (and seconds for cpsat)")
    p.add_argument("--simulations", type=int, default=8, help="MCTS simulations per move")
    p.add_argument("--max-depth", type=int, default=16, help="segments MCTS's tree decides")
    p.add_argument("--prior-mix", type=float, default=0.5, help="MCTS+net: uniform share of the prior")
    p.add_argument("--workloads", default=None, help="comma-separated workloads instead of a split")
    p.add_argument("--ppo-model", default=None, help="include MaskablePPO with this trained model")
    p.add_argument("--mcts-model", default=None, help="include MCTS guided by this trained net (.pt)")
    p.add_argument("--pack-time", type=float, default=10.0, help="CPU seconds per MiniMalloc problem")
    p.add_argument("--no-packing", action="store_true", help="skip the MiniMalloc packing table")
    p.set_defaults(handler=_report)


def _list(args) -> int:
    from optgym.memory.problem import HARDWARE, get_hardware
    from optgym.memory.workloads import list_problems, load_problem, workload_family, workload_split

    print(f"{'problem':<18} {'split':<10} {'family':<14} {'segments':>8} {'ops':>5} {'peak live B':>12} "
          f"{'capacity B':>11}")
    for name in list_problems():
        p, _ = load_problem(name, args.hardware)
        split = workload_split(name) or "-"
        print(f"{name:<18} {split:<10} {workload_family(name) or '-':<14} {p.n_buffers:>8} {p.n_ops:>5} "
              f"{p.peak_live_bytes():>12,} {p.capacity:>11,}")
    print("\nhardware presets:")
    hws = list(HARDWARE.values())
    if args.hardware not in HARDWARE:
        hws.append(get_hardware(args.hardware))
    for hw in hws:
        print(f"  {hw.name}: {hw.description}\n    sources: {hw.sources or '-'}")
    return 0


def _trace(args) -> int:
    from optgym.errors import OptgymError

    if bool(args.jax) == bool(args.source):
        raise OptgymError("give one model: a SOURCE (MODULE:FACTORY, .onnx, .hlo) or --jax MODULE:FACTORY")
    if args.jax:
        from optgym.memory.hlo_import import trace_jax

        w = trace_jax(args.jax, name=args.name)
    elif args.source.endswith(".onnx"):
        from optgym.memory.onnx_import import read_onnx

        w = read_onnx(args.source, name=args.name, dtype=args.dtype)
    elif args.source.endswith((".hlo", ".txt")):
        from optgym.memory.hlo_import import read_hlo_file

        w = read_hlo_file(args.source, name=args.name)
    else:
        import torch

        from optgym.memory.trace import trace_factory

        w = trace_factory(args.source, name=args.name, dtype=getattr(torch, args.dtype or "bfloat16"))
    path = w.save(args.out)
    dtypes = sorted(set(w.tensor_dtypes))
    print(f"{w.name}: {w.n_ops} ops (after fusion), {w.n_tensors} tensors ({', '.join(dtypes)}), "
          f"{int(w.tensor_bytes.sum()):,} bytes; wrote {path}")
    return 0


def _solve_one(args):
    from optgym.memory.agents.run import PACKING_AGENTS, run_agent
    from optgym.memory.workloads import load_problem

    problem, hw = load_problem(args.problem, args.hardware)
    agent = args.agent
    if problem.n_ops == 0 and agent == "xla":
        agent = "pack"
    res = run_agent(agent, problem, hw, time_limit=args.time_limit, model=args.model,
                    simulations=args.simulations, seed=args.seed, max_depth=args.max_depth,
                    prior_mix=args.prior_mix)
    if agent in PACKING_AGENTS:
        ok = "fits" if res.height <= problem.capacity else "does not fit"
        print(f"{problem.name} [{agent}]: height {res.height:,} B, capacity {problem.capacity:,} B: {ok} "
              f"({res.seconds:.2f} s) {res.note}")
    else:
        from optgym.memory.baselines import xla_mapping

        base = xla_mapping(problem, hw)
        print(f"{problem.name} on {hw.name} [{agent}]: {res.runtime * 1e6:.3f} us "
              f"(XLA {base.runtime * 1e6:.3f} us, speedup {base.runtime / res.runtime:.4f}x), "
              f"{int((res.mapping >= 0).sum())}/{problem.n_buffers} buffers fast, {res.seconds:.2f} s. {res.note}")
    return problem, hw, res, agent


def _solve(args) -> int:
    import json
    from pathlib import Path

    problem, _, res, agent = _solve_one(args)
    if args.out:
        out = Path(args.out)
        lo, hi = res.intervals if res.intervals is not None else problem.default_intervals()
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(json.dumps({"problem": problem.name, "hardware": args.hardware, "agent": agent,
                                   "runtime": res.runtime, "height": res.height,
                                   "mapping": [int(x) for x in res.mapping],
                                   "lo": [int(x) for x in lo], "hi": [int(x) for x in hi]}))
        tmp.replace(out)
    return 0


def _show(args) -> int:
    from pathlib import Path

    from optgym.memory.plot import save_placement_png, save_timeline_html, save_timeline_png
    from optgym.memory.timeline import CostModel

    problem, hw, res, agent = _solve_one(args)
    out = Path(args.out or f"{problem.name.replace('/', '-')}-{agent}.png")
    if args.offsets or problem.n_ops == 0:
        title = f"{problem.name} [{agent}]" + (f": {res.runtime * 1e6:.2f} us" if problem.n_ops else
                                                f": height {res.height:,} B")
        print(f"wrote {save_placement_png(problem, res.mapping, out, title=title)}")
        return 0
    tl = CostModel(problem, hw).trace(res.mapping, res.intervals)
    title = f"{problem.name} on {hw.name} [{agent}]: {tl.runtime * 1e6:.2f} us, {tl.stall * 1e6:.2f} us stalled"
    png = save_timeline_png(problem, tl, out, title=title)
    page = save_timeline_html(problem, tl, out.with_suffix(".html"), title=title)
    print(f"wrote {png} and {page}")
    return 0


def _check(args) -> int:
    import json

    import numpy as np

    from optgym.errors import OptgymError
    from optgym.memory.check import check_mapping
    from optgym.memory.workloads import load_problem

    if args.mapping:
        problem, hw = load_problem(args.problem, args.hardware)
        try:
            d = json.loads(open(args.mapping).read())
            mapping = np.array(d["mapping"], dtype=np.int64)
            intervals = (np.array(d["lo"], dtype=np.int64), np.array(d["hi"], dtype=np.int64)) if "lo" in d else None
        except (OSError, ValueError, KeyError) as exc:
            raise OptgymError(f"{args.mapping}: not a mapping written by 'optgym memory solve --out': {exc}") from exc
        if len(mapping) != problem.n_buffers:
            raise OptgymError(f"{args.mapping}: {len(mapping)} entries, but {problem.name} has "
                              f"{problem.n_buffers} segments on {hw.name}")
        what = args.mapping
    else:
        problem, hw, res, _ = _solve_one(args)
        mapping, intervals, what = res.mapping, res.intervals, f"agent {args.agent}"
    if problem.n_ops == 0:
        raise OptgymError(f"{problem.name} is a packing problem: it has no timeline to check")
    hazards = check_mapping(problem, hw, mapping, intervals)
    for h in hazards:
        print(f"  {h}")
    print(f"{problem.name} on {hw.name} ({what}): {len(hazards)} hazard(s)")
    return 1 if hazards else 0


def _train(args) -> int:
    from optgym.memory.workloads import workload_names

    workloads = workload_names("train") if args.workloads == "train" else [w for w in args.workloads.split(",") if w]
    if args.agent == "ppo":
        from optgym.memory.agents.ppo import ppo_mapping, train_ppo

        model = train_ppo(workloads, args.hardware, steps=args.steps, seed=args.seed, out=args.out,
                          imitation_epochs=args.imitation_epochs, teacher=args.teacher,
                          teacher_simulations=args.simulations)
        for w in workloads:
            r = ppo_mapping(w, args.hardware, model=model)
            print(f"{w}: {r.runtime * 1e6:.3f} us, {r.note}")
    elif args.target == "best-mapping":
        from optgym.memory.agents.mcts import train_mcts_on_best

        _, log = train_mcts_on_best(workloads, args.hardware, simulations=args.simulations,
                                    rounds=args.rounds, out=args.out, seed=args.seed,
                                    max_seconds=args.max_seconds, progress=sys.stderr.isatty(),
                                    max_depth=args.max_depth, teacher=args.teacher_agent,
                                    teacher_seconds=args.teacher_seconds)
        for row in log:
            print(f"round {row['round']}: loss {row['loss']:.4f}, {row['samples']} samples, "
                  f"search gain vs XLA {row['search_gain_vs_baseline'] * 100:+.2f}%")
    else:
        from optgym.memory.agents.mcts import train_mcts

        _, log = train_mcts(workloads, args.hardware, iterations=args.iterations,
                            simulations=args.simulations, out=args.out, seed=args.seed,
                            max_seconds=args.max_seconds, progress=sys.stderr.isatty())
        for row in log:
            print(f"iteration {row['iteration']}: loss {row['loss']:.4f}, "
                  f"self-play runtime / XLA {row['runtime_vs_baseline']:.4f}")
    print(f"saved {args.out}")
    return 0


def _report(args) -> int:
    from optgym.memory.agents.report import mapping_table, packing_table
    from optgym.memory.workloads import workload_names

    names = ([w for w in args.workloads.split(",") if w] if args.workloads
             else workload_names(None if args.split == "all" else args.split))
    text, _ = mapping_table(args.hardware, time_limit=args.time_limit, simulations=args.simulations,
                            max_depth=args.max_depth, prior_mix=args.prior_mix, ppo_model=args.ppo_model,
                            mcts_model=args.mcts_model, workloads=names)
    print(f"## Timeline runtime per workload ({args.split} split, {args.hardware})\n")
    print(text)
    if not args.no_packing:
        print("\n## MiniMalloc production packing set\n")
        print(packing_table(time_limit=args.pack_time)[0])
    return 0


