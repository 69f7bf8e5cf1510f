"""The purchase-order table: a flat model of up to ~10,000 rows and the proxy that filters and sorts it.

Updates arrive in batches (see `run_bridge`); one batch emits one `dataChanged` per run of adjacent rows,
so the view and the proxy re-read only what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from popool_gui.batch.journal import seed_rows
from popool_gui.batch.model import Batch, PoResult, PoStatus, merged_supplier
from popool_gui.duration import format_duration
from popool_gui.gui.roles import CHIP_COLOUR_ROLE, SORT_ROLE
from popool_gui.status_colours import PO_STATUS_COLOURS

_Index = QModelIndex | QPersistentModelIndex

# Statuses that need a person to look at them.
ATTENTION: frozenset[PoStatus] = frozenset(
    {
        PoStatus.PARTIAL,
        PoStatus.PO_NOT_FOUND,
        PoStatus.ACCESS_DENIED,
        PoStatus.AUTH_REQUIRED,
        PoStatus.INVALID_PO,
        PoStatus.FAILED,
    }
)


class PoColumn(IntEnum):
    PO = 0
    STATUS = 1
    SUPPLIER = 2
    FILES = 3
    WORKER = 4
    ATTEMPTS = 5
    DURATION = 6
    ERROR = 7


HEADERS: dict[PoColumn, str] = {
    PoColumn.PO: "PO",
    PoColumn.STATUS: "Status",
    PoColumn.SUPPLIER: "Supplier",
    PoColumn.FILES: "Files",
    PoColumn.WORKER: "Worker",
    PoColumn.ATTEMPTS: "Attempts",
    PoColumn.DURATION: "Duration",
    PoColumn.ERROR: "Error",
}

HEADER_TIPS: dict[PoColumn, str] = {
    PoColumn.PO: "The PO number as written in the input file",
    PoColumn.STATUS: "COMPLETED: every attachment is on disk; PARTIAL: some are missing; PENDING: not done yet",
    PoColumn.SUPPLIER: "Supplier shown on the PO page (or the input's SUPPLIER column)",
    PoColumn.FILES: "Attachments downloaded / found",
    PoColumn.WORKER: "The worker that processed the PO last",
    PoColumn.ATTEMPTS: "Attempts so far (transient errors are retried)",
    PoColumn.DURATION: "Time the last attempt took",
    PoColumn.ERROR: "Why the PO did not complete",
}


@dataclass(slots=True)
class PoRow:
    key: str
    po_id: str
    status: PoStatus
    supplier: str = ""
    found: int = 0
    downloaded: int = 0
    worker: int | None = None
    attempts: int = 0
    duration_s: float | None = None
    error: str = ""
    folder: str = ""
    url: str = ""
    # Lower-cased text the search box matches, rebuilt when the row changes.
    haystack: str = ""

    def refresh_haystack(self) -> None:
        self.haystack = f"{self.key}\n{self.supplier}\n{self.error}\n{self.status}".lower()


def rows_from_batch(batch: Batch) -> list[PoRow]:
    """The table before a run: every input row accounted for, as the journal will seed it."""
    return [
        PoRow(seed.key, seed.po_id, seed.fresh.status, supplier=seed.fresh.supplier, error=seed.fresh.error)
        for seed in seed_rows(batch)
    ]


class PoTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self._rows: list[PoRow] = []
        self._by_key: dict[str, int] = {}
        self._po_ids: dict[str, str] = {}

    # ------------------------------------------------------------------ feeding

    def set_rows(self, rows: list[PoRow]) -> None:
        self.beginResetModel()
        for row in rows:
            row.refresh_haystack()
        self._rows = rows
        self._by_key = {row.key: i for i, row in enumerate(rows)}
        self.endResetModel()

    def set_results(self, results: list[PoResult], po_ids: dict[str, str]) -> None:
        """The journal's view at the start of a run (resumed runs keep earlier results)."""
        self._po_ids = po_ids
        self.set_rows([self._row_from(r) for r in results])

    def _row_from(self, r: PoResult) -> PoRow:
        return PoRow(
            r.key,
            self._po_ids.get(r.key, ""),
            r.status,
            r.supplier,
            r.attachments_found,
            r.attachments_downloaded,
            r.worker,
            r.attempts,
            r.duration_s,
            r.error,
            r.folder,
            r.url,
        )

    def apply(self, results: list[PoResult]) -> None:
        """Merge a batch of results; one PO may appear several times (ASSIGNED, then final)."""
        changed: set[int] = set()
        for r in results:
            i = self._by_key.get(r.key)
            if i is None:
                continue
            row = self._rows[i]
            row.status = r.status
            row.attempts = r.attempts or row.attempts
            if r.status is PoStatus.ASSIGNED:
                row.worker, row.error, row.duration_s = r.worker, "", None
            elif r.status is PoStatus.PENDING:
                row.error = r.error  # why it went back to the queue
            else:
                # A final result carries everything.
                row.supplier = merged_supplier(r.supplier, row.supplier)
                row.found, row.downloaded = r.attachments_found, r.attachments_downloaded
                row.worker = r.worker or row.worker
                row.duration_s, row.error = r.duration_s, r.error
                row.folder, row.url = r.folder or row.folder, r.url or row.url
            row.refresh_haystack()
            changed.add(i)
        last_column = len(PoColumn) - 1
        for first, last in _runs(sorted(changed)):
            self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))

    def row(self, source_row: int) -> PoRow:
        return self._rows[source_row]

    def row_for_key(self, key: str) -> int | None:
        return self._by_key.get(key)

    def folder_of(self, source_row: int, output_dir: Path) -> Path | None:
        folder = self._rows[source_row].folder
        if not folder:
            return None
        path = Path(folder)
        return path if path.is_absolute() else output_dir / path

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(PoColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[PoColumn(section)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS[PoColumn(section)]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(row, column)
        if role == SORT_ROLE:
            return _sort_key(row, column)
        if role == CHIP_COLOUR_ROLE and column == PoColumn.STATUS:
            return PO_STATUS_COLOURS[row.status]
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == PoColumn.ERROR and row.error:
                return row.error
            if column == PoColumn.PO:
                return row.folder or "Double-click to open the PO's folder; right-click for more"
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            PoColumn.FILES,
            PoColumn.WORKER,
            PoColumn.ATTEMPTS,
            PoColumn.DURATION,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _display(row: PoRow, column: int) -> str:
    match column:
        case PoColumn.PO:
            return row.key
        case PoColumn.STATUS:
            return str(row.status)
        case PoColumn.SUPPLIER:
            return row.supplier
        case PoColumn.FILES:
            shown = row.found or row.status.is_filed
            return f"{row.downloaded} / {row.found}" if shown else ""
        case PoColumn.WORKER:
            return str(row.worker) if row.worker else ""
        case PoColumn.ATTEMPTS:
            return str(row.attempts) if row.attempts else ""
        case PoColumn.DURATION:
            return format_duration(row.duration_s) if row.duration_s is not None else ""
        case PoColumn.ERROR:
            return row.error.splitlines()[0] if row.error else ""
    return ""


def _sort_key(row: PoRow, column: int) -> Any:
    match column:
        case PoColumn.FILES:
            return row.downloaded
        case PoColumn.WORKER:
            return row.worker or 0
        case PoColumn.ATTEMPTS:
            return row.attempts
        case PoColumn.DURATION:
            return row.duration_s if row.duration_s is not None else -1.0
    return _display(row, column).lower()


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7, 8] -> [(1, 3), (7, 8)]."""
    runs: list[tuple[int, int]] = []
    for i in rows:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


class PoFilterProxy(QSortFilterProxyModel):
    """Filters by a set of statuses and a case-insensitive search over PO, supplier, error and status."""

    def __init__(self, source: PoTableModel) -> None:
        super().__init__()
        self._source = source
        self._statuses: frozenset[PoStatus] | None = None
        self._needle = ""
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_filter(self, statuses: frozenset[PoStatus] | None, search: str) -> None:
        needle = search.strip().lower()
        if (statuses, needle) == (self._statuses, self._needle):
            return
        self.beginFilterChange()
        self._statuses, self._needle = statuses, needle
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        # Reads the source's Python rows directly: going through data() would cost ~10x per row.
        row = self._source.row(source_row)
        if self._statuses is not None and row.status not in self._statuses:
            return False
        return not self._needle or self._needle in row.haystack
