"""The purchase-order panel: status filter, search box and the PO table with its context menu."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from popool_gui.batch.model import RETRY_STATUSES, PoStatus
from popool_gui.gui.column_widths import size_from_samples
from popool_gui.gui.delegates import ChipDelegate
from popool_gui.gui.po_model import ATTENTION, PoColumn, PoFilterProxy, PoTableModel

# (label, statuses shown); None shows everything.
FILTERS: tuple[tuple[str, frozenset[PoStatus] | None], ...] = (
    ("All statuses", None),
    ("Needs attention", ATTENTION),
    ("In progress", frozenset({PoStatus.ASSIGNED})),
    *((str(s), frozenset({s})) for s in PoStatus if s is not PoStatus.ASSIGNED),
)
# Nothing to retry: an invalid row, or a PO still waiting or with a worker.
NOT_RETRYABLE = frozenset({PoStatus.INVALID_PO, PoStatus.ASSIGNED, PoStatus.PENDING})
# Typing in the search box re-filters after this pause, not on every key.
SEARCH_DELAY_MS = 150


class PoPanel(QWidget):
    HEADER_KEY = "po_table"  # WindowState.save_header/restore_header name
    open_folder = Signal(int)  # source row
    open_page = Signal(int)
    retry = Signal(list)  # source rows of the selection that can be retried
    retry_failed = Signal()

    def __init__(self, model: PoTableModel) -> None:
        super().__init__()
        self.model = model
        self.proxy = PoFilterProxy(model)

        self._build_filters()
        self._build_view()

        bar = QHBoxLayout()
        bar.addWidget(QLabel("<b>Purchase orders</b>"))
        bar.addStretch()
        bar.addWidget(self.shown)
        bar.addWidget(self.status_filter)
        bar.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view)
        self.proxy.rowsInserted.connect(self._count)
        self.proxy.rowsRemoved.connect(self._count)
        self.proxy.modelReset.connect(self._count)
        self.proxy.layoutChanged.connect(self._count)

    def _build_filters(self) -> None:
        """The status filter, the search box (re-filtering after a pause) and the count shown."""
        self.status_filter = QComboBox()
        self.status_filter.setAccessibleName("Show POs with status")
        self.status_filter.setToolTip("Show only POs with this status")
        for label, _ in FILTERS:
            self.status_filter.addItem(label)
        self.status_filter.currentIndexChanged.connect(self.apply_filter)
        self.search = QLineEdit()
        self.search.setAccessibleName("Search POs")
        self.search.setPlaceholderText("Search PO, supplier or error")
        self.search.setToolTip("Show only POs whose number, supplier, status or error contains this text (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._search_timer.start)
        self.shown = QLabel()
        self.shown.setToolTip("POs shown / POs in the file")

    def _build_view(self) -> None:
        """The table: sorted by the user, fixed column widths, context menu and double-click."""
        self.view = QTableView()
        # Tab leaves the table for the next part of the window; the arrow keys move between its rows.
        self.view.setTabKeyNavigation(False)
        self.view.setAccessibleName("Purchase orders")
        self.view.setModel(self.proxy)
        self.view.setItemDelegateForColumn(PoColumn.STATUS, ChipDelegate(self.view))
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # input order until the user sorts
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)
        self.view.setToolTip("Double-click a PO to open its folder; right-click for more")
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.doubleClicked.connect(lambda index: self.open_folder.emit(self.source_row(index)))
        header = self.view.horizontalHeader()
        # Fixed widths: ResizeToContents would measure all 10,000 rows on every change.
        widths = {
            PoColumn.PO: "PO15262984 (row 1000)",
            PoColumn.STATUS: "NO_ATTACHMENTS___",
            PoColumn.SUPPLIER: "A supplier name of some length",
            PoColumn.FILES: "Files__",
            PoColumn.WORKER: "Worker__",
            PoColumn.ATTEMPTS: "Attempts__",
            PoColumn.DURATION: "Duration__",
        }
        size_from_samples(header, self.fontMetrics(), widths, padding=16)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    def show_status(self, status: PoStatus | None) -> None:
        """Select the filter for one status (None: all)."""
        for i, (_, statuses) in enumerate(FILTERS):
            if statuses == (frozenset({status}) if status else None):
                self.status_filter.setCurrentIndex(i)
                return

    def show_all(self) -> None:
        """No status filter and no search: what a newly loaded file starts with."""
        self.search.clear()
        self.show_status(None)
        self.apply_filter()

    def apply_filter(self) -> None:
        self._search_timer.stop()
        statuses = FILTERS[self.status_filter.currentIndex()][1]
        self.proxy.set_filter(statuses, self.search.text())
        self._count()

    def header(self) -> QHeaderView:
        return self.view.horizontalHeader()

    def source_row(self, index: QModelIndex) -> int:
        return self.proxy.mapToSource(index).row()

    def _count(self) -> None:
        self.shown.setText(f"{self.proxy.rowCount():,} of {self.model.rowCount():,}")

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        row = self.source_row(index)
        po = self.model.row(row)
        menu = QMenu(self)
        folder = QAction("Open folder", menu)
        folder.setEnabled(bool(po.folder))
        folder.triggered.connect(lambda: self.open_folder.emit(row))
        page = QAction("Open PO page in browser", menu)
        page.setEnabled(bool(po.url or po.po_id))
        page.triggered.connect(lambda: self.open_page.emit(row))
        copy = QAction("Copy PO", menu)
        copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(po.key))
        retry, retry_failed = self._retry_actions(menu, row)
        for action in (folder, page, copy):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(retry)
        menu.addAction(retry_failed)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def selected_rows(self, clicked: int) -> list[int]:
        """Source rows of the selection; the clicked row alone when it is outside the selection."""
        rows = sorted({self.source_row(i) for i in self.view.selectionModel().selectedRows()})
        return rows if clicked in rows else [clicked]

    def _retry_actions(self, menu: QMenu, clicked: int) -> tuple[QAction, QAction]:
        rows = [r for r in self.selected_rows(clicked) if self.model.row(r).status not in NOT_RETRYABLE]
        retry = QAction(f"Retry {len(rows)} POs" if len(rows) > 1 else "Retry", menu)
        retry.setToolTip("Put the selected POs back in the queue, their attempts counted afresh")
        retry.setEnabled(bool(rows))
        retry.triggered.connect(lambda: self.retry.emit(rows))
        failed = sum(self.model.row(r).status in RETRY_STATUSES for r in range(self.model.rowCount()))
        retry_failed = QAction(f"Retry all failed ({failed})", menu)
        retry_failed.setToolTip("Put every FAILED, AUTH_REQUIRED and PARTIAL PO back in the queue")
        retry_failed.setEnabled(bool(failed))
        retry_failed.triggered.connect(self.retry_failed)
        return retry, retry_failed
