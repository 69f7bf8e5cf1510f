"""API mode in the window: a setup problem is one line in the message bar and in the Settings dialog's "Test
connection", and a run goes through one API lane, shown as a lane, against the demo portal's API (secret from an
in-memory credential store)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtCore import Qt

from popool_gui.api.credentials import store_secret
from popool_gui.batch.model import PoStatus, RunState
from popool_gui.demo.api import Scope
from popool_gui.demo.server import DemoPortal, demo_portal
from popool_gui.gui.api_check import ConnectionResult
from popool_gui.gui.main_window import MainWindow
from popool_gui.gui.settings_dialog import SettingsDialog
from popool_gui.gui.worker_model import WorkerColumn
from popool_gui.settings import RunMode, Settings
from tests.gui.conftest import make_window, shut_down
from tests.gui.helpers import load, start, write_pos
from tests.memory_keyring import MemoryKeyring

TOOLTIP = Qt.ItemDataRole.ToolTipRole


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
        model, view = window.worker_model, window.worker_view
        assert window.page.workers_label.text().startswith("<b>API lane</b>")
        headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in (WorkerColumn.WORKER, WorkerColumn.TAB)]
        assert headers == ["Lane", "Requests"]
        assert "token's age" in model.headerData(WorkerColumn.TAB, Qt.Orientation.Horizontal, TOOLTIP)
        assert view.isColumnHidden(WorkerColumn.MEMORY)  # a lane's memory is not a browser's
    finally:
        shut_down(qtbot, window)


# (knobs on the demo portal, what the answer says); "unreachable" points at a port where nothing listens.
PROBLEMS = {
    "bad-secret": ({"secret": "wrong"}, "refused API client 'popool-demo' (HTTP 401"),
    "missing-scope": ({"api_scopes": (Scope.COMMON,)}, "lacks the scope"),
    "rate-limited": ({"saturated": True}, "keeps answering 429"),
    "unreachable": ({"unreachable": True}, "did not answer"),
}


def _problem_settings(fake_settings: Settings, portal: DemoPortal, knobs: dict[str, Any]) -> Settings:
    knobs = dict(knobs)
    url = "http://127.0.0.1:9" if knobs.pop("unreachable", False) else portal.url
    if knobs.pop("saturated", False):
        portal.api.saturate(3600)
    store_secret(url, "popool-demo", knobs.pop("secret", "demo-secret"))
    if knobs:
        portal.set_knobs(**knobs)
    return fake_settings.replace(base_url=url, mode=RunMode.API, api_client_id="popool-demo")


def _tested(qtbot: Any, settings: Settings) -> ConnectionResult:
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.connection_test.checked, timeout=30_000) as answer:
        dialog.connection_test.button.click()
    assert dialog.connection_test.button.isEnabled()
    shown = dialog.connection_test.result.text()
    result = answer.args[0]
    assert shown.endswith(result.message)
    return result


def test_test_connection_gets_a_token_and_lists_a_po(qtbot: Any, fake_settings: Settings, portal: DemoPortal) -> None:
    result = _tested(qtbot, _problem_settings(fake_settings, portal, {}))
    assert result.ok and result.message.startswith("Connected in") and "4 scopes" in result.message


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_each_api_problem_is_one_clear_line_in_test_connection_and_at_start(
    qtbot: Any, fake_settings: Settings, fake_desktop: Any, tmp_path: Path, portal: DemoPortal, problem: str
) -> None:
    knobs, says = PROBLEMS[problem]
    settings = _problem_settings(fake_settings, portal, knobs)
    started = time.monotonic()
    result = _tested(qtbot, settings)
    assert not result.ok and says in result.message and "demo-secret" not in result.message
    assert time.monotonic() - started < 20  # within seconds
    window = _window(qtbot, settings, tmp_path)
    try:
        load(qtbot, window, write_pos(tmp_path / "pos.csv", ["100007"]))
        assert not start(qtbot, window)
        assert says in window.messages.text() and "\n" not in window.messages.text()
        assert window.bridge is None, "no run was built"
    finally:
        shut_down(qtbot, window)
