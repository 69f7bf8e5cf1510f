"""Fixtures for the window tests: an isolated config folder, no real dialogs or file managers, a fake pool."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from popool_gui.gui import desktop
from popool_gui.gui.main_window import MainWindow
from popool_gui.gui.window_state import WindowState
from popool_gui.settings import Settings
from tests.unit.fake_worker import fake_worker_main


class Desktop:
    """Records what the window asked the desktop to do, and answers questions with scripted choices."""

    def __init__(self) -> None:
        self.opened: list[Path] = []
        self.urls: list[str] = []
        self.questions: list[str] = []
        self.answers: list[int] = []
        self.texts: list[str] = []  # each question's text
        self.defaults: list[str] = []  # each question's default button
        self.folders: list[str] = []  # what the folder dialog answers, in turn ("" cancels)
        self.warnings: list[tuple[str, str]] = []

    def open_path(self, path: Path) -> bool:
        self.opened.append(path)
        return True

    def open_url(self, url: str) -> bool:
        self.urls.append(url)
        return True

    def ask(self, _parent: Any, title: str, text: str, buttons: tuple[str, ...], default: int = 0) -> int:
        self.questions.append(title)
        self.texts.append(text)
        self.defaults.append(buttons[default])
        return self.answers.pop(0) if self.answers else default

    def choose_folder(self, _parent: Any, _title: str, _start: str) -> str:
        return self.folders.pop(0) if self.folders else ""

    def warn(self, _parent: Any, title: str, text: str) -> None:
        self.warnings.append((title, text))


@pytest.fixture
def fake_desktop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Desktop:
    monkeypatch.setenv("POPOOL_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("POPOOL_LOG_DIR", str(tmp_path / "logs"))
    fake = Desktop()
    monkeypatch.setattr(desktop, "open_path", fake.open_path)
    monkeypatch.setattr(desktop, "open_url", fake.open_url)
    monkeypatch.setattr(desktop, "ask", fake.ask)
    monkeypatch.setattr(desktop, "warn", fake.warn)
    monkeypatch.setattr(desktop, "choose_folder", fake.choose_folder)
    return fake


@pytest.fixture
def fake_settings(tmp_path: Path) -> Settings:
    """Settings for the fake worker: no browser is started, the portal address only has to be well formed."""
    return Settings().replace(
        portal="demo",
        base_url="http://127.0.0.1:9",
        output_dir=str(tmp_path / "output"),
        workers=2,
        shutdown_timeout_s=10.0,
        heartbeat_timeout_s=5.0,
        results_format="csv",
    )


def make_window(qtbot: Any, settings: Settings, tmp_path: Path, **kwargs: Any) -> MainWindow:
    window = MainWindow(
        settings,
        persist_settings=False,
        window_state=WindowState(tmp_path / "config" / "window.ini"),
        **kwargs,
    )
    # Not qtbot.addWidget: its teardown closes the window before a run could be stopped (see shut_down).
    window.show()
    return window


@pytest.fixture
def window(qtbot: Any, fake_settings: Settings, fake_desktop: Desktop, tmp_path: Path) -> Iterator[MainWindow]:
    win = make_window(qtbot, fake_settings, tmp_path, worker_target=fake_worker_main)
    yield win
    shut_down(qtbot, win)


def shut_down(qtbot: Any, win: MainWindow) -> None:
    """End any run (forced) so no worker process outlives the test, then close and delete the window."""
    if win.bridge is not None:
        win.bridge.controller.stop()
        win.bridge.controller.stop()
        qtbot.waitUntil(lambda: win.bridge is None, timeout=30_000)
    if win.summary_dialog is not None:
        win.summary_dialog.close()
    win.close()
    win.deleteLater()
    qtbot.wait(10)
