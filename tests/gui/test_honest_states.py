"""What the window says is true: a stopped run says so, an empty Start is impossible, a new file starts clean, and a
run has one POs/min figure, the same in the status bar, the summary and the report (fake pool, no browser)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from popool_gui.batch.model import PoStatus, WorkerState
from popool_gui.batch.run_report import REPORT_FILE
from popool_gui.gui.banners import Level
from popool_gui.gui.main_window import MainWindow
from tests.gui.helpers import load, start, write_pos

pytestmark = pytest.mark.gui


def finish(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=30_000)
    window.summary_dialog.close()
    window.summary_dialog = None


def test_a_stopped_run_says_how_many_pos_are_left(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    load(qtbot, window, write_pos(tmp_path / "slow.csv", [f"15{i:04d}05" for i in range(30)]))
    start(qtbot, window)
    qtbot.waitUntil(
        lambda: any(window.worker_model.snapshot(r).state is WorkerState.BUSY for r in range(2)), timeout=20_000
    )
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=20_000)
    summary = window.last_summary
    assert summary is not None and summary.stopped_early and summary.left_pending > 0
    headline = f"Stopped: {summary.left_pending} POs left pending"
    assert headline in window.summary_dialog.findChild(type(window.summary_label)).text()
    assert window.status.state.text() == "Stopped"
    report = (window.output_dir / REPORT_FILE).read_text(encoding="utf-8")
    assert headline in report and "Run finished" not in report


def test_one_rate_in_the_status_bar_the_summary_and_the_report(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    load(qtbot, window, write_pos(tmp_path / "pos.csv", [str(15000010 + i) for i in range(12)]))
    start(qtbot, window)
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=30_000)
    summary = window.last_summary
    assert summary is not None
    rate = f"{summary.rate_per_min:.1f}"
    assert window.status.rate.text() == f"{rate} POs/min"
    texts = " ".join(label.text() for label in window.summary_dialog.findChildren(type(window.summary_label)))
    assert f"({rate} per minute)" in texts
    assert "Render timing" not in texts and "p95" not in texts, "no jargon in the summary"
    report = (window.output_dir / REPORT_FILE).read_text(encoding="utf-8")
    assert f"{rate} per minute on average" in report
    assert "p95" not in report and "When a PO was called empty" in report


def test_a_start_with_nothing_left_is_refused_and_keeps_the_report(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    load(qtbot, window, write_pos(tmp_path / "pos.csv", ["15000010", "15000011"]))
    start(qtbot, window)
    finish(qtbot, window)
    report = window.output_dir / REPORT_FILE
    before = report.read_bytes()
    time.sleep(0.05)
    assert not start(qtbot, window), "every PO has its result: nothing to start"
    assert window.bridge is None and window.session is None
    assert window.messages.isVisible() and "Nothing to do" in window.messages.text()
    assert report.read_bytes() == before, "a run that processed nothing never replaces the report"
    assert not any(
        window.worker_model.snapshot(r).state is WorkerState.STARTING for r in range(window.worker_model.rowCount())
    )


def test_start_is_off_for_a_file_with_no_valid_po(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("PO_NUMBER;SUPPLIER\nhello;ACME\nPO12;ACME\n", encoding="utf-8")
    assert load(qtbot, window, bad)
    assert window.batch is not None and not window.batch.records and window.batch.invalid
    assert not window.start_button.isEnabled()
    assert not window.window_actions.start.isEnabled()


def test_a_new_file_starts_with_every_row_shown_and_its_own_log(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    load(qtbot, window, write_pos(tmp_path / "first.csv", ["15000010", "15000011"]))
    start(qtbot, window)
    finish(qtbot, window)
    assert window.log_pane.model.rowCount() > 0
    window.po_panel.show_status(PoStatus.FAILED)
    window.po_panel.search.setText("nothing matches this")
    load(qtbot, window, write_pos(tmp_path / "second.csv", ["15000020", "15000021", "15000022"]))
    assert window.po_panel.proxy.rowCount() == 3
    assert window.po_panel.search.text() == ""
    assert window.log_pane.model.rowCount() == 0
    assert window.messages.level is not Level.ERROR or not window.messages.isVisible()


def test_a_run_waiting_for_the_portal_says_so_and_offers_stop(window: MainWindow) -> None:
    from popool_gui.batch.model import RunSnapshot, RunState
    from popool_gui.gui.run_bridge import Updates

    waiting = "The portal is not answering; retrying in 10 s. The POs wait and keep their attempts; Stop ends the run."
    window._apply_updates(
        Updates(run=RunSnapshot(RunState.RUNNING, total=3, waiting=waiting, waiting_for="the portal"))
    )
    assert window.messages.isVisible() and window.messages.text() == waiting
    assert window.messages.level is Level.WARNING and window.messages.action.text() == "Stop"
    assert window.status.state.text() == "Waiting for the portal" and window.status.state.toolTip() == waiting
    window._apply_updates(Updates(run=RunSnapshot(RunState.RUNNING, total=3)))
    assert not window.messages.isVisible()
    assert window.status.state.text() == "Running"
