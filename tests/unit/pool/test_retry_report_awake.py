"""Issue 15 in the controller, with fake workers: retry during and after a run (attempts afresh, history kept),
the run report at every end (Stop included) and never failing a run, the keep-awake inhibitor released however the
run ends, and the rolling ETA unknown ("?") while the run is stalled."""

from __future__ import annotations

import io
import sqlite3
import sys
from pathlib import Path

import pytest

from popool_gui.batch.journal import Journal
from popool_gui.batch.model import PoStatus, RunSnapshot, RunState
from popool_gui.batch.run_report import REPORT_FILE
from popool_gui.cli_render import ProgressRenderer
from popool_gui.pool import keep_awake as keep_awake_mod
from popool_gui.pool import report_writer
from popool_gui.pool.reporting import RunClock, run_snapshot
from popool_gui.pool.rolling_rate import UNKNOWN_ETA, RollingRate
from tests.helpers import Recorder, RunThread, wait_for
from tests.unit.pool.test_controller import (
    controller,
    make_batch,
    no_worker_left,  # noqa: F401 - autouse: no fake worker outlives a test
)
from tests.unit.pool.test_keep_awake import inhibitors, stand_in  # noqa: F401 - the stand-in fixture

FAILING = "100101"  # ...01: a transient failure on every attempt, FAILED after max_attempts
SLOW = [f"1{i:03d}05" for i in range(1, 7)]  # ...05: one second each, so the run is still going


class LogRecorder(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def on_log(self, line) -> None:
        self.events.append(line.event)


def journal_of(tmp_path: Path, ids: list[str]) -> Journal:
    return Journal.open(tmp_path / "out", make_batch(ids, tmp_path))


def test_retry_during_a_run_requeues_the_failed_po_with_fresh_attempts(tmp_path):
    ids = [FAILING, *SLOW]
    rec = Recorder()
    ctl = controller(tmp_path, ids, rec, workers=1, max_attempts=1)
    runner = RunThread(ctl)
    wait_for(lambda: any(r.key == f"PO{FAILING}" and r.status is PoStatus.FAILED for r in rec.results))
    ctl.retry(f"PO{FAILING}", "PO100605")  # the second one is still waiting in the queue: left alone
    summary = runner.join(60)
    assert summary.state is RunState.FINISHED
    failed_again = [r for r in rec.results if r.key == f"PO{FAILING}" and r.status is PoStatus.FAILED]
    assert len(failed_again) == 2, "the retried PO was processed again in the same run"
    assert summary.processed_this_run == len(ids) + 1
    with journal_of(tmp_path, ids) as journal:
        now = journal.result(f"PO{FAILING}")
        assert now.attempts == 1, "attempts are counted afresh, not added to the first round's"
        history = journal.history(f"PO{FAILING}")
        assert [(h.status, h.attempts) for h in history] == [(PoStatus.FAILED, 1)]
        assert "HTTP 500" in history[0].error
        assert journal.history("PO100605") == []


def test_retry_after_a_run_takes_only_the_failed_pos(tmp_path):
    ids = [FAILING, "100110", "100120", "100104"]  # ...04: a login wall, AUTH_REQUIRED in a headless run
    first = controller(tmp_path, ids, max_attempts=1, headless=True).run()
    assert first.counts == {"COMPLETED": 2, "FAILED": 1, "AUTH_REQUIRED": 1}
    with journal_of(tmp_path, ids) as journal:
        assert journal.reset_many(journal.keys_to_retry()) == [f"PO{FAILING}", "PO100104"]
        assert journal.result(f"PO{FAILING}").status is PoStatus.PENDING
        completed = {r.key: r.finished_at for r in journal.all_results() if r.status is PoStatus.COMPLETED}
    again = controller(tmp_path, ids, max_attempts=1, headless=True).run()
    assert again.counts == first.counts
    # The FAILED one was processed again; the AUTH_REQUIRED one met the login wall again (not a "processed" PO).
    assert again.processed_this_run == 1
    with journal_of(tmp_path, ids) as journal:
        assert {k: journal.result(k).finished_at for k in completed} == completed, "the COMPLETED POs stay final"
        assert [h.status for h in journal.history(f"PO{FAILING}")] == [PoStatus.FAILED]
        assert [h.status for h in journal.history("PO100104")] == [PoStatus.AUTH_REQUIRED]


def test_an_older_journal_gets_a_history_table(tmp_path):
    ids = ["100110"]
    with journal_of(tmp_path, ids) as journal:
        journal.record(journal.result("PO100110").__class__(key="PO100110", status=PoStatus.FAILED, error="x"))
    path = tmp_path / "out" / ".popool" / "journal.sqlite3"
    with sqlite3.connect(path) as conn:  # as popool wrote it before retries had a history
        conn.execute("DROP TABLE history")
    with journal_of(tmp_path, ids) as journal:
        assert journal.result("PO100110").status is PoStatus.FAILED, "the older journal's result is kept"
        assert journal.reset("PO100110")
        assert [h.error for h in journal.history("PO100110")] == ["x"]


def test_the_report_is_written_at_the_end_of_a_run(tmp_path):
    summary = controller(tmp_path, [FAILING, "100110", "100120"], max_attempts=1).run()
    report = tmp_path / "out" / REPORT_FILE
    assert summary.report_file == str(report) and report.is_file()
    page = report.read_text(encoding="utf-8")
    assert f"PO{FAILING}" in page and "HTTP 500" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", ""), "self-contained: nothing fetched"


def test_the_report_is_written_on_stop(tmp_path):
    ids = SLOW * 1
    ctl = controller(tmp_path, ids, workers=1)
    runner = RunThread(ctl)
    wait_for(lambda: ctl.state is RunState.RUNNING)
    ctl.stop()
    summary = runner.join(60)
    assert summary.stopped_early
    assert Path(summary.report_file).is_file()
    assert "PENDING" in Path(summary.report_file).read_text(encoding="utf-8")


def test_a_report_that_cannot_be_written_does_not_fail_the_run(tmp_path, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise PermissionError("read-only folder")

    monkeypatch.setattr(report_writer, "write_report_from_journal", refuse)
    rec = LogRecorder()
    summary = controller(tmp_path, ["100110"], rec).run()
    assert summary.state is RunState.FINISHED and summary.report_file == ""
    assert "report_write_failed" in rec.events


def test_restarts_are_counted_for_the_report(tmp_path, monkeypatch):
    seen = {}
    real = report_writer.write_report_from_journal

    def spy(journal, output_dir, facts):
        seen["facts"] = facts
        return real(journal, output_dir, facts)

    monkeypatch.setattr(report_writer, "write_report_from_journal", spy)
    controller(tmp_path, ["100103", "100110"], workers=1, max_attempts=2).run()  # ...03: the process crashes
    assert seen["facts"].restarts >= 1 and seen["facts"].workers == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux inhibitor")
def test_the_inhibitor_is_held_during_the_run_and_released_after(tmp_path, monkeypatch, stand_in):  # noqa: F811
    monkeypatch.setattr(keep_awake_mod, "INHIBITOR", str(stand_in))
    ctl = controller(tmp_path, SLOW[:3], workers=1)
    runner = RunThread(ctl)
    wait_for(lambda: bool(inhibitors(stand_in)))
    assert runner.join(60).state is RunState.FINISHED
    wait_for(lambda: not inhibitors(stand_in), timeout=5)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux inhibitor")
def test_the_inhibitor_is_released_when_the_controller_crashes(tmp_path, monkeypatch, stand_in):  # noqa: F811
    monkeypatch.setattr(keep_awake_mod, "INHIBITOR", str(stand_in))
    ctl = controller(tmp_path, ["100110"], workers=1)

    def crash() -> None:
        assert inhibitors(stand_in), "held while the loop runs"
        raise RuntimeError("boom")

    monkeypatch.setattr(ctl, "_loop", crash)
    with pytest.raises(RuntimeError):
        ctl.run()
    wait_for(lambda: not inhibitors(stand_in), timeout=5)


def test_keep_awake_off_holds_nothing(tmp_path, monkeypatch, stand_in):  # noqa: F811
    monkeypatch.setattr(keep_awake_mod, "INHIBITOR", str(stand_in))
    controller(tmp_path, ["100110"], keep_awake=False).run()
    assert not Path(f"{stand_in}.args").exists(), "the inhibitor was never started"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def snapshot_at(clock: RunClock, done: int, total: int) -> RunSnapshot:
    return run_snapshot(
        RunState.RUNNING,
        {"COMPLETED": done, "PENDING": total - done},
        clock,
        pending=total - done,
        in_flight=0,
        system_memory_pct=0.0,
        memory_threshold_pct=0.0,
        stop_deadline=None,
        message="",
    )


def test_the_eta_is_unknown_while_the_run_is_stalled():
    fake = Clock()
    clock = RunClock()
    clock.start()
    clock.rolling = RollingRate(clock=fake)
    for _ in range(6):
        fake.now += 2.0
        clock.finished_one()
    running = snapshot_at(clock, 6, 20)
    assert running.eta_s is not None and running.eta_s == pytest.approx(14 * 2.0)
    assert running.rate_per_min == pytest.approx(30.0)
    fake.now += 120.0  # nothing finishes for two minutes
    stalled = snapshot_at(clock, 6, 20)
    assert stalled.eta_s is None
    out = io.StringIO()
    ProgressRenderer(out).on_run(stalled)
    assert f"ETA {UNKNOWN_ETA} " in out.getvalue()
