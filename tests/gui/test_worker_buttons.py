"""A worker's Pause and Restart answer the moment they are pressed, say what is pending until it happens, and the
Restarts counter counts the user's restarts too (fake pool, no browser: each "...05" PO takes one second)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from popool_gui.batch.model import WorkerState
from popool_gui.gui.main_window import MainWindow
from popool_gui.gui.worker_model import WorkerColumn
from tests.gui.helpers import load, start, write_pos

pytestmark = pytest.mark.gui

# The fake worker takes 1 s a PO: a press shows at once, its effect follows that PO and (for a restart) a new
# worker process, which takes a few seconds more on a loaded machine.
EFFECT_S = 8.0


def state_cell(window: MainWindow, row: int) -> str:
    return str(window.worker_model.data(window.worker_model.index(row, WorkerColumn.STATE)))


def busy_run(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    load(qtbot, window, write_pos(tmp_path / "slow.csv", [f"15{i:04d}05" for i in range(40)]))
    start(qtbot, window)
    qtbot.waitUntil(
        lambda: all(window.worker_model.snapshot(r).state is WorkerState.BUSY for r in range(2)), timeout=20_000
    )


def test_pause_says_pausing_at_once_and_paused_after_the_current_po(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    busy_run(qtbot, window, tmp_path)
    actions = window.worker_view.actions_for(1)
    pressed = time.monotonic()
    qtbot.mouseClick(actions.pause, Qt.MouseButton.LeftButton)
    assert actions.pause.text() == "Pausing..." and not actions.pause.isEnabled(), "answered before any event"
    qtbot.waitUntil(lambda: state_cell(window, 0) in ("Pausing...", "Paused"), timeout=2_000)
    qtbot.waitUntil(lambda: window.worker_model.snapshot(0).state is WorkerState.PAUSED, timeout=10_000)
    assert time.monotonic() - pressed < EFFECT_S
    assert state_cell(window, 0) == "Paused" and actions.pause.text() == "Resume" and actions.pause.isEnabled()
    assert actions.pause.accessibleName() == "Resume worker 1"


def test_restart_says_restarting_at_once_counts_and_ends_within_seconds(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    busy_run(qtbot, window, tmp_path)
    actions = window.worker_view.actions_for(2)
    before = window.worker_model.snapshot(1)
    assert before.restarts == 0
    pressed = time.monotonic()
    qtbot.mouseClick(actions.restart, Qt.MouseButton.LeftButton)
    assert actions.restart.text() == "Restart now" and actions.restart.isEnabled(), "a second press forces it"
    qtbot.waitUntil(lambda: state_cell(window, 1) == "Restarting...", timeout=2_000)
    qtbot.waitUntil(lambda: window.worker_model.snapshot(1).restarts == 1, timeout=10_000)
    qtbot.waitUntil(lambda: window.worker_model.snapshot(1).state is WorkerState.BUSY, timeout=10_000)
    assert time.monotonic() - pressed < EFFECT_S
    assert window.worker_model.snapshot(1).pid != before.pid, "a new worker process"
    assert actions.restart.text() == "Restart"


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_the_workers_panel_shows_eight_workers_without_scrolling(
    window: MainWindow, qtbot: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    window.resize(*size)
    window._set_settings(window.settings.replace(workers=8))
    load(qtbot, window, write_pos(tmp_path / "slow.csv", [f"15{i:04d}05" for i in range(40)]))
    start(qtbot, window)
    view = window.worker_view
    qtbot.waitUntil(lambda: window.worker_model.rowCount() == 8, timeout=10_000)
    qtbot.wait(50)
    last = view.rowViewportPosition(7) + view.rowHeight(7)
    assert view.verticalScrollBar().maximum() == 0 and last <= view.viewport().height(), (last, view.height())
    assert window.po_panel.height() >= 150, "the PO table keeps room for a few rows"
