"""The held-out NVP report's arithmetic: empty modules, paired intervals, resuming a killed run."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "nvp_report", Path(__file__).resolve().parents[1] / "benchmarks" / "nvp_report.py")
nvp_report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nvp_report)


def _row(uri: str, oz: int, coreset: list[int | None], orders: dict[str, list[int]]) -> dict:
    return {"uri": uri, "oz": oz, "coreset": coreset, "orders": orders,
            "random": [oz] * 44, "seconds": 0.0}


def test_a_module_minus_oz_empties_is_left_out_and_counted() -> None:
    rows = [_row("a", 100, [90, 95], {"nvp": [0, 1]}),
            _row("empty", 0, [0, 0], {"nvp": [1, 0]})]
    table = nvp_report.summarize(rows)
    assert table["programs"] == 1 and table["left out (empty at -Oz)"] == 1
    assert table["nvp @2"]["geomean"] == pytest.approx(100 / 90)
    assert table["coreset order @2"]["geomean"] == pytest.approx(100 / 90)
    only_empty = nvp_report.summarize(rows[1:])
    assert only_empty == {"programs": 0, "left out (empty at -Oz)": 1}
    nvp_report.print_table("empty", only_empty)  # a header and no rows, not a crash


def test_paired_reports_ratio_interval_and_wins() -> None:
    # nvp tries sequence 1 first, the coreset order sequence 0: nvp wins on the first three
    # programs and loses on the last.
    rows = [_row(f"p{i}", 100, [100, 90], {"nvp": [1, 0]}) for i in range(3)]
    rows.append(_row("p3", 100, [80, 100], {"nvp": [1, 0]}))
    cell = nvp_report.paired(rows, "nvp", "coreset order", 2)
    expected = math.exp((3 * math.log(100 / 90) + math.log(80 / 100)) / 4)
    assert cell["ratio"] == pytest.approx(expected)
    assert cell["low"] <= cell["ratio"] <= cell["high"]
    assert cell["low"] < 1.0 < cell["high"]  # four programs cannot settle this one
    assert (cell["ours smaller"], cell["theirs smaller"]) == (3, 1)
    # at a budget that reaches both sequences the two orders end the same
    same = nvp_report.paired(rows, "nvp", "coreset order", 45)
    assert same["ratio"] == 1.0 and same["ours smaller"] == same["theirs smaller"] == 0


def test_a_killed_run_resumes_from_rows_measured_with_the_same_settings(tmp_path: Path) -> None:
    coreset = [["instcombine"], ["gvn"]]
    journal = tmp_path / "report.json.rows.jsonl"
    kept = _row("benchmark://x/kept", 10, [9, 8], {})
    lines = [json.dumps({"coreset": coreset, "random": 44, "row": kept}),
             json.dumps({"coreset": [["dce"]], "random": 44,
                         "row": _row("benchmark://x/other-coreset", 10, [9], {})}),
             json.dumps({"coreset": coreset, "random": 100,
                         "row": _row("benchmark://x/other-random", 10, [9], {})}),
             json.dumps({"coreset": coreset, "random": 44,
                         "row": _row("benchmark://x/not-asked", 10, [9], {})}),
             '{"coreset": [["instcombine"]], "rand']  # torn by the kill
    journal.write_text("\n".join(lines))
    asked = {"benchmark://x/kept", "benchmark://x/other-coreset", "benchmark://x/other-random"}
    assert nvp_report.resumed(journal, coreset, 44, asked) == [kept]
    assert nvp_report.resumed(tmp_path / "missing.jsonl", coreset, 44, asked) == []
    assert nvp_report.resumed(None, coreset, 44, asked) == []
