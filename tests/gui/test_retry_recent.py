"""Issue 15 in the window, with a fake pool: Retry during and after a run, Open report, recent runs with Resume,
header state across launches, and the "?" ETA while stalled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from popool_gui.batch.journal import Journal
from popool_gui.batch.model import PoStatus, RunSnapshot, RunState
from popool_gui.batch.run_report import REPORT_FILE
from popool_gui.gui.banners import Level
from popool_gui.gui.main_window import PAGE_LOADED, MainWindow
from popool_gui.gui.po_model import PoColumn
from popool_gui.gui.window_state import WindowState
from popool_gui.pool.output_gate import OutputGate
from popool_gui.pool.rolling_rate import UNKNOWN_ETA
from popool_gui.settings import Settings
from tests.gui.conftest import make_window, shut_down
from tests.gui.helpers import load, start, write_pos
from tests.unit.fake_worker import fake_worker_main

pytestmark = pytest.mark.gui

FAILING = "15000101"  # ...01: a transient failure on every attempt
SLOW = [f"15{i:04d}05" for i in range(1, 11)]  # ...05: one second each


def status_of(window: MainWindow, key: str) -> PoStatus:
    row = window.po_model.row_for_key(key)
    assert row is not None
    return window.po_model.row(row).status


def history(window: MainWindow, key: str) -> list[PoStatus]:
    assert window.batch is not None
    with Journal.open(window.output_dir, window.batch) as journal:
        return [h.status for h in journal.history(key)]


def finish(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=60_000)


def test_retry_all_failed_during_a_run_joins_the_queue(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    window.settings = window.settings.replace(max_attempts=1)
    load(qtbot, window, write_pos(tmp_path / "pos.csv", [FAILING, *SLOW]))
    assert start(qtbot, window)
    qtbot.waitUntil(lambda: status_of(window, f"PO{FAILING}") is PoStatus.FAILED, timeout=30_000)
    assert window.running
    window.po_panel.retry_failed.emit()
    finish(qtbot, window)
    assert window.last_summary is not None and window.last_summary.processed_this_run == len(SLOW) + 2
    assert history(window, f"PO{FAILING}") == [PoStatus.FAILED]


def test_after_a_run_retry_takes_only_the_failed_and_the_summary_opens_the_report(
    window: MainWindow, qtbot: Any, tmp_path: Path, fake_desktop: Any
) -> None:
    window.settings = window.settings.replace(max_attempts=1)
    load(qtbot, window, write_pos(tmp_path / "pos.csv", [FAILING, "15000010", "15000011"]))
    start(qtbot, window)
    finish(qtbot, window)
    dialog = window.summary_dialog
    assert dialog is not None and dialog.open_report.isEnabled()
    qtbot.mouseClick(dialog.open_report, Qt.MouseButton.LeftButton)
    assert fake_desktop.opened == [window.output_dir / REPORT_FILE]
    dialog.close()
    window.summary_dialog = None

    row = window.po_model.row_for_key("PO15000010")
    assert row is not None
    window.po_panel.retry.emit([row])  # a COMPLETED PO, chosen in the table
    window.po_panel.retry_failed.emit()
    qtbot.waitUntil(lambda: status_of(window, f"PO{FAILING}") is PoStatus.PENDING)
    qtbot.waitUntil(lambda: status_of(window, "PO15000010") is PoStatus.PENDING)
    assert status_of(window, "PO15000011") is PoStatus.COMPLETED
    start(qtbot, window)
    finish(qtbot, window)
    assert window.last_summary is not None and window.last_summary.processed_this_run == 2
    assert history(window, "PO15000010") == [PoStatus.COMPLETED]


def test_a_retry_between_runs_leaves_a_folder_another_run_holds_alone(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    window.settings = window.settings.replace(max_attempts=1)
    load(qtbot, window, write_pos(tmp_path / "pos.csv", [FAILING, "15000010"]))
    start(qtbot, window)
    finish(qtbot, window)
    assert window.summary_dialog is not None and window.batch is not None
    window.summary_dialog.close()
    window.summary_dialog = None
    other_run = OutputGate(window.output_dir, window.settings.results_format)  # a `popool run` in a console
    other_run.open(window.batch)
    try:
        window.po_panel.retry_failed.emit()
        qtbot.waitUntil(lambda: window.messages.isVisible(), timeout=10_000)
        assert window.messages.level is Level.ERROR and "in use" in window.messages.text()
        assert other_run.journal.result(f"PO{FAILING}").status is PoStatus.FAILED
    finally:
        other_run.close()
    assert status_of(window, f"PO{FAILING}") is PoStatus.FAILED


def test_recent_runs_are_listed_and_resume_loads_the_file_with_its_folder(
    window: MainWindow, qtbot: Any, tmp_path: Path, fake_settings: Settings
) -> None:
    source = write_pos(tmp_path / "pos.csv", ["15000010", "15000011"])
    load(qtbot, window, source)
    start(qtbot, window)
    finish(qtbot, window)
    output = str(window.output_dir)
    gone = tmp_path / "moved-away"
    WindowState(tmp_path / "config" / "window.ini").add_recent_run(gone)
    window.close()  # the fixture deletes it

    elsewhere = fake_settings.replace(output_dir=str(tmp_path / "another"))
    again = make_window(qtbot, elsewhere, tmp_path, worker_target=fake_worker_main)
    try:
        runs = again.drop_zone.recent_runs.runs
        assert [(r.output_dir, r.input_file, r.done, r.total) for r in runs] == [(output, str(source), 2, 2)]
        assert str(gone) not in again._state.recent_runs(), "a folder that is gone is forgotten quietly"
        resume = again.drop_zone.recent_runs.findChild(QPushButton, "resumeRun")
        assert resume is not None and resume.isEnabled()
        with qtbot.waitSignal(again.load_finished, timeout=30_000) as loaded:
            qtbot.mouseClick(resume, Qt.MouseButton.LeftButton)
        assert loaded.args == [True]
        assert again.stack.currentIndex() == PAGE_LOADED
        assert str(again.output_dir) == output
        assert again.settings.output_dir == elsewhere.output_dir, "resuming a run changes no setting"
    finally:
        shut_down(qtbot, again)


def test_table_headers_come_back_at_the_next_launch(
    window: MainWindow, qtbot: Any, tmp_path: Path, fake_settings: Settings
) -> None:
    window.po_panel.header().resizeSection(PoColumn.SUPPLIER, 321)
    window.log_pane.header().moveSection(0, 2)
    moved = window.log_pane.header().logicalIndex(2)
    window.close()  # saves the headers; the fixture deletes it
    again = make_window(qtbot, fake_settings, tmp_path, worker_target=fake_worker_main)
    try:
        assert again.po_panel.header().sectionSize(PoColumn.SUPPLIER) == 321
        assert again.log_pane.header().logicalIndex(2) == moved
    finally:
        shut_down(qtbot, again)


def test_the_status_bar_shows_a_question_mark_while_stalled(window: MainWindow) -> None:
    window.status.show_run(RunSnapshot(state=RunState.RUNNING, total=10, done=3, rate_per_min=2.0, eta_s=None))
    assert window.status.eta.text() == f"ETA {UNKNOWN_ETA}"
    window.status.show_run(RunSnapshot(state=RunState.RUNNING, total=10, done=3, rate_per_min=2.0, eta_s=95))
    assert window.status.eta.text() == "ETA 1:35"
