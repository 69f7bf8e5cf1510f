"""One real run from the window: two headless Chromium workers against the embedded demo portal."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from PySide6.QtCore import Qt

from popool_gui.batch.model import RunState, TabState, WorkerSnapshot, WorkerState
from popool_gui.demo.sample import write_sample_csv
from popool_gui.selftest import verify_run
from popool_gui.settings import Settings
from tests.gui.conftest import make_window, shut_down
from tests.gui.helpers import load

pytestmark = [pytest.mark.gui, pytest.mark.browser]
COUNT = 12


def test_two_workers_from_start_to_summary(
    qtbot: Any, tmp_path: Path, chromium_settings: Settings, demo: Any, fake_desktop: Any
) -> None:
    settings = chromium_settings.replace(portal="demo", base_url=demo.url, workers=2, shutdown_timeout_s=30.0)
    window = make_window(qtbot, settings, tmp_path)
    try:
        seen: list[WorkerSnapshot] = []
        model = window.worker_model

        def record(*_: object) -> None:
            seen.extend(model.snapshot(row) for row in range(model.rowCount()))

        model.dataChanged.connect(record)
        assert load(qtbot, window, write_sample_csv(tmp_path / "pos.csv", COUNT))
        with qtbot.waitSignal(window.start_finished):
            qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)

        # Restart worker 2 once it has a browser: it must come back with a new one.
        qtbot.waitUntil(lambda: model.rowCount() == 2 and model.snapshot(1).browser_pid is not None, timeout=60_000)
        first_pid = model.snapshot(1).browser_pid
        qtbot.mouseClick(window.worker_view.actions_for(2).restart, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda: model.snapshot(1).browser_pid not in (None, first_pid) or window.summary_dialog is not None,
            timeout=90_000,
        )
        assert any(s.worker == 2 and s.browser_pid not in (None, first_pid) for s in seen)

        qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=180_000)
        summary = window.last_summary
        assert summary is not None and summary.state is RunState.FINISHED
        assert sum(summary.counts.values()) == summary.total == COUNT
        assert verify_run(demo, window.output_dir) == []

        states = {s.state for s in seen}
        assert {WorkerState.STARTING, WorkerState.BUSY, WorkerState.STOPPED} <= states
        assert WorkerState.RESTARTING in states or any(s.worker == 2 and s.restarts for s in seen)
        assert max(s.memory_mb for s in seen) > 50  # a browser's process tree, measured
        assert {TabState.LOADING, TabState.DOWNLOADING} & {s.tab_state for s in seen}
        assert max(s.open_tabs for s in seen) >= 2  # the home tab plus the PO's tab
        assert window.status.progress.value() == COUNT
    finally:
        shut_down(qtbot, window)


def test_pause_resume_and_stop_with_real_browsers(
    qtbot: Any, tmp_path: Path, chromium_settings: Settings, demo: Any, fake_desktop: Any
) -> None:
    settings = chromium_settings.replace(portal="demo", base_url=demo.url, workers=2, shutdown_timeout_s=30.0)
    window = make_window(qtbot, settings, tmp_path)
    try:
        model = window.worker_model
        assert load(qtbot, window, write_sample_csv(tmp_path / "pos.csv", 60))
        with qtbot.waitSignal(window.start_finished):
            qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: model.rowCount() == 2 and model.snapshot(0).state is WorkerState.BUSY, timeout=60_000)

        qtbot.mouseClick(window.worker_view.actions_for(1).pause, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: model.snapshot(0).state is WorkerState.PAUSED, timeout=60_000)
        done_paused = model.snapshot(0).done
        other_done = model.snapshot(1).done
        # While the other worker finishes two more POs (others still waiting), the paused one takes none.
        qtbot.waitUntil(lambda: model.snapshot(1).done >= other_done + 2, timeout=60_000)
        assert model.snapshot(0).done == done_paused, "a paused worker takes no new PO"
        assert model.snapshot(0).state is WorkerState.PAUSED
        assert model.snapshot(0).browser_pid is not None, "and keeps its browser"
        qtbot.mouseClick(window.worker_view.actions_for(1).pause, Qt.MouseButton.LeftButton)  # now "Resume"
        qtbot.waitUntil(lambda: model.snapshot(0).done > done_paused, timeout=60_000)

        browsers = {model.snapshot(r).browser_pid for r in range(2)} - {None}
        stop_clicked = time.monotonic()
        qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
        assert "Stopping" in window.stop_button.text()
        qtbot.waitUntil(lambda: window.bridge is None, timeout=int(settings.shutdown_timeout_s * 1000) + 5_000)
        assert time.monotonic() - stop_clicked < settings.shutdown_timeout_s
        summary = window.last_summary
        assert summary is not None and summary.stopped_early
        assert summary.counts.get("PENDING", 0) > 0, "POs not reached stay pending for the next run"
        assert not any(_running(pid) for pid in browsers), "no browser outlives the stop"
    finally:
        shut_down(qtbot, window)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE  # a zombie is gone, only not yet reaped
    except psutil.Error:
        return False
