"""The window on a Selenium Grid: a Grid that cannot run the batch gets its fix in seconds, with Settings...;
the worker table shows each worker's node, and its memory column says that only local browsers are watched."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from popool_gui.batch.model import RunState, WorkerSnapshot, WorkerState
from popool_gui.gui.main_window import MainWindow
from popool_gui.gui.worker_model import REMOTE_MEMORY, WorkerColumn, WorkerTableModel
from popool_gui.gui.worker_view import WorkerTableView
from popool_gui.settings import Settings
from tests.gui.conftest import Desktop, make_window, shut_down
from tests.gui.helpers import load, start, write_pos
from tests.unit.fake_worker import fake_worker_main

pytestmark = pytest.mark.gui

MESSAGE_LIMIT_S = 10.0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_grid_is_an_error_with_settings_within_seconds(
    qtbot: Any, fake_settings: Settings, fake_desktop: Desktop, tmp_path: Path
) -> None:
    settings = fake_settings.replace(grid_url=f"http://ann:s3cret@127.0.0.1:{_closed_port()}")
    window: MainWindow = make_window(qtbot, settings, tmp_path, worker_target=fake_worker_main)
    try:
        assert load(qtbot, window, write_pos(tmp_path / "pos.csv", ["15262984", "15262985"]))
        started = time.monotonic()
        start(qtbot, window)
        qtbot.waitUntil(lambda: "cannot reach the Selenium Grid" in window.messages.text(), timeout=15_000)
        assert time.monotonic() - started < MESSAGE_LIMIT_S
        assert window.messages.action.isVisible() and window.messages.action.text() == "Settings..."
        assert "s3cret" not in window.messages.text()
        qtbot.waitUntil(lambda: window.session is None, timeout=10_000)
        assert window.status.state.text() == str(RunState.FAILED)
    finally:
        shut_down(qtbot, window)


def test_the_worker_table_shows_the_node_and_remote_memory_on_a_grid(qtbot: Any) -> None:
    model = WorkerTableModel()
    view = WorkerTableView(model)
    qtbot.addWidget(view)
    model.reset_workers(1, 75.0)
    assert view.isColumnHidden(WorkerColumn.NODE)
    model.apply([WorkerSnapshot(worker=1, state=WorkerState.IDLE, memory_mb=200.0)])
    assert model.index(0, WorkerColumn.MEMORY).data() == "200 MB"

    model.reset_workers(1, 75.0, on_grid=True)
    assert not view.isColumnHidden(WorkerColumn.NODE)
    model.apply([WorkerSnapshot(worker=1, state=WorkerState.BUSY, memory_mb=60.0, node="http://10.0.0.7:5555")])
    assert model.index(0, WorkerColumn.NODE).data() == "http://10.0.0.7:5555"
    assert model.index(0, WorkerColumn.MEMORY).data() == REMOTE_MEMORY
    assert "memory: local browsers only" in model.index(0, WorkerColumn.MEMORY).data(Qt.ItemDataRole.ToolTipRole)
    header = model.headerData(WorkerColumn.MEMORY, Qt.Orientation.Horizontal)
    assert "local only" in header
