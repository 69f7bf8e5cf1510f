"""The window with a fake pool (no browser): loading files, a whole run, worker commands, Stop."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSystemTrayIcon

from popool_gui.batch import report
from popool_gui.batch.input import EXCEL_SUFFIXES, INPUT_SUFFIXES, read_batch
from popool_gui.batch.model import PoStatus, RunState, WorkerState
from popool_gui.gui.banners import Level
from popool_gui.gui.file_loading import FILE_FILTER
from popool_gui.gui.main_window import PAGE_EMPTY, PAGE_LOADED, MainWindow
from popool_gui.gui.run_start import CHOICES, QUESTION_TITLE
from popool_gui.gui.worker_model import WorkerColumn
from tests.gui.helpers import drop_file, load, start, write_pos
from tests.real_processes import LockHolder

pytestmark = pytest.mark.gui


def states_of(window: MainWindow) -> list[WorkerState]:
    model = window.worker_model
    return [model.snapshot(row).state for row in range(model.rowCount())]


def test_drop_csv_loads_it(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    assert window.stack.currentIndex() == PAGE_EMPTY
    assert not window.start_button.isEnabled()
    path = write_pos(tmp_path / "pos.csv", [str(15000010 + i) for i in range(5)])
    with qtbot.waitSignal(window.load_finished) as loaded:
        entered, dropped = drop_file(window, path)
    assert entered and dropped and loaded.args == [True]
    assert window.stack.currentIndex() == PAGE_LOADED
    assert window.batch is not None and len(window.batch.records) == 5
    assert window.po_model.rowCount() == 5
    assert "5 POs" in window.summary_label.text()
    assert window.start_button.isEnabled()
    assert str(path) in window._state.recent_files()


def test_dropped_png_is_refused_and_changes_nothing(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    good = write_pos(tmp_path / "pos.csv", ["15000010", "15000011"])
    with qtbot.waitSignal(window.load_finished):
        drop_file(window, good)
    picture = tmp_path / "photo.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    with qtbot.waitSignal(window.load_finished):
        drop_file(window, picture)
    assert window.messages.isVisible() and window.messages.level is Level.ERROR
    assert "photo.png" in window.messages.text() and "CSV" in window.messages.text()
    assert window.batch is not None and Path(window.batch.source) == good
    assert window.po_model.rowCount() == 2


def test_bad_csv_shows_the_reason(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    bad = tmp_path / "no-po-column.csv"
    bad.write_text("ORDER;SUPPLIER\n123456;ACME\n", encoding="utf-8")
    assert not load(qtbot, window, bad)
    assert window.messages.isVisible() and window.messages.level is Level.ERROR
    assert window.stack.currentIndex() == PAGE_EMPTY
    assert window.batch is None


def test_fake_run_fills_the_tables_and_ends_with_the_summary(
    window: MainWindow, qtbot: Any, tmp_path: Path, fake_desktop: Any
) -> None:
    ids = [str(15000010 + i) for i in range(30)] + ["15000101"]  # ...01: a transient failure every time
    path = write_pos(tmp_path / "pos.csv", [*ids, "PO12"])
    load(qtbot, window, path)
    assert "1 invalid row" in window.summary_label.text()
    seen: set[WorkerState] = set()
    window.worker_model.dataChanged.connect(lambda *_: seen.update(states_of(window)))
    with qtbot.waitSignal(window.start_finished):
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    assert window.running and not window.start_button.isEnabled() and window.stop_button.isEnabled()
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=60_000)

    summary = window.last_summary
    assert summary is not None and summary.state is RunState.FINISHED
    assert summary.counts[PoStatus.COMPLETED] == 30
    assert summary.counts[PoStatus.FAILED] == 1
    assert summary.counts[PoStatus.INVALID_PO] == 1
    assert window.worker_model.rowCount() == 2
    assert WorkerState.BUSY in seen or WorkerState.IDLE in seen
    assert sum(window.worker_model.snapshot(r).done for r in range(2)) == 31
    statuses = [window.po_model.row(r).status for r in range(window.po_model.rowCount())]
    assert statuses.count(PoStatus.COMPLETED) == 30
    assert window.log_pane.model.rowCount() > 0
    assert window.status.progress.value() == window.status.progress.maximum() == 32
    assert window.start_button.isEnabled() and not window.stop_button.isEnabled()

    dialog = window.summary_dialog
    assert dialog is not None
    qtbot.mouseClick(dialog.open_folder, Qt.MouseButton.LeftButton)
    assert fake_desktop.opened[-1] == Path(summary.output_dir)
    assert dialog.open_results.isEnabled()
    qtbot.mouseClick(dialog.open_results, Qt.MouseButton.LeftButton)
    assert fake_desktop.opened[-1].name.startswith("popool-results")

    # Double-click on a finished PO opens its folder.
    proxy_index = window.po_panel.proxy.index(0, 0)
    window.po_panel.view.doubleClicked.emit(proxy_index)
    assert fake_desktop.opened[-1].exists()


def test_pause_and_resume_buttons_command_the_worker(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    ids = [f"15{i:04d}05" for i in range(40)]  # ...05: each PO takes the fake worker one second
    load(qtbot, window, write_pos(tmp_path / "slow.csv", ids))
    start(qtbot, window)
    qtbot.waitUntil(lambda: states_of(window)[:1] == [WorkerState.BUSY], timeout=20_000)
    actions = window.worker_view.actions_for(1)
    assert actions.pause.text() == "Pause" and actions.pause.isEnabled()
    qtbot.mouseClick(actions.pause, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: states_of(window)[0] is WorkerState.PAUSED, timeout=10_000)
    assert actions.pause.text() == "Resume"
    done_when_paused = window.worker_model.snapshot(0).done
    other_done = window.worker_model.snapshot(1).done
    # The other worker goes on: two more POs done while worker 1, with POs waiting, takes none.
    qtbot.waitUntil(lambda: window.worker_model.snapshot(1).done >= other_done + 2, timeout=20_000)
    assert window.worker_model.snapshot(0).done == done_when_paused
    assert states_of(window)[0] is WorkerState.PAUSED
    qtbot.mouseClick(actions.pause, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.worker_model.snapshot(0).done > done_when_paused, timeout=10_000)
    assert actions.pause.text() == "Pause"


def test_stop_counts_down_then_forces(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    ids = [f"15{i:04d}05" for i in range(40)]
    load(qtbot, window, write_pos(tmp_path / "slow.csv", ids))
    start(qtbot, window)
    qtbot.waitUntil(lambda: WorkerState.BUSY in states_of(window), timeout=20_000)
    started = time.monotonic()
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    assert window.stop_button.text().startswith("Stopping...") and "Force stop" in window.stop_button.text()
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=20_000)
    assert time.monotonic() - started < window.settings.shutdown_timeout_s
    summary = window.last_summary
    assert summary is not None and summary.stopped_early
    assert summary.counts.get(PoStatus.PENDING, 0) > 0
    assert window.stop_button.text() == "Stop"
    assert window.start_button.text() == "Start again"


def test_closing_during_a_run_asks_then_stops(
    window: MainWindow, qtbot: Any, tmp_path: Path, fake_desktop: Any
) -> None:
    load(qtbot, window, write_pos(tmp_path / "slow.csv", [f"15{i:04d}05" for i in range(40)]))
    start(qtbot, window)
    qtbot.waitUntil(lambda: WorkerState.BUSY in states_of(window), timeout=20_000)
    fake_desktop.answers = [1]  # "Keep running"
    window.close()
    assert window.isVisible() and window.running
    fake_desktop.answers = [0]  # "Stop and quit"
    window.close()
    assert window.isVisible()  # still stopping gracefully
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)
    assert window.bridge is None
    assert fake_desktop.questions == ["A run is in progress", "A run is in progress"]


def test_memory_column_uses_the_gauge(window: MainWindow) -> None:
    from popool_gui.gui.delegates import MemoryGaugeDelegate

    assert isinstance(window.worker_view.itemDelegateForColumn(WorkerColumn.MEMORY), MemoryGaugeDelegate)


def test_retry_between_runs_and_a_changed_input(
    window: MainWindow, qtbot: Any, tmp_path: Path, fake_desktop: Any
) -> None:
    first = write_pos(tmp_path / "first.csv", [str(15000010 + i) for i in range(4)])
    load(qtbot, window, first)
    start(qtbot, window)
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=30_000)
    window.summary_dialog.close()

    # Retry from the context menu between runs: the PO goes back to PENDING and the next Start takes it.
    row = window.po_model.row_for_key("PO15000011")
    assert row is not None
    window.po_panel.retry.emit([row])
    qtbot.waitUntil(lambda: window.po_model.row(row).status is PoStatus.PENDING)
    window.summary_dialog = None
    start(qtbot, window)
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=30_000)
    assert window.last_summary is not None and window.last_summary.processed_this_run == 1
    window.summary_dialog.close()

    # Another input sent to the same folder on purpose: the window asks, "Keep finished POs and go on" goes on.
    folder = window.output_dir
    second = write_pos(tmp_path / "second.csv", [str(15000010 + i) for i in range(6)])
    load(qtbot, window, second)
    window._set_output(str(folder))
    fake_desktop.answers = [CHOICES.index("Keep finished POs and go on")]
    window.summary_dialog = None
    start(qtbot, window)
    assert fake_desktop.questions == [QUESTION_TITLE]
    assert window.output_dir == folder
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=30_000)
    assert window.last_summary is not None and window.last_summary.processed_this_run == 2


def test_sign_in_banner_names_the_worker_and_resume_clears_it(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    window.settings = window.settings.replace(headless=False)  # a person could sign in: the worker waits
    load(qtbot, window, write_pos(tmp_path / "auth.csv", ["15000104", *(f"15{i:04d}05" for i in range(10))]))
    start(qtbot, window)
    qtbot.waitUntil(window.sign_in.isVisible, timeout=20_000)
    text = window.sign_in.text()
    worker = window.sign_in.worker
    assert worker is not None and f"worker {worker}" in text and "PO15000104" in text and "Resume" in text
    assert window.sign_in.action.text() == f"Resume worker {worker}"
    qtbot.mouseClick(window.sign_in.action, Qt.MouseButton.LeftButton)
    assert not window.sign_in.isVisible()


@pytest.mark.parametrize("in_front", [False, True])
def test_finish_notifies_from_the_tray_only_when_the_window_is_not_in_front(
    window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_front: bool
) -> None:
    # Offscreen there is no system tray and no window manager to put the window behind another: both are scripted.
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(window.tray, "showMessage", lambda title, text, *_: shown.append((title, text)))
    monkeypatch.setattr(window, "isActiveWindow", lambda: in_front)
    load(qtbot, window, write_pos(tmp_path / "pos.csv", [str(15000010 + i) for i in range(4)]))
    with qtbot.waitSignal(window.start_finished):
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=30_000)
    if in_front:
        assert shown == [] and not window.tray.isVisible()
    else:
        assert shown == [("popool", "Run finished: 4 of 4 POs completed")] and window.tray.isVisible()


def test_the_window_reads_a_file_as_the_cli_does_with_the_profiles_po_pattern(
    qtbot: Any, fake_settings: Any, fake_desktop: Any, tmp_path: Path
) -> None:
    from popool_gui.run_setup import plan_run
    from tests.gui.conftest import make_window
    from tests.unit.test_run_setup import pr_input, pr_profile

    settings = fake_settings.replace(portal=str(pr_profile(tmp_path)))
    window = make_window(qtbot, settings, tmp_path)
    try:
        path = pr_input(tmp_path)
        assert load(qtbot, window, path)
        cli = plan_run(settings, path).batch
        assert window.batch is not None
        assert window.batch.records == cli.records and window.batch.invalid == cli.invalid
        assert [r.po_id for r in window.batch.records] == ["0012345", "0012346"]
    finally:
        window.close()


def test_a_profile_changed_after_loading_rereads_the_file_at_start(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    from tests.unit.test_run_setup import pr_input, pr_profile

    assert load(qtbot, window, pr_input(tmp_path))
    assert window.batch is not None and len(window.batch.records) == 1  # the demo profile knows only PO15262984
    window._set_settings(window.settings.replace(portal=str(pr_profile(tmp_path))))
    assert start(qtbot, window)
    assert window.session is not None
    assert [r.po_id for r in window.batch.records] == ["0012345", "0012346"]
    assert [r.po_id for r in window.session.controller.batch.records] == ["0012345", "0012346"]
    assert window.po_model.rowCount() == 3


def test_start_on_an_output_folder_another_run_holds_shows_a_dialog_naming_it(
    window: MainWindow, qtbot: Any, fake_desktop: Any, tmp_path: Path
) -> None:
    load(qtbot, window, write_pos(tmp_path / "pos.csv", [str(15000010 + i) for i in range(3)]))
    holder = LockHolder(window.output_dir)
    try:
        assert not start(qtbot, window)
        assert window.bridge is None, "no run started"
        [(title, text)] = fake_desktop.warnings
        assert title == "Output folder in use"
        assert f"pid {holder.process.pid}" in text and holder.owner().describe() in text
    finally:
        holder.end()
    assert start(qtbot, window)  # the folder is free again
    assert window.bridge is not None


def run_first_list(qtbot: Any, window: MainWindow, tmp_path: Path) -> Path:
    """A 4-PO list run to its end in its own folder; returns that folder."""
    load(qtbot, window, write_pos(tmp_path / "first.csv", [str(15000010 + i) for i in range(4)]))
    start(qtbot, window)
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=30_000)
    window.summary_dialog.close()
    window.summary_dialog = None
    return window.output_dir


def folder_state(folder: Path) -> tuple[bytes, bytes]:
    return (folder / ".popool" / "journal.sqlite3").read_bytes(), (folder / "popool-results.csv").read_bytes()


def second_list_on_first_folder(qtbot: Any, window: MainWindow, tmp_path: Path) -> tuple[Path, tuple[bytes, bytes]]:
    """A first list run to its end, then a second list loaded and sent to the first one's folder; returns that
    folder and what it held before."""
    first = run_first_list(qtbot, window, tmp_path)
    before = folder_state(first)
    load(qtbot, window, write_pos(tmp_path / "second.csv", [str(15000010 + i) for i in range(6)]))
    window._set_output(str(first))
    return first, before


def test_each_file_gets_its_own_folder_and_a_chosen_one_does_not_follow_the_next(
    window: MainWindow, qtbot: Any, tmp_path: Path, fake_settings: Any
) -> None:
    base = Path(fake_settings.output_dir)
    load(qtbot, window, write_pos(tmp_path / "march orders.csv", ["15000010"]))
    assert window.output_dir == base / "march orders"
    assert str(base / "march orders") in window.page.output_label.text(), "shown before Start"
    window._set_output(str(tmp_path / "chosen"))
    assert window.output_dir == tmp_path / "chosen"
    load(qtbot, window, write_pos(tmp_path / "april.csv", ["15000011"]))
    assert window.output_dir == base / "april", "the folder chosen for one file is that file's alone"
    assert window.settings.output_dir == fake_settings.output_dir


def test_another_lists_folder_offers_a_new_folder_by_default_and_overwrites_nothing(
    window: MainWindow, qtbot: Any, tmp_path: Path, fake_desktop: Any
) -> None:
    first, before = second_list_on_first_folder(qtbot, window, tmp_path)
    assert start(qtbot, window)  # no scripted answer: the dialog's default button
    assert fake_desktop.questions == [QUESTION_TITLE]
    assert fake_desktop.defaults == ["Use a new folder"]
    text = fake_desktop.texts[0]
    assert "first.csv" in text and "4 of 4 POs done" in text and "second.csv" in text, text
    assert "CLI" not in text and "--" not in text and text[0].isupper()
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=30_000)
    assert window.output_dir == first.with_name(f"{first.name} (2)")
    assert window.last_summary is not None and window.last_summary.processed_this_run == 6
    assert folder_state(first) == before, "the first list's journal and results file are untouched"


def test_another_lists_folder_lets_the_user_choose_a_folder_or_cancel(
    window: MainWindow, qtbot: Any, tmp_path: Path, fake_desktop: Any
) -> None:
    first, before = second_list_on_first_folder(qtbot, window, tmp_path)
    choose = CHOICES.index("Choose another folder...")
    fake_desktop.answers = [choose, CHOICES.index("Cancel")]
    fake_desktop.folders = [""]  # the folder dialog cancelled: nothing starts
    assert not start(qtbot, window)
    fake_desktop.answers = [choose]
    fake_desktop.folders = [str(tmp_path / "chosen")]
    assert start(qtbot, window)
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=30_000)
    assert window.output_dir == tmp_path / "chosen"
    assert (tmp_path / "chosen" / "popool-results.csv").is_file()
    assert folder_state(first) == before


def test_the_stop_countdown_follows_the_runs_own_timeout(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    load(qtbot, window, write_pos(tmp_path / "slow.csv", [f"15{i:04d}05" for i in range(40)]))
    start(qtbot, window)
    qtbot.waitUntil(lambda: WorkerState.BUSY in states_of(window), timeout=20_000)
    window._set_settings(window.settings.replace(shutdown_timeout_s=900.0))  # edited during the run
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    seconds = int(window.stop_button.text().split()[1])
    assert seconds <= 10  # the run's 10 s, not the 900 s set since


def test_the_window_accepts_every_type_the_cli_reads(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    for suffix in INPUT_SUFFIXES:
        path = tmp_path / f"pos{suffix}"
        if suffix in EXCEL_SUFFIXES:
            book = openpyxl.Workbook()
            for value in ("PO_NUMBER", "15000010", "15000011"):
                book.active.append([value])
            book.save(path)
        else:
            write_pos(path, ["15000010", "15000011"])
        assert len(read_batch(path).records) == 2, f"the CLI reads {suffix}"
        assert load(qtbot, window, path), f"the window refused {suffix}: {window.messages.text()}"
        assert window.po_model.rowCount() == 2
        assert f"*{suffix}" in FILE_FILTER


def test_a_run_whose_results_cannot_be_written_ends_failed_with_the_reason(
    window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*_args: object, **_kwargs: object) -> list[Path]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "write_results", disk_full)
    load(qtbot, window, write_pos(tmp_path / "pos.csv", ["15000010", "15000011"]))
    with qtbot.waitSignal(window.start_finished):
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=60_000)
    summary = window.last_summary
    assert summary is not None and summary.state is RunState.FAILED
    assert summary.counts[PoStatus.COMPLETED] == 2, "the journal kept every result"
    shown = " ".join(label.text() for label in window.summary_dialog.findChildren(QLabel))
    assert "The run failed" in shown
    assert "the results file could not be written ([Errno 28] No space left on device)" in shown


def test_a_damaged_journal_is_named_and_start_over_replaces_it(
    window: MainWindow, qtbot: Any, tmp_path: Path, fake_desktop: Any
) -> None:
    journal = tmp_path / "output" / "pos" / ".popool" / "journal.sqlite3"  # the folder of pos.csv
    journal.parent.mkdir(parents=True)
    journal.write_bytes(b"garbage" * 100)
    load(qtbot, window, write_pos(tmp_path / "pos.csv", ["15000010", "15000011"]))
    fake_desktop.answers = [1]  # "Cancel"
    assert not start(qtbot, window)
    assert fake_desktop.questions == ["This output folder's journal is damaged"]
    assert journal.read_bytes() == b"garbage" * 100, "Cancel leaves it for the user to move aside"
    fake_desktop.answers = [0]  # "Start over"
    assert start(qtbot, window)
    qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=30_000)
    assert window.last_summary is not None and window.last_summary.counts[PoStatus.COMPLETED] == 2


def test_an_output_folder_that_is_a_file_is_refused_at_start_with_the_settings_offered(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "output" / "pos"  # the folder pos.csv gets inside the fake settings' output folder
    blocker.parent.mkdir()
    blocker.write_text("x", encoding="utf-8")
    load(qtbot, window, write_pos(tmp_path / "pos.csv", ["15000010"]))
    assert not start(qtbot, window)
    assert window.messages.isVisible() and window.messages.level is Level.ERROR
    assert window.messages.text() == (
        f"the output folder {blocker} is a file, not a folder. "
        "Choose another output folder (Change... beside it in the window, or --output)."
    )
    assert window.bridge is None, "no run was built"
