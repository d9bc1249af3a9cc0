"""The leaderboard: tasks, eval to CSV + header, replay validation with the real opt-19, the store
(duplicates, tampered and malformed files), and the shipped baselines.

Most tests use a two-program task registered here (small builtin-v0 programs), so every replay
really runs opt-19 and the programs while the whole file stays fast.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from optgym.agents import Budget, result_from_env
from optgym.cli import main
from optgym.datasets import get_dataset
from optgym.envs.llvm.state import commandline_of
from optgym.errors import OptgymError
from optgym.leaderboard import evaluate, get_task, read_results, task_names, validate_file
from optgym.leaderboard.results import header_path
from optgym.leaderboard.seed import seed_files
from optgym.leaderboard.store import Store
from optgym.leaderboard.tasks import Task, register_task
from optgym.leaderboard.validate import validate_states

TINY = register_task(Task(
    name="test-tiny-ic-v0", description="two small builtin programs (tests only)",
    dataset="builtin-v0", benchmarks=("crc32", "adler32_fletcher"),
    reward="IrInstructionCountOz", budget=Budget(seconds=30),
), replace=True)
TINY_SIZE = register_task(Task(
    name="test-tiny-codesize-v0", description="two small builtin programs, .text size (tests)",
    dataset="builtin-v0", benchmarks=("crc32", "adler32_fletcher"),
    reward="ObjectTextSizeOz", budget=Budget(seconds=30),
), replace=True)


def mem2reg_sroa(env, budget):
    """A user's policy as a plain function: two fixed passes."""
    clock = budget.clock()
    clock.spend()
    for flag in ("-mem2reg", "-sroa"):
        env.step(env.actions.index(flag))
    return result_from_env(env, list(env.actions_taken), clock, "mem2reg-sroa")


def fails_on_adler(env, budget):
    """A policy that crashes on one program."""
    if "adler" in env.benchmark.uri:
        raise RuntimeError("boom")
    return mem2reg_sroa(env, budget)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["benchmark", "reward", "walltime", "commandline"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _copy(src: Path, dst: Path) -> Path:
    """Copy a result CSV and its header to ``dst``."""
    dst.write_bytes(src.read_bytes())
    header_path(dst).write_bytes(header_path(src).read_bytes())
    return dst


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """A result file from the CLI: the user's function policy on the tiny task."""
    out = tmp_path_factory.mktemp("results") / "mine.csv"
    code = main(["leaderboard", "eval", "--task", TINY.name, "--policy",
                 "test_leaderboard:mem2reg_sroa", "--budget-seconds", "5", "-o", str(out),
                 "--notes", "from the test"])
    assert code == 0
    return out


def test_tasks_are_data_and_pin_their_programs():
    assert task_names()[:4] == ["builtin-test-ic-v0", "builtin-test-codesize-v0",
                                "csmith-test-ic-v0", "cbench-ic-v0"]
    builtin = get_task("builtin-test-ic-v0")
    names = set(get_dataset("builtin-v0").benchmark_names())
    assert set(builtin.benchmarks) <= names
    assert all(get_dataset("builtin-v0").benchmark(n).split == "test" for n in builtin.benchmarks)
    assert get_task("builtin-test-codesize-v0").reward == "ObjectTextSizeOz"
    csmith = get_task("csmith-test-ic-v0")
    assert csmith.benchmark_uris[0] == "generator://csmith-v0/5" and len(csmith.benchmarks) == 10
    with pytest.raises(OptgymError, match="unknown leaderboard task 'nope'"):
        get_task("nope")
    with pytest.raises(OptgymError, match="at most 30 s"):
        TINY.check_budget(Budget(seconds=31))


def test_cbench_task_is_skipped_gracefully_when_not_downloaded():
    task = get_task("cbench-ic-v0")
    if get_dataset("cbench-v1").installed:
        pytest.skip("cbench-v1 is downloaded on this machine")
    ok, why = task.available()
    assert not ok and "optgym datasets download cbench-v1" in why
    with pytest.raises(OptgymError, match="download cbench-v1"):
        evaluate(task, "oz", progress=False)
    assert main(["leaderboard", "eval", "--task", task.name, "--policy", "oz",
                 "--no-progress"]) == 2


def test_eval_writes_csv_and_header(good: Path):
    header = json.loads(header_path(good).read_text())
    assert header["task"] == TINY.name and header["policy"] == "test_leaderboard:mem2reg_sroa"
    assert header["llvm_version"] == "19" and header["llvm_full_version"].startswith("19.")
    assert header["budget"] == {"seconds": 5.0} and header["notes"] == "from the test"
    assert header["machine"]["cores"] >= 1 and header["date"].startswith("20")
    assert header["optgym_version"] and header["failures"] == {}
    rows = _rows(good)
    assert [r["benchmark"] for r in rows] == TINY.benchmark_uris
    for row in rows:
        assert 0 < float(row["reward"]) < 1.5 and float(row["walltime"]) >= 0
        assert row["commandline"].startswith("opt-19 --relocation-model=pic -passes='function(mem2reg)")
    leftovers = [p.name for p in good.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # atomic writes leave no temporary files


def test_validate_accepts_a_good_file(good: Path, capsys):
    assert main(["leaderboard", "validate", str(good), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "valid: 2 benchmarks" in out and "program output checked" in out


def test_validate_names_every_problem(good: Path, tmp_path: Path):
    rows = _rows(good)
    bad = _copy(good, tmp_path / "bad.csv")
    extra = dict(rows[0], benchmark="benchmark://builtin-v0/nqueens")
    sneaky = dict(rows[0], commandline=rows[0]["commandline"] + " -load=evil.so")
    _write_rows(bad, [sneaky, extra, extra])  # adler32 missing, crc32 flagged, nqueens twice
    report = validate_file(bad, progress=False)
    text = "\n".join(report.errors)
    assert not report.ok
    assert "builtin-v0/adler32_fletcher: missing" in text
    assert "builtin-v0/nqueens: not a benchmark of task test-tiny-ic-v0" in text
    assert "builtin-v0/crc32: command line" in text and "-load=evil.so" in text


def test_codesize_task_rewards_in_text_bytes():
    # The oz policy is opt's default<Oz>; the yardstick is clang-19 -Oz's object, which can
    # differ by a few bytes (clang tunes its pipeline: SLP on, loop vectorization off).
    header, states = evaluate(TINY_SIZE, "oz", progress=False)
    assert [s.reward for s in states] == pytest.approx([1.0, 1.0], abs=0.05)
    report = validate_states(TINY_SIZE, states, header, progress=False)
    assert report.ok, report.errors
    assert all(r.cost == pytest.approx(r.oz_cost, rel=0.02) and r.oz_cost > 100 for r in report.rows)


def test_policy_failure_is_recorded_and_rejected(tmp_path: Path):
    header, states = evaluate(TINY, "test_leaderboard:fails_on_adler", progress=False)
    adler = TINY.benchmark_uris[1]
    assert "RuntimeError: boom" in header.failures[adler]
    assert states[1].reward == 0.0 and "-passes" not in states[1].commandline
    report = validate_states(TINY, states, header, progress=False)
    assert any("the policy failed on" in e and adler in e for e in report.errors)


def test_store_submit_duplicate_tampered_malformed(good: Path, tmp_path: Path, capsys):
    store = Store(tmp_path / "board.sqlite")
    first = store.submit(good, progress=False)
    assert first.stored and first.submission_id == 1, first.reasons
    again = store.submit(good, progress=False)
    assert again.duplicate and again.submission_id == 1
    assert len(store.submissions()) == 1

    rows = _rows(good)
    reward = _copy(good, tmp_path / "reward.csv")
    _write_rows(reward, [dict(rows[0], reward=str(float(rows[0]["reward"]) + 0.05)), rows[1]])
    outcome = store.submit(reward, progress=False)
    assert not outcome.stored and not outcome.duplicate
    assert any("crc32: reward" in r and "is not reproduced" in r for r in outcome.reasons)

    command = _copy(good, tmp_path / "command.csv")
    # The second row's passes are dropped: the reward it claims is now unearned.
    _write_rows(command, [rows[0], dict(rows[1], commandline=commandline_of(""))])
    assert main(["leaderboard", "submit", str(command), "--store", str(store.path)]) == 1
    captured = capsys.readouterr()
    out = captured.out
    assert "REFUSED, nothing stored" in out and "adler32_fletcher: reward" in out
    assert "replay with opt" not in captured.err  # no progress bar into a pipe or a log

    garbage = tmp_path / "garbage.csv"
    garbage.write_text("this,is\nnot,a result file\n")
    header_path(garbage).write_text(header_path(good).read_text())
    outcome = store.submit(garbage, progress=False)
    assert not outcome.stored and "the header row is this,is" in outcome.reasons[0]

    headerless = tmp_path / "headerless.csv"
    headerless.write_bytes(good.read_bytes())
    outcome = store.submit(headerless, progress=False)
    assert not outcome.stored and "headerless.json is missing" in outcome.reasons[0]

    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM rows").fetchone()[0] == 2
    stored = store.submissions(rows=True)[0]
    assert stored.policy == "test_leaderboard:mem2reg_sroa"
    ratios = [r["oz_cost"] / r["cost"] for r in stored.rows]
    assert stored.geomean == pytest.approx((ratios[0] * ratios[1]) ** 0.5)
    assert {r["benchmark"] for r in stored.rows} == set(TINY.benchmark_uris)
    assert all(r["output_checked"] for r in stored.rows)


def test_store_refuses_a_file_that_is_not_sqlite(tmp_path: Path):
    path = tmp_path / "board.sqlite"
    path.write_text("not a database, just text that is long enough to have a header" * 20)
    with pytest.raises(OptgymError, match="not a leaderboard store"):
        Store(path)


@pytest.mark.parametrize("path", seed_files(), ids=lambda p: p.stem)
def test_shipped_baselines_are_complete_and_replay(path: Path):
    header, states, _ = read_results(path)
    task = get_task(header.task)
    assert header.llvm_version == "19" and not header.failures
    assert sorted(s.benchmark for s in states) == sorted(task.benchmark_uris)
    # Replay the program with the longest pass sequence (the full file is replayed by render).
    longest = max(states, key=lambda s: len(s.commandline))
    one = Task(task.name, task.description, task.dataset, (longest.benchmark.rsplit("/", 1)[1],),
               task.reward, task.budget)
    report = validate_states(one, [longest], progress=False)
    assert report.ok, report.errors


def test_at_least_the_required_baselines_ship():
    shipped = {(h.task, h.policy, h.budget.get("seconds"))
               for h in (read_results(p)[0] for p in seed_files())}
    task = "builtin-test-ic-v0"
    assert {(task, "oz", 60), (task, "random", 10), (task, "random", 60), (task, "greedy", 60),
            (task, "evolve", 60), (task, "nvp", 60), (task, "ppo", 60)} <= shipped


def test_eval_registered_policy_with_arguments_and_compilation_budget(tmp_path: Path):
    out = tmp_path / "random.csv"
    assert main(["leaderboard", "eval", "--task", TINY.name, "--policy", "random",
                 "--policy-arg", "seed=3", "--budget-compilations", "20", "--no-progress",
                 "-o", str(out)]) == 0
    header, states, _ = read_results(out)
    assert header.policy == "random" and header.policy_args == {"seed": 3}
    assert header.budget == {"compilations": 20, "seconds": 30.0}
    assert all(s.reward > 0 for s in states)
    assert main(["leaderboard", "eval", "--task", TINY.name, "--policy", "random",
                 "--policy-arg", "3x", "-o", str(out)]) == 2


def test_render_adds_the_shipped_baselines_once(tmp_path: Path, monkeypatch, capsys):
    import optgym.leaderboard.seed as seed

    # One shipped file stands for all of them (replaying every baseline takes a minute).
    oz = next(p for p in seed_files() if p.name == "builtin-test-ic-v0.oz.csv")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    _copy(oz, seeds / oz.name)
    monkeypatch.setattr(seed, "SEED_DIR", seeds)
    store, site = tmp_path / "board.sqlite", tmp_path / "site"
    for _ in range(2):  # the second render finds the baseline stored already
        assert main(["leaderboard", "render", "--store", str(store), "-o", str(site)]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("validated and stored") == 1
    assert "replay with opt" not in captured.err  # no progress bar into a pipe or a log
    (sub,) = Store(store).submissions()
    assert sub.policy == "oz" and sub.label == "baseline" and sub.geomean == pytest.approx(1.0)
    page = (site / "index.html").read_text()
    assert 'data-policy="oz"' in page and "[baseline]" in page
    assert (site / f"submission-{sub.id}.html").is_file()


def test_a_hostile_policy_name_is_shown_as_text(tmp_path: Path):
    from optgym.leaderboard import write_results
    from optgym.leaderboard.render import render

    name = "<script>alert(1)</script> $\\notacommand$ _x"
    header, states = evaluate(TINY, "oz", policy_name=name, progress=False)
    csv_path, _ = write_results(tmp_path / "hostile.csv", header, states)
    store = Store(tmp_path / "board.sqlite")
    assert store.submit(csv_path, progress=False).stored
    index = render(store, tmp_path / "site")
    for page in (index, tmp_path / "site" / "submission-1.html"):
        text = page.read_text()
        assert "<script>alert" not in text and "&lt;script&gt;alert(1)" in text


def test_validate_checks_the_header_and_the_wall_time(good: Path, tmp_path: Path):
    rows = _rows(good)
    bad = _copy(good, tmp_path / "slow.csv")
    _write_rows(bad, [dict(rows[0], walltime="10000.0"), rows[1]])
    header = json.loads(header_path(bad).read_text())
    header.update(llvm_version="10", budget={"seconds": 999})
    header_path(bad).write_text(json.dumps(header))
    report = validate_file(bad, progress=False)
    text = "\n".join(report.errors)
    assert "header: measured with LLVM 10" in text
    assert "header: task test-tiny-ic-v0 allows at most 30 s" in text
    assert "crc32: walltime 10000.0 s exceeds the budget" in text
    assert len(report.errors) == 3  # the adler32 row is fine
