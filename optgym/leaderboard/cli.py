"""`optgym leaderboard ...`: list tasks, evaluate a policy, validate and submit result files, and
render and serve the HTML page."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

_SITE = "leaderboard-site"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``optgym leaderboard`` and its subcommands to the `optgym` parser."""
    board = subparsers.add_parser(
        "leaderboard",
        help="evaluate policies on fixed tasks, validate results by replay, store, render HTML",
        description=(
            "The leaderboard: 'eval' runs a policy on a task and writes a result CSV plus a JSON "
            "header; 'validate' replays a result file with the real opt-19; 'submit' validates "
            "and stores it; 'render' writes the HTML site; 'serve' serves it on 127.0.0.1."
        ),
    )
    sub = board.add_subparsers(dest="leaderboard_command", metavar="SUBCOMMAND")
    board.set_defaults(handler=lambda args: (board.print_help(), 0)[1])

    def store_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--store", type=Path, default=None,
                       help="the SQLite store of submissions (default: "
                            "$OPTGYM_CACHE/leaderboard.sqlite, i.e. ~/.cache/optgym/...)")

    tasks = sub.add_parser("tasks", help="list the tasks",
                           description="List the leaderboard tasks: programs, reward, budget, "
                                       "and whether this machine has the programs.")
    tasks.set_defaults(handler=_tasks)

    ev = sub.add_parser(
        "eval", help="run a policy on every program of a task and write the result files",
        description=(
            "Runs POLICY on each benchmark of TASK with a fresh episode and the budget, then "
            "writes OUTPUT (benchmark,reward,walltime,commandline) and OUTPUT with .json (the "
            "header: task, policy, budget, LLVM and optgym versions, date, machine). Both files "
            "are written atomically."
        ),
    )
    ev.add_argument("--task", required=True, help="task name (see 'optgym leaderboard tasks')")
    ev.add_argument("--policy", required=True,
                    help="a registered policy name (oz, random, greedy, ...) or your own "
                         "'module:function' / 'module:Class' (importable from the current "
                         "directory or PYTHONPATH); a function is f(env, budget) -> "
                         "SearchResult, or CompilerGym's policy(env) -> None that steps env")
    ev.add_argument("--budget-seconds", type=float, default=None,
                    help="wall-clock seconds per benchmark, at most the task's (default: the "
                         "task's)")
    ev.add_argument("--budget-compilations", type=int, default=None,
                    help="pass sequences the policy may evaluate per benchmark (default: the "
                         "task's limit, if any); with a time limit, whichever ends first")
    ev.add_argument("--policy-arg", action="append", default=[], metavar="KEY=VALUE",
                    help="keyword argument for the policy's constructor, e.g. seed=0 (VALUE is "
                         "read as JSON when it parses, else as a string); repeatable")
    ev.add_argument("--name", default=None,
                    help="the policy's name in the header and on the page (default: --policy, "
                         "or the policy object's name)")
    ev.add_argument("--notes", default="", help="free text stored in the header")
    ev.add_argument("-o", "--output", type=Path, default=None,
                    help="result CSV to write (default: TASK.POLICY.csv in this directory)")
    ev.add_argument("--no-progress", action="store_true",
                    help="no progress bar (one is drawn only when stderr is a terminal)")
    ev.set_defaults(handler=_eval)

    val = sub.add_parser(
        "validate", help="replay a result file with opt-19 and check every row",
        description=(
            "Replays every row's command line with the real opt-19, recomputes the reward, "
            "runs runnable programs to check their output, and checks that each of the task's "
            "benchmarks has exactly one row. Prints every problem, naming the benchmark; exit "
            "code 1 when the file is invalid."
        ),
    )
    val.add_argument("results", type=Path, help="result CSV (its header RESULTS.json beside it)")
    val.add_argument("--task", default=None,
                     help="the task to check against (default: the header's; needed when the "
                          "CSV has no header)")
    val.add_argument("--no-progress", action="store_true",
                    help="no progress bar (one is drawn only when stderr is a terminal)")
    val.set_defaults(handler=_validate)

    sm = sub.add_parser(
        "submit", help="validate result files and store the valid ones",
        description=(
            "Validates each result file by replay and stores it in the SQLite store if valid. "
            "The same file submitted again is a no-op; a malformed, incomplete or tampered file "
            "is refused with the reasons and nothing of it is stored. Exit code 1 if any file "
            "was refused."
        ),
    )
    sm.add_argument("results", type=Path, nargs="+", help="result CSV files (with headers)")
    sm.add_argument("--label", default="", help="a tag shown next to the policy on the page")
    store_option(sm)
    sm.add_argument("--no-progress", action="store_true",
                    help="no progress bar (one is drawn only when stderr is a terminal)")
    sm.set_defaults(handler=_submit)

    ls = sub.add_parser("list", help="list stored submissions",
                        description="Print the stored submissions, best first, per task.")
    ls.add_argument("--task", default=None, help="only this task")
    store_option(ls)
    ls.set_defaults(handler=_list)

    rm = sub.add_parser("remove", help="delete a stored submission",
                        description="Delete a submission (by the id 'list' shows) from the store.")
    rm.add_argument("id", type=int, help="submission id")
    store_option(rm)
    rm.set_defaults(handler=_remove)

    rd = sub.add_parser(
        "render", help="write the static HTML site",
        description=(
            "Writes index.html (a sortable table and plots per task) and one page per "
            "submission into OUTPUT. Pages load nothing from the network. The shipped "
            "baselines are submitted first (validated by replay, once per store) unless "
            "--no-seeds."
        ),
    )
    rd.add_argument("-o", "--output", type=Path, default=Path(_SITE),
                    help="directory to write (default: %(default)s)")
    rd.add_argument("--no-seeds", action="store_true",
                    help="do not add the shipped baseline results to the store")
    store_option(rd)
    rd.set_defaults(handler=_render)

    sv = sub.add_parser(
        "serve", help="serve the HTML site on 127.0.0.1",
        description=(
            "Serves DIR over HTTP on 127.0.0.1 until interrupted (Ctrl-C), printing the URL. "
            "Renders the site first when DIR has no index.html, or with --render."
        ),
    )
    sv.add_argument("--dir", type=Path, default=Path(_SITE),
                    help="site directory (default: %(default)s)")
    sv.add_argument("--port", type=int, default=8000,
                    help="TCP port (default: %(default)s; 0 picks a free one)")
    sv.add_argument("--host", default="127.0.0.1",
                    help="address to bind (default: %(default)s, this machine only)")
    sv.add_argument("--render", action="store_true", help="render the site before serving")
    sv.add_argument("--no-seeds", action="store_true",
                    help="when rendering, do not add the shipped baselines")
    sv.add_argument("--verbose", action="store_true", help="log every request")
    store_option(sv)
    sv.set_defaults(handler=_serve)


def _tasks(args: argparse.Namespace) -> int:
    from optgym.leaderboard.tasks import budget_text, get_task, task_names

    for name in task_names():
        task = get_task(name)
        ok, why = task.available()
        print(f"{name:<26} {task.reward:<21} {len(task.benchmarks):>3} programs of "
              f"{task.dataset:<11} budget {budget_text(task.budget):<8} "
              f"{'available' if ok else 'not available: ' + why}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from optgym.agents.base import Budget
    from optgym.leaderboard.evaluate import evaluate
    from optgym.leaderboard.results import write_results
    from optgym.leaderboard.tasks import get_task

    task = get_task(args.task)
    budget = None
    if args.budget_seconds is not None or args.budget_compilations is not None:
        # A limit not given on the command line stays the task's.
        budget = Budget(
            compilations=args.budget_compilations if args.budget_compilations is not None
            else task.budget.compilations,
            seconds=args.budget_seconds if args.budget_seconds is not None
            else task.budget.seconds,
        )
    if "" not in sys.path:  # 'module:function' of the user's, from where they stand
        sys.path.insert(0, "")
    output = args.output or Path(f"{task.name}.{re.sub(r'[^A-Za-z0-9_.-]+', '_', args.policy)}.csv")
    header, states = evaluate(task, args.policy, budget=budget, policy_name=args.name,
                              policy_args=_policy_args(args.policy_arg),
                              progress=_progress(args))
    header.notes = args.notes
    if states and len(header.failures) == len(states):
        for uri, error in header.failures.items():
            print(f"error: the policy failed on {uri}: {error}", file=sys.stderr)
        print(f"error: the policy failed on every benchmark of {task.name}; no result written",
              file=sys.stderr)
        return 1
    csv_path, header_file = write_results(output, header, states)
    rewards = [s.reward or 0.0 for s in states]
    print(f"wrote {csv_path} and {header_file}: {len(states)} benchmarks, mean reward "
          f"{sum(rewards) / len(rewards):.4f}")
    for uri, error in header.failures.items():
        print(f"warning: the policy failed on {uri}: {error}", file=sys.stderr)
    return 0


def _progress(args: argparse.Namespace) -> bool:
    """Draw progress bars only on a terminal (never into a pipe or a log) and without
    ``--no-progress``."""
    return not args.no_progress and sys.stderr.isatty()


def _policy_args(items: list[str]) -> dict:
    import json

    from optgym.errors import OptgymError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise OptgymError(f"--policy-arg {item!r} is not KEY=VALUE")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _validate(args: argparse.Namespace) -> int:
    from optgym.leaderboard.validate import validate_file

    report = validate_file(args.results, task=args.task, progress=_progress(args))
    print(report)
    return 0 if report.ok else 1


def _store(args: argparse.Namespace):  # noqa: ANN202 - the type lives behind a lazy import
    from optgym.leaderboard.store import Store

    return Store(args.store)


def _submit(args: argparse.Namespace) -> int:
    store = _store(args)
    refused = 0
    for path in args.results:
        outcome = store.submit(path, label=args.label, progress=_progress(args))
        print(outcome)
        refused += not (outcome.stored or outcome.duplicate)
    return 1 if refused else 0


def _list(args: argparse.Namespace) -> int:
    from optgym.leaderboard.render import submission_label

    store = _store(args)
    subs = store.submissions(args.task)
    if not subs:
        print(f"no submissions in {store.path}")
    for sub in sorted(subs, key=lambda s: (s.task, -s.geomean)):
        print(f"#{sub.id:<4} {sub.task:<26} {submission_label(sub):<28} {sub.geomean:.4f}x -Oz  "
              f"{sub.mean_walltime:8.2f} s  {sub.date[:10]}  {sub.label}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from optgym.errors import OptgymError

    if not _store(args).remove(args.id):
        raise OptgymError(f"no submission #{args.id} in the store")
    print(f"removed submission #{args.id}")
    return 0


def _render_site(args: argparse.Namespace, output: Path) -> Path:
    from optgym.leaderboard.render import render
    from optgym.leaderboard.seed import ensure_seeds

    store = _store(args)
    if not args.no_seeds:
        for outcome in ensure_seeds(store, progress=sys.stderr.isatty()):
            if not (outcome.stored or outcome.duplicate):
                print(outcome, file=sys.stderr)
            elif outcome.stored:
                print(outcome)
    return render(store, output)


def _render(args: argparse.Namespace) -> int:
    index = _render_site(args, args.output)
    print(f"wrote {index}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from optgym.leaderboard.serve import make_server

    if args.render or not (args.dir / "index.html").is_file():
        _render_site(args, args.dir)
    server = make_server(args.dir, host=args.host, port=args.port, verbose=args.verbose)
    host, port = server.server_address[:2]
    print(f"serving {args.dir} at http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
