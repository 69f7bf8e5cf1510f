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
        url = window.run_settings.base_url
        assert urlsplit(url).hostname == "127.0.0.1" and window.run_settings.portal == "demo"
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.status == 200
        portal_process = _listener(urlsplit(url).port or 0)
        assert portal_process is not None and portal_process.pid != os.getpid(), "the portal has a process of its own"
        assert window.batch is not None and len(window.batch.records) == COUNT

        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=180_000)
        summary = window.last_summary
        assert summary is not None and summary.state is RunState.FINISHED and summary.total == COUNT
        assert verify_run(DemoPortal(), window.output_dir) == []
    finally:
        shut_down(qtbot, window)
    assert portal_process is not None
    portal_process.wait(15)  # closing the window stops the portal; wait() raises TimeoutExpired if it does not


def test_the_demo_leaves_the_users_settings_and_folders_alone(
    qtbot: Any, tmp_path: Path, fake_settings: Settings, fake_desktop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Try the demo, then Settings > OK (saved to the file), then open a file of one's own: the file's run goes to
    the user's folder, and nothing of the demo reaches settings.toml, now or after a relaunch."""
    from popool_gui import settings as settings_mod
    from popool_gui.gui import main_window
    from popool_gui.gui.main_window import MainWindow
    from popool_gui.gui.window_state import WindowState
    from tests.gui.helpers import load, write_pos

    user = fake_settings.replace(
        portal="coupa", base_url="https://tenant.example.test", output_dir=str(tmp_path / "Documents")
    )
    settings_mod.save(user)
    # The Settings dialog answered with OK and no change: it returns the settings it was shown.
    monkeypatch.setattr(main_window, "edit_settings", lambda _parent, shown, _running: shown)
    window = MainWindow(user, persist_settings=True, window_state=WindowState(tmp_path / "config" / "window.ini"))
    window.show()
    try:
        with qtbot.waitSignal(window.load_finished, timeout=30_000):
            assert window.try_demo(COUNT)
        assert window.run_settings.portal == "demo" and "popool-demo-" in str(window.output_dir)
        assert window.settings == user, "the window's settings stay the user's while the demo is loaded"
        window.edit_settings()
        saved = settings_mod.settings_path().read_text(encoding="utf-8")
        assert "popool-demo" not in saved and "127.0.0.1" not in saved and 'portal = "coupa"' in saved
        assert settings_mod.load(None, {}, {}) == user

        assert load(qtbot, window, write_pos(tmp_path / "mine.csv", ["15000010", "15000011"]))
        assert window.output_dir == tmp_path / "Documents" / "mine"
        assert window.run_settings.base_url == "https://tenant.example.test"
        assert window.run_settings.portal == "coupa"
    finally:
        shut_down(qtbot, window)
