"""The command line as a user runs it: `popool self-test`, `popool demo --headless`, bad input, `popool portal`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from popool_gui.selftest import read_results

CLI = [sys.executable, "-m", "popool_gui"]


def run_cli(args: list[str], tmp_path: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POPOOL_CONFIG_DIR": str(tmp_path / "config"), "POPOOL_LOG_DIR": str(tmp_path / "logs")}
    return subprocess.run([*CLI, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=timeout)


@pytest.mark.browser
def test_self_test_passes(tmp_path):
    done = run_cli(["self-test", "--driver", "/usr/bin/chromedriver", "--binary", "/usr/bin/chromium"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "self-test PASSED" in done.stderr


@pytest.mark.browser
def test_demo_headless_writes_results_and_folders(tmp_path):
    done = run_cli(["demo", "--headless", "--count", "20", "--workers", "2"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = list((tmp_path / "popool-demo").glob("run-*/output"))
    assert len(runs) == 1
    rows = read_results(runs[0])
    assert len(rows) >= 20
    assert {r["STATUS"] for r in rows} >= {"COMPLETED", "PO_NOT_FOUND"}
    assert any(p.is_dir() and p.name.endswith("_COMPLETED") for p in runs[0].rglob("*"))


def test_bad_input_exits_2_with_a_message_naming_the_file(tmp_path):
    bad = tmp_path / "pos.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    done = run_cli(["run", str(bad), "--output", str(tmp_path / "out"), "--base-url", "http://127.0.0.1:9"], tmp_path)
    assert done.returncode == 2
    assert "pos.csv" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_screenshot_without_a_window_is_refused(tmp_path):
    done = run_cli(["demo", "--headless", "--screenshot", str(tmp_path / "shot.png")], tmp_path)
    assert done.returncode == 2
    assert "--screenshot" in done.stderr and "--headless" in done.stderr
    assert not (tmp_path / "popool-demo").exists(), "nothing was started"


def test_bad_setting_exits_2_naming_the_setting(tmp_path):
    good = tmp_path / "pos.csv"
    good.write_text("PO_NUMBER\nPO100001\n", encoding="utf-8")
    done = run_cli(["run", str(good), "--workers", "40", "--base-url", "http://127.0.0.1:9"], tmp_path)
    assert done.returncode == 2
    assert "workers" in done.stderr.lower()
    assert "Traceback" not in done.stderr


@pytest.mark.browser
def test_a_results_file_fed_back_as_input_is_kept_and_the_results_go_beside_it(demo, tmp_path):
    from popool_gui.demo.sample import write_sample_csv

    out = tmp_path / "out"
    browser = ["--portal", "demo", "--base-url", demo.url, "--output", str(out), "--workers", "2", "--headless"]
    browser += ["--browser", "chromium", "--driver", "/usr/bin/chromedriver", "--binary", "/usr/bin/chromium"]
    first = run_cli(["run", str(write_sample_csv(tmp_path / "pos.csv", 8)), *browser], tmp_path)
    assert first.returncode in (0, 1), first.stderr[-3000:]
    results = out / "popool-results.csv"
    before, inode = results.read_bytes(), results.stat().st_ino

    again = run_cli(["run", str(results), *browser, "--accept-new-input"], tmp_path)
    assert again.returncode in (0, 1), again.stderr[-3000:]
    assert results.read_bytes() == before and results.stat().st_ino == inode, "the input was replaced"
    beside = out / "popool-results-2.csv"
    assert beside.read_text(encoding="utf-8-sig").count("\n") == before.decode("utf-8-sig").count("\n")
    warning = next(line for line in again.stderr.splitlines() if "results_beside_input" in line)
    assert warning.startswith("WARNING") and f"input={results} results={beside}" in warning
    assert f"it was kept, and the results went to {beside}" in again.stderr
    assert f"Results: {beside}" in again.stderr


@pytest.mark.browser
def test_retry_failed_takes_the_failed_pos_again_and_prints_the_report(demo, tmp_path):
    from dataclasses import replace

    from popool_gui.batch.journal import Journal
    from popool_gui.batch.model import PoStatus
    from popool_gui.demo.sample import write_sample_csv
    from popool_gui.run_setup import plan_run
    from popool_gui.settings import Settings

    out = tmp_path / "out"
    source = write_sample_csv(tmp_path / "pos.csv", 4)
    browser = ["--portal", "demo", "--base-url", demo.url, "--output", str(out), "--workers", "1", "--headless"]
    browser += ["--browser", "chromium", "--driver", "/usr/bin/chromedriver", "--binary", "/usr/bin/chromium"]
    first = run_cli(["run", str(source), *browser], tmp_path)
    assert first.returncode in (0, 1), first.stderr[-3000:]
    assert f"Report:  {out / 'popool-report.html'}" in first.stderr
    # One COMPLETED PO turned FAILED, as a portal error would have left it.
    batch = plan_run(Settings().replace(portal="demo", base_url=demo.url, output_dir=str(out)), source).batch
    with Journal.open(out, batch) as journal:
        victim = next(r for r in journal.all_results() if r.status is PoStatus.COMPLETED)
        journal.record(replace(victim, status=PoStatus.FAILED, error="HTTP 500", attempts=3))

    again = run_cli(["run", str(source), *browser, "--retry", "failed"], tmp_path)
    assert again.returncode in (0, 1), again.stderr[-3000:]
    assert "Retrying 1 failed POs" in again.stderr
    with Journal.open(out, batch) as journal:
        now = journal.result(victim.key)
        assert now.status is PoStatus.COMPLETED and now.attempts == 1
        assert [(h.status, h.attempts, h.error) for h in journal.history(victim.key)] == [
            (PoStatus.FAILED, 3, "HTTP 500")
        ]
