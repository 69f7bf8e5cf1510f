"""Each table's header (widths, order, sort) is remembered under its own name and put back on the next launch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from popool_gui.batch.model import PoStatus
from popool_gui.gui.log_pane import LogColumn, LogPane
from popool_gui.gui.po_model import PoColumn, PoRow, PoTableModel
from popool_gui.gui.po_panel import PoPanel
from popool_gui.gui.window_state import WindowState
from popool_gui.gui.worker_model import WorkerColumn, WorkerTableModel
from popool_gui.gui.worker_view import WorkerTableView

pytestmark = pytest.mark.gui


def po_panel(qtbot: Any) -> PoPanel:
    model = PoTableModel()
    model.set_rows([PoRow(f"PO{100 + i}", str(100 + i), PoStatus.PENDING) for i in range(5)])
    panel = PoPanel(model)
    qtbot.addWidget(panel)
    return panel


def test_po_table_widths_order_and_sort_come_back(qtbot: Any, tmp_path: Path) -> None:
    state = WindowState(tmp_path / "window.ini")
    first = po_panel(qtbot)
    header = first.header()
    header.resizeSection(PoColumn.SUPPLIER, 333)
    header.moveSection(header.visualIndex(PoColumn.STATUS), 0)
    first.view.sortByColumn(PoColumn.SUPPLIER, Qt.SortOrder.DescendingOrder)
    state.save_header(PoPanel.HEADER_KEY, header)

    second = po_panel(qtbot)
    assert WindowState(tmp_path / "window.ini").restore_header(PoPanel.HEADER_KEY, second.header())
    again = second.header()
    assert again.sectionSize(PoColumn.SUPPLIER) == 333
    assert again.visualIndex(PoColumn.STATUS) == 0
    assert (again.sortIndicatorSection(), again.sortIndicatorOrder()) == (
        PoColumn.SUPPLIER,
        Qt.SortOrder.DescendingOrder,
    )
    assert second.proxy.sortColumn() == PoColumn.SUPPLIER, "the rows are sorted, not just the arrow shown"


def test_each_table_has_its_own_state(qtbot: Any, tmp_path: Path) -> None:
    state = WindowState(tmp_path / "window.ini")
    workers = WorkerTableView(WorkerTableModel())
    logs = LogPane(lambda: None)
    qtbot.addWidget(workers)
    qtbot.addWidget(logs)
    assert len({PoPanel.HEADER_KEY, WorkerTableView.HEADER_KEY, LogPane.HEADER_KEY}) == 3
    workers.header().resizeSection(WorkerColumn.PO, 222)
    logs.header().resizeSection(LogColumn.PO, 111)
    state.save_header(WorkerTableView.HEADER_KEY, workers.header())
    state.save_header(LogPane.HEADER_KEY, logs.header())

    workers2, logs2 = WorkerTableView(WorkerTableModel()), LogPane(lambda: None)
    qtbot.addWidget(workers2)
    qtbot.addWidget(logs2)
    assert state.restore_header(WorkerTableView.HEADER_KEY, workers2.header())
    assert state.restore_header(LogPane.HEADER_KEY, logs2.header())
    assert workers2.header().sectionSize(WorkerColumn.PO) == 222
    assert logs2.header().sectionSize(LogColumn.PO) == 111


def test_nothing_stored_keeps_the_defaults(qtbot: Any, tmp_path: Path) -> None:
    panel = po_panel(qtbot)
    width = panel.header().sectionSize(PoColumn.SUPPLIER)
    assert not WindowState(tmp_path / "window.ini").restore_header(PoPanel.HEADER_KEY, panel.header())
    assert panel.header().sectionSize(PoColumn.SUPPLIER) == width


def test_recent_runs_are_remembered_newest_first(tmp_path: Path) -> None:
    state = WindowState(tmp_path / "window.ini")
    state.add_recent_run(tmp_path / "a")
    state.add_recent_run(tmp_path / "b")
    state.add_recent_run(tmp_path / "a")
    assert WindowState(tmp_path / "window.ini").recent_runs() == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert state.forget_run(tmp_path / "a") == [str(tmp_path / "b")]
