"""The worker pool with real headless Chromium against the embedded demo portal: no fake workers here."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from contextlib import closing
from pathlib import Path

import psutil
import pytest

from popool_gui.batch.input import read_batch
from popool_gui.batch.journal import Journal
from popool_gui.batch.model import PoStatus, RunState, TabState, WorkerState
from popool_gui.demo.sample import write_sample_csv
from popool_gui.pool.controller import PoolController
from popool_gui.pool.priority import WORKER_NICE
from popool_gui.selftest import read_results, verify_run
from popool_gui.settings import Settings
from tests.helpers import Recorder, RunThread, wait_for
from tests.real_processes import popool_run_command

pytestmark = pytest.mark.browser


def pool_settings(chromium_settings: Settings, url: str, out: Path, **kw) -> Settings:
    return chromium_settings.replace(portal="demo", base_url=url, output_dir=str(out), **kw)


def browser_pids_by_worker(rec: Recorder) -> dict[int, set[int]]:
    pids: dict[int, set[int]] = defaultdict(set)
    for snap in rec.workers:
        if snap.browser_pid:
            pids[snap.worker].add(snap.browser_pid)
    return pids


def waiting_for_a_page(rec: Recorder, since: int) -> set[int]:
    """The workers whose latest snapshot from the `since`-th on shows a tab opening or loading a page."""
    with rec.lock:
        latest = {s.worker: s for s in rec.workers[since:]}
    return {w for w, s in latest.items() if s.tab_state in (TabState.OPENING, TabState.LOADING)}


class NiceSampler:
    """The lowest niceness of any thread of any process below this one (Chromium sets it per thread)."""

    def __init__(self) -> None:
        self.lowest: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="nice-sampler")

    def __enter__(self) -> NiceSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            for proc in psutil.Process().children(recursive=True):
                try:
                    name, tids = proc.name(), [t.id for t in proc.threads()]
                    for tid in tids:
                        nice = os.getpriority(os.PRIO_PROCESS, tid)
                        self.lowest[name] = min(nice, self.lowest.get(name, nice))
                except (psutil.Error, OSError):
                    continue


@pytest.mark.parametrize(("workers", "rows"), [(2, 33), (4, 48)])
def test_pool_processes_a_batch_with_persistent_sessions(workers, rows, demo, chromium_settings, tmp_path):
    # Every special of the demo (15) and at least as many random POs (30 or 45), a dozen or more per browser.
    sample = write_sample_csv(tmp_path / "pos.csv", rows)
    out = tmp_path / "out"
    rec = Recorder()
    ctl = PoolController(pool_settings(chromium_settings, demo.url, out, workers=workers), read_batch(sample), rec)
    linux = sys.platform.startswith("linux")  # per-thread niceness; Windows has priority classes
    with NiceSampler() if linux else contextlib.nullcontext() as nice:
        summary = ctl.run()
    if nice is not None:
        # Below the window, every thread: Chromium raises its UI threads to -8 when allowed (as root here).
        browsers = {name: value for name, value in nice.lowest.items() if "chrom" in name}
        assert browsers and min(browsers.values()) >= WORKER_NICE, browsers
    assert summary.state is RunState.FINISHED
    assert summary.counts.get("PENDING", 0) == 0 and summary.counts.get("FAILED", 0) == 0
    assert verify_run(demo, out) == []
    pids = browser_pids_by_worker(rec)
    assert set(pids) == set(range(1, workers + 1))
    assert all(len(p) == 1 for p in pids.values()), f"a browser was replaced: {pids}"
    # Each PO opens a tab beside the home tab or takes a spare one; between POs the home tab and at most one spare
    # per tab are left.
    assert any(s.tab_state is TabState.OPENING or s.open_tabs == 2 for s in rec.workers)
    idle = [s for s in rec.workers if s.state is WorkerState.IDLE and s.tab_state is TabState.NONE and s.open_tabs]
    assert idle and all(1 <= s.open_tabs <= chromium_settings.tabs_per_worker + 1 for s in idle)
    finals = rec.finished()
    assert len({r.key for r in finals}) == len(finals), "a PO was finished twice"


def test_faults_browser_killed_worker_killed_hang_500_truncation(demo, chromium_settings, tmp_path):
    """kill -9 a browser mid-PO and a worker process; 500s, truncated downloads and a hang past the PO timeout."""
    sample = write_sample_csv(tmp_path / "pos.csv", 32)
    out = tmp_path / "out"
    demo.set_knobs(page_latency_ms=400, error_500_share=0.1, truncated_share=0.1)
    rec = Recorder()
    settings = pool_settings(
        chromium_settings,
        demo.url,
        out,
        workers=2,
        max_restarts=3,
        po_timeout_s=10.0,
        page_timeout_s=30.0,
        max_attempts=3,
    )
    ctl = PoolController(settings, read_batch(sample), rec)
    run = RunThread(ctl)
    wait_for(lambda: any(s.state is WorkerState.BUSY and s.browser_pid for s in rec.workers))
    busy = next(s for s in reversed(rec.workers) if s.state is WorkerState.BUSY and s.browser_pid)
    psutil.Process(busy.browser_pid).kill()
    wait_for(lambda: len(rec.finished()) >= 10)
    victim = next(s for s in reversed(rec.workers) if s.pid and s.worker != busy.worker)
    os.kill(victim.pid, signal.SIGKILL)
    wait_for(lambda: len(rec.finished()) >= 20)
    demo.set_knobs(hang_share=1.0)
    wait_for(lambda: any(s.state is WorkerState.CRASHED and "longer than" in s.message for s in rec.workers), 60)
    demo.set_knobs(hang_share=0.0)
    summary = run.join(600)
    crashes = {s.worker: s.crashes for s in rec.workers}
    assert sum(crashes.values()) >= 3
    assert all(n <= settings.max_restarts + 1 for n in crashes.values())
    retired = [s for s in rec.workers if s.state is WorkerState.RETIRED]
    assert summary.state is RunState.FINISHED or retired
    rows = read_results(out)
    batch = read_batch(sample)
    assert len(rows) == len(batch.records) + len(batch.invalid) + len(batch.duplicates), "one row per input row"
    finals = rec.finished()
    assert len({r.key for r in finals}) == len(finals), "a PO was finished twice"
    assert {r["STATUS"] for r in rows} <= {s.value for s in PoStatus if s is not PoStatus.ASSIGNED}


def test_memory_policy_recycles_heaviest_after_its_po(demo, chromium_settings, tmp_path, monkeypatch):
    # Enough POs that the run outlasts two recycles and their cool-down with four tabs a worker at work.
    sample = write_sample_csv(tmp_path / "pos.csv", 36)
    out = tmp_path / "out"
    rec = Recorder()

    # This machine's RAM use is far below the lowest allowed threshold (10 %): the system reading is set just
    # above the threshold until two recycles (enough to show the cool-down between them), then back below it so
    # the rest of the batch runs without new browsers. The workers' tree memory, and what is recycled, is real.
    def system_pct() -> float:
        return 76.0 if sum(d.action == "recycle" for d in rec.memory) < 2 else 50.0

    monkeypatch.setattr("popool_gui.pool.controller.system_memory_pct", system_pct)
    settings = pool_settings(
        chromium_settings, demo.url, out, workers=2, memory_threshold_pct=75.0, memory_cooldown_s=5.0
    )
    summary = PoolController(settings, read_batch(sample), rec).run()
    assert summary.state is RunState.FINISHED
    assert summary.counts.get("PENDING", 0) == 0
    recycles = [d for d in rec.memory if d.action == "recycle"]
    assert len(recycles) >= 2
    gaps = [b.at - a.at for a, b in itertools.pairwise(recycles)]
    assert all(g >= 4.5 for g in gaps), "one recycle at a time, with a cool-down"
    heaviest = [d.worker_mb > 0 for d in recycles]
    assert all(heaviest), "a recycle names the worker's measured tree memory"
    assert max(len(p) for p in browser_pids_by_worker(rec).values()) >= 2, "a recycled worker got a new browser"
    assert verify_run(demo, out) == []


def test_stop_mid_run_then_rerun_completes_without_repeats(demo, chromium_settings, tmp_path):
    # The stop comes after 8 of 23 POs: the rerun has most of the batch left to do.
    sample = write_sample_csv(tmp_path / "pos.csv", 26)
    out = tmp_path / "out"
    rec = Recorder()
    settings = pool_settings(chromium_settings, demo.url, out, workers=2, shutdown_timeout_s=30.0)
    ctl = PoolController(settings, read_batch(sample), rec)
    run = RunThread(ctl)
    wait_for(lambda: len(rec.finished()) >= 8)
    stop_at = time.monotonic()
    ctl.stop()
    first = run.join(60)
    assert time.monotonic() - stop_at < settings.shutdown_timeout_s
    assert first.stopped_early
    first_done = {r.key for r in rec.finished()}
    with Journal.open(out, read_batch(sample)) as journal:
        counts = journal.counts()
    assert counts.get("ASSIGNED", 0) == 0
    rec2 = Recorder()
    second = PoolController(settings.replace(workers=4), read_batch(sample), rec2).run()
    assert second.counts.get("PENDING", 0) == 0
    assert not first_done & {r.key for r in rec2.finished()}
    assert verify_run(demo, out) == []


@pytest.mark.alone
def test_stop_abandons_slow_page_loads_including_background_tabs(demo, chromium_settings, tmp_path):
    sample = write_sample_csv(tmp_path / "pos.csv", 40)
    out = tmp_path / "out"
    rec = Recorder()
    settings = pool_settings(chromium_settings, demo.url, out, workers=2, tabs_per_worker=2)
    ctl = PoolController(settings, read_batch(sample), rec)
    run = RunThread(ctl)
    # Both workers up and past their first PO: a browser still starting would open the slow home page.
    wait_for(lambda: len(rec.finished()) >= 4 and {r.worker for r in rec.finished()} == {1, 2})
    _, knobs_at = rec.marks()
    demo.set_knobs(page_latency_ms=20_000)
    # Every worker now waits for a page: its PO's, or a background tab's being opened.
    wait_for(lambda: waiting_for_a_page(rec, knobs_at) == {1, 2}, 60, "both workers waiting for a slow page")
    stop_at = time.monotonic()
    ctl.stop()
    summary = run.join(30)
    took = time.monotonic() - stop_at
    assert took < 5.0, f"Stop took {took:.1f} s with 20 s page loads in flight"
    assert summary.stopped_early
    # Abandoned on purpose: the workers exit normally (no crash, no restart), their POs go back to pending.
    assert not [s for s in rec.workers if s.state is WorkerState.CRASHED]
    with Journal.open(out, read_batch(sample)) as journal:
        counts = journal.counts()
    assert counts.get("ASSIGNED", 0) == 0 and counts.get("PENDING", 0) > 0


def test_kill_minus_9_of_cli_then_rerun(demo, chromium_settings, tmp_path):
    # Killed after 8 of 19 POs: the rerun finishes the rest.
    sample = write_sample_csv(tmp_path / "pos.csv", 22)
    out = tmp_path / "out"
    cmd = popool_run_command(demo.url, sample, out, chromium_settings)
    env = {**os.environ, "POPOOL_CONFIG_DIR": str(tmp_path / "config")}
    cli = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal_path = out / ".popool" / "journal.sqlite3"
    wait_for(lambda: journal_path.exists() and _finished_in_journal(out, sample) >= 8)
    tree = psutil.Process(cli.pid).children(recursive=True)
    cli.kill()
    cli.wait(10)
    _, alive = psutil.wait_procs(tree, timeout=30)
    assert not alive, f"processes outlived the killed CLI: {[p.pid for p in alive]}"
    done_before = _finished_in_journal(out, sample)
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert verify_run(demo, out) == []
    assert done_before >= 8


def _finished_in_journal(out: Path, sample: Path) -> int:
    """Read-only look at a journal another process is writing (opening it as a Journal would re-queue its POs)."""
    uri = f"{(out / '.popool' / 'journal.sqlite3').as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=5)) as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM po GROUP BY status").fetchall()
    except sqlite3.OperationalError:
        return 0
    return sum(n for status, n in rows if PoStatus(status).is_final)


def test_pause_resume_restart_from_another_thread(demo, chromium_settings, tmp_path):
    # Enough POs that worker 2 still has work when its restart is asked for, with four tabs a worker at work.
    sample = write_sample_csv(tmp_path / "pos.csv", 48)
    out = tmp_path / "out"
    rec = Recorder()
    ctl = PoolController(pool_settings(chromium_settings, demo.url, out, workers=2), read_batch(sample), rec)
    run = RunThread(ctl)
    wait_for(lambda: any(s.worker == 1 and s.state is WorkerState.BUSY for s in rec.workers))
    ctl.pause(1)
    wait_for(lambda: any(s.worker == 1 and s.state is WorkerState.PAUSED for s in rec.workers))
    assigned_while_paused = rec.assigned(1)
    browser_before = next(s.browser_pid for s in reversed(rec.workers) if s.worker == 1 and s.browser_pid)
    wait_for(lambda: len(rec.finished()) >= 8)
    assert rec.assigned(1) == assigned_while_paused
    assert psutil.pid_exists(browser_before), "a paused worker keeps its browser open"
    _, resumed_at = rec.marks()
    ctl.resume(1)
    # Resumed: worker 1 is busy again, on a PO dispatched to it after the resume.
    wait_for(lambda: rec.assigned(1) > assigned_while_paused, what="a PO for worker 1 after the resume")
    wait_for(
        lambda: any(s.worker == 1 and s.state is WorkerState.BUSY for s in rec.workers[resumed_at:]),
        what="worker 1 busy after the resume",
    )
    ctl.restart(2)
    wait_for(lambda: len(browser_pids_by_worker(rec)[2]) == 2)
    summary = run.join(300)
    assert summary.state is RunState.FINISHED and summary.counts.get("PENDING", 0) == 0
    assert all(s.crashes == 0 for s in rec.workers), "a requested restart is not counted as a crash"
    assert verify_run(demo, out) == []


def several_tabs(rec: Recorder, worker: int, since: int = 0) -> bool:
    """The worker said it had three POs in progress at once, from the `since`-th snapshot on."""
    with rec.lock:
        seen = rec.workers[since:]
    return any(s.worker == worker and s.tab_detail.startswith("3 tabs") for s in seen)


def test_pause_restart_and_stop_act_on_every_busy_tab(demo, chromium_settings, tmp_path):
    # Lists render 1.5 s after load, so each worker holds three POs in progress at once.
    demo.set_knobs(js_render_delay_ms=1500)
    sample = write_sample_csv(tmp_path / "pos.csv", 40)
    out = tmp_path / "out"
    rec = Recorder()
    settings = pool_settings(chromium_settings, demo.url, out, workers=2, tabs_per_worker=3, shutdown_timeout_s=30.0)
    ctl = PoolController(settings, read_batch(sample), rec)
    run = RunThread(ctl)
    wait_for(lambda: several_tabs(rec, 1) and several_tabs(rec, 2), 120, "both workers with three tabs busy")

    # Pause: worker 1 gets no new PO; the POs its tabs hold finish, and it ends paused with no tab open.
    ctl.pause(1)
    assigned = rec.assigned(1)
    _, paused_at = rec.marks()
    wait_for(
        lambda: any(
            s.worker == 1 and s.state is WorkerState.PAUSED and s.tab_state is TabState.NONE
            for s in rec.workers[paused_at:]
        ),
        120,
        "worker 1 paused with its tabs done",
    )
    assert rec.assigned(1) == assigned

    # Restart worker 2 while its tabs are busy: a new browser; every PO it held comes back or finishes.
    _, restart_at = rec.marks()
    wait_for(lambda: several_tabs(rec, 2, restart_at), 120, "worker 2 with three tabs busy again")
    ctl.restart(2)
    wait_for(lambda: len(browser_pids_by_worker(rec)[2]) == 2, 120, "worker 2 on a new browser")
    ctl.resume(1)

    # Stop while several tabs are busy: within the budget, nothing left assigned, no browser left (conftest).
    _, resumed_at = rec.marks()
    wait_for(lambda: several_tabs(rec, 1, resumed_at) or several_tabs(rec, 2, resumed_at), 120, "tabs busy again")
    stop_at = time.monotonic()
    ctl.stop()
    first = run.join(90)
    assert time.monotonic() - stop_at < settings.shutdown_timeout_s
    assert first.stopped_early
    assert all(s.crashes == 0 for s in rec.workers), "a requested restart is not counted as a crash"
    with Journal.open(out, read_batch(sample)) as journal:
        assert journal.counts().get("ASSIGNED", 0) == 0
    done_first = {r.key for r in rec.finished()}
    rec2 = Recorder()
    second = PoolController(settings, read_batch(sample), rec2).run()
    assert second.counts.get("PENDING", 0) == 0
    assert not done_first & {r.key for r in rec2.finished()}, "no PO done twice"
    assert verify_run(demo, out) == []
