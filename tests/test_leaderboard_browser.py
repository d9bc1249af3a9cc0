"""The rendered leaderboard in a real browser: `optgym leaderboard serve` on a free loopback port,
Debian's headless Chromium loads the page, runs its script, and we read back the DOM it built
and a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from optgym.agents import Budget
from optgym.cli import main
from optgym.leaderboard import evaluate, write_results
from optgym.leaderboard.store import Store
from optgym.leaderboard.tasks import Task, register_task

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

TASK = register_task(Task(
    name="test-browser-ic-v0", description="two small builtin programs (browser test)",
    dataset="builtin-v0", benchmarks=("crc32", "nqueens"),
    reward="IrInstructionCountOz", budget=Budget(seconds=30),
), replace=True)


def few_passes(env, budget):
    """A deliberately slower, different policy so the table has two distinct rows."""
    from optgym.agents import result_from_env

    clock = budget.clock()
    clock.spend()
    for flag in ("-mem2reg", "-instcombine", "-simplifycfg"):
        env.step(env.actions.index(flag))
    return result_from_env(env, list(env.actions_taken), clock, "few")


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--no-default-browser-check", f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=180,
    )


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                    "(scripts/setup.sh installs it; or: apt-get install chromium)")
def test_page_renders_in_headless_chromium(tmp_path: Path):
    store = Store(tmp_path / "board.sqlite")
    for policy in ("oz", "test_leaderboard_browser:few_passes"):
        header, states = evaluate(TASK, policy, progress=False)
        csv_path, _ = write_results(tmp_path / f"{policy.split(':')[-1]}.csv", header, states)
        assert store.submit(csv_path, progress=False).stored
    site = tmp_path / "site"
    assert main(["leaderboard", "render", "--no-seeds", "--store", str(store.path),
                 "-o", str(site)]) == 0
    page = (site / "index.html").read_text()
    # Self-contained: no script, style, image or font is fetched from anywhere.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page

    server = subprocess.Popen(
        [sys.executable, "-m", "optgym.cli", "leaderboard", "serve", "--dir", str(site),
         "--port", "0", "--store", str(store.path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = server.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, f"no URL from the server: {line!r} {server.stderr.read() if server.poll() is not None else ''}"
        url = match.group(0)
        with urllib.request.urlopen(url + "submission-1.html", timeout=10) as response:
            assert response.status == 200 and b"crc32" in response.read()

        profile = tmp_path / "chromium-profile"
        # ?sort=walltime&dir=asc makes the page's script sort the table when it loads.
        dom = _chromium(profile, "--virtual-time-budget=5000", "--dump-dom",
                        url + "?sort=walltime&dir=asc")
        assert dom.returncode == 0, dom.stderr[-2000:]
        html = dom.stdout
        table = re.search(r'<table[^>]*id="board-test-browser-ic-v0"[^>]*>', html)
        assert table, "the task's table is missing"
        assert 'data-ready="yes"' in table.group(0), "the page's script did not run"
        assert 'data-sorted-by="walltime:asc"' in table.group(0)
        section = html[table.start():html.index("</section>", table.start())]
        entries = re.findall(r'<tr class="entry" data-policy="([^"]+)"', section)
        assert sorted(entries) == ["oz", "test_leaderboard_browser:few_passes"]
        walltimes = [float(v) for v in re.findall(
            r'<td class="num" data-value="([0-9.]+)">[0-9.]+ s</td>', section)]
        assert len(walltimes) == 2 and walltimes == sorted(walltimes)
        assert len(re.findall(r'<figure class="plot', section)) == 2
        assert section.count("<svg") == 2 and section.count("<path") > 20  # drawn, not empty

        shot = tmp_path / "leaderboard.png"
        run = _chromium(profile, "--window-size=1200,1800", f"--screenshot={shot}", url)
        assert run.returncode == 0, run.stderr[-2000:]
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    finally:
        server.terminate()
        server.wait(timeout=10)
