"""`Help > Try the demo` in one click: the demo portal in a process of its own, a sample, a real run to the summary."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import pytest
from PySide6.QtCore import Qt

from popool_gui.batch.model import RunState
from popool_gui.demo.server import DemoPortal
from popool_gui.selftest import verify_run
from popool_gui.settings import Settings
from tests.gui.conftest import make_window, shut_down

pytestmark = [pytest.mark.gui, pytest.mark.browser]
COUNT = 8


def _listener(port: int) -> psutil.Process | None:
    for child in psutil.Process().children(recursive=True):
        try:
            if any(c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in child.net_connections("tcp")):
                return child
        except psutil.Error:
            continue
    return None


def test_try_the_demo_serves_the_portal_from_its_own_process_and_runs_to_the_summary(
    qtbot: Any, tmp_path: Path, chromium_settings: Settings, fake_desktop: Any
) -> None:
    # The user's browser settings (here: headless Chromium) stay; the demo brings portal, sample and output folder.
    window = make_window(qtbot, chromium_settings.replace(workers=2, shutdown_timeout_s=30.0), tmp_path)
    portal_process: psutil.Process | None = None
    try:
        with qtbot.waitSignal(window.load_finished, timeout=30_000) as loaded:
            assert window.try_demo(COUNT)
        assert loaded.args == [True]
        url = window.settings.base_url
        assert urlsplit(url).hostname == "127.0.0.1" and window.settings.portal == "demo"
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.status == 200
        portal_process = _listener(urlsplit(url).port or 0)
        assert portal_process is not None and portal_process.pid != os.getpid(), "the portal has a process of its own"
        assert window.batch is not None and len(window.batch.records) == COUNT

        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=180_000)
        summary = window.last_summary
        assert summary is not None and summary.state is RunState.FINISHED and summary.total == COUNT
        assert verify_run(DemoPortal(), Path(window.settings.output_dir)) == []
    finally:
        shut_down(qtbot, window)
    assert portal_process is not None
    portal_process.wait(15)  # closing the window stops the portal; wait() raises TimeoutExpired if it does not
