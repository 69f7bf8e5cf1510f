"""API mode in the window: a setup problem is one line in the message bar, and a run goes through one API lane
against the demo portal's API (secret from an in-memory credential store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest

from popool_gui.api.credentials import store_secret
from popool_gui.batch.model import PoStatus, RunState
from popool_gui.demo.server import DemoPortal, demo_portal
from popool_gui.gui.main_window import MainWindow
from popool_gui.settings import RunMode, Settings
from tests.gui.conftest import make_window, shut_down
from tests.gui.helpers import load, start, write_pos
from tests.memory_keyring import MemoryKeyring


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(before)


@pytest.fixture
def portal() -> Iterator[DemoPortal]:
    with demo_portal(js_render_delay_ms=0) as running:
        yield running


def _window(qtbot: Any, settings: Settings, tmp_path: Path) -> MainWindow:
    return make_window(qtbot, settings, tmp_path)


def test_api_mode_without_a_client_is_refused_in_one_line(
    qtbot: Any, fake_settings: Settings, fake_desktop: Any, tmp_path: Path
) -> None:
    window = _window(qtbot, fake_settings.replace(mode=RunMode.API), tmp_path)
    try:
        load(qtbot, window, write_pos(tmp_path / "pos.csv", ["15000010"]))
        assert not start(qtbot, window)
        assert window.messages.text().startswith("API mode needs an API client id")
        assert window.bridge is None, "no run was built"
    finally:
        shut_down(qtbot, window)


def test_api_run_in_the_window(
    qtbot: Any, fake_settings: Settings, fake_desktop: Any, tmp_path: Path, portal: DemoPortal
) -> None:
    settings = fake_settings.replace(base_url=portal.url, mode=RunMode.API, api_client_id="popool-demo")
    store_secret(portal.url, "popool-demo", "demo-secret")
    window = _window(qtbot, settings, tmp_path)
    try:
        load(qtbot, window, write_pos(tmp_path / "pos.csv", ["100007", "100003", "100004", "100005", "100006"]))
        assert start(qtbot, window)
        qtbot.waitUntil(lambda: window.summary_dialog is not None, timeout=60_000)
        summary = window.last_summary
        assert summary is not None and summary.state is RunState.FINISHED, summary
        assert summary.counts[PoStatus.COMPLETED] == 2
        assert summary.counts[PoStatus.PO_NOT_FOUND] == 1
        assert summary.counts[PoStatus.ACCESS_DENIED] == 1
        assert summary.counts[PoStatus.NO_ATTACHMENTS] == 1
        assert window.worker_model.rowCount() == 1  # one API lane
    finally:
        shut_down(qtbot, window)
