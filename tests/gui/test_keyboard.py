"""The window from the keyboard: Tab moves between regions (not table cells), reaches Start, Stop and every
worker's Pause and Restart, and everything that can be focused has a name a screen reader can say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QApplication, QComboBox, QLineEdit, QWidget

from popool_gui.batch.model import WorkerState
from popool_gui.gui.main_window import MainWindow
from tests.gui.helpers import load, start, write_pos

pytestmark = pytest.mark.gui


def tab_chain(window: MainWindow) -> list[QWidget]:
    """The widgets Tab visits, in order, from the first one of the loaded page."""
    chain: list[QWidget] = []
    widget = window.page.change_output
    for _ in range(500):
        if widget.isVisible() and widget.isEnabled() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            chain.append(widget)
        widget = widget.nextInFocusChain()
        if widget is window.page.change_output:
            break
    return chain


def name_of(widget: QWidget) -> str:
    if widget.accessibleName():
        return widget.accessibleName()
    return widget.text() if isinstance(widget, QAbstractButton) else ""


@pytest.fixture
def running(window: MainWindow, qtbot: Any, tmp_path: Path) -> MainWindow:
    load(qtbot, window, write_pos(tmp_path / "slow.csv", [f"15{i:04d}05" for i in range(40)]))
    start(qtbot, window)
    qtbot.waitUntil(lambda: window.worker_model.snapshot(0).state is WorkerState.BUSY, timeout=20_000)
    return window


def test_tab_reaches_start_stop_and_every_workers_buttons_in_order(running: MainWindow) -> None:
    window = running
    chain = tab_chain(window)
    view = window.worker_view
    wanted = [
        window.stop_button,
        view,
        view.actions_for(1).pause,
        view.actions_for(1).restart,
        view.actions_for(2).pause,
        view.actions_for(2).restart,
        window.po_panel.status_filter,
        window.po_panel.search,
        window.po_panel.view,
        window.log_pane.view,
    ]
    positions = [chain.index(w) for w in wanted]
    assert positions == sorted(positions), [name_of(w) for w in chain]


def test_start_is_in_the_tab_chain_before_a_run(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    load(qtbot, window, write_pos(tmp_path / "pos.csv", ["15000010"]))
    chain = tab_chain(window)
    assert window.start_button in chain and chain.index(window.page.change_output) < chain.index(window.start_button)


def test_tab_leaves_a_table_instead_of_walking_its_cells(running: MainWindow, qtbot: Any) -> None:
    window = running
    window.activateWindow()
    for view in (window.worker_view, window.po_panel.view, window.log_pane.view):
        assert not view.tabKeyNavigation()
        view.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(lambda v=view: QApplication.focusWidget() is v, timeout=2_000)
        qtbot.keyClick(view, Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is not view


def test_everything_focusable_has_a_name(running: MainWindow) -> None:
    window = running
    unnamed = [
        f"{type(w).__name__} {w.objectName()}"
        for w in tab_chain(window)
        if isinstance(w, QAbstractButton | QAbstractItemView | QComboBox | QLineEdit) and not name_of(w)
    ]
    assert unnamed == []
    assert window.worker_view.actions_for(2).restart.accessibleName() == "Restart worker 2"
