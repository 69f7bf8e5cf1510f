"""The worker table's model: one row per worker, fed with `WorkerSnapshot`s from the controller."""

from __future__ import annotations

import time
from enum import IntEnum
from typing import Any

import psutil
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from popool_gui.batch.model import TabState, WorkerSnapshot, WorkerState
from popool_gui.duration import format_duration
from popool_gui.gui.roles import CHIP_COLOUR_ROLE, GAUGE_FRACTION_ROLE, GAUGE_LOAD_ROLE
from popool_gui.status_colours import WORKER_STATE_COLOURS

_Index = QModelIndex | QPersistentModelIndex


class WorkerColumn(IntEnum):
    WORKER = 0
    STATE = 1
    PO = 2
    TAB = 3
    MEMORY = 4
    DONE = 5
    FAILED = 6
    RESTARTS = 7
    UPTIME = 8
    NODE = 9
    ACTIONS = 10


HEADERS: dict[WorkerColumn, str] = {
    WorkerColumn.WORKER: "#",
    WorkerColumn.STATE: "State",
    WorkerColumn.PO: "Current PO",
    WorkerColumn.TAB: "Tab",
    WorkerColumn.MEMORY: "Memory",
    WorkerColumn.DONE: "Done",
    WorkerColumn.FAILED: "Failed",
    WorkerColumn.RESTARTS: "Restarts",
    WorkerColumn.UPTIME: "Uptime",
    WorkerColumn.NODE: "Node",
    WorkerColumn.ACTIONS: "",
}

HEADER_TIPS: dict[WorkerColumn, str] = {
    WorkerColumn.WORKER: "Worker number: one browser process each",
    WorkerColumn.STATE: "What the worker is doing; Paused workers take no new POs but keep their browser open",
    WorkerColumn.PO: "The purchase order the worker is processing now",
    WorkerColumn.TAB: "The worker's PO tabs and what each is doing (opening, loading, waiting for lists, downloading)",
    WorkerColumn.MEMORY: "Memory of the worker's browser and driver processes; the colour turns amber then red "
    "as the machine nears the memory threshold",
    WorkerColumn.DONE: "POs this worker finished",
    WorkerColumn.FAILED: "POs this worker finished as FAILED or PARTIAL",
    WorkerColumn.RESTARTS: "Browser restarts (crashes, memory recycling, or your Restart)",
    WorkerColumn.UPTIME: "Time since this worker's browser process started",
    WorkerColumn.NODE: "The Selenium Grid node this worker's browser runs on",
    WorkerColumn.ACTIONS: "Pause/Resume and Restart this worker",
}

# What the memory column says on a Grid: the browsers use their nodes' memory, which popool does not watch.
REMOTE_MEMORY = "remote"
REMOTE_MEMORY_HEADER = "Memory: local only"
REMOTE_MEMORY_TIP = (
    "memory: local browsers only. This worker's browser runs on a Selenium Grid node: its memory is the node's, "
    "and the memory policy leaves it be"
)

# An API run has one lane instead of browsers: what its columns mean then. Its memory is a few dozen MB of
# Python, not a browser's, and is not watched: that column is hidden (worker_view.py).
API_HEADERS: dict[WorkerColumn, str] = {
    WorkerColumn.WORKER: "Lane",
    WorkerColumn.PO: "Latest PO",
    WorkerColumn.TAB: "Requests",
}
API_HEADER_TIPS: dict[WorkerColumn, str] = {
    WorkerColumn.WORKER: "API lane: one process whose one token and one pace serve every request (no browser)",
    WorkerColumn.STATE: "What the lane is doing; a Paused lane takes no new POs and finishes those it holds",
    WorkerColumn.PO: "The PO the lane took last; it works on several at once",
    WorkerColumn.TAB: "Requests in flight now, the pace kept over the last second (requests/s) and the token's age",
    WorkerColumn.DONE: "POs this lane finished",
    WorkerColumn.FAILED: "POs this lane finished as FAILED or PARTIAL",
    WorkerColumn.RESTARTS: "Lane restarts (a crash, or your Restart)",
    WorkerColumn.UPTIME: "Time since the lane started",
    WorkerColumn.ACTIONS: "Pause/Resume and Restart the lane",
}

# Worker states in which Pause/Resume and Restart mean something.
COMMANDABLE = frozenset({WorkerState.STARTING, WorkerState.IDLE, WorkerState.BUSY, WorkerState.PAUSED})


def tab_text(snapshot: WorkerSnapshot) -> str:
    """What the worker's tabs are doing, as its worker says it: "3 tabs: 2 waiting for lists, 1 downloading"."""
    if snapshot.tab_state is TabState.NONE:
        return ""
    return snapshot.tab_detail or str(snapshot.tab_state)


class WorkerTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self._rows: list[WorkerSnapshot] = []
        self._system_pct = 0.0
        self._threshold_pct = 75.0
        self._full_bar_mb = 1024.0
        self._now = time.time
        self.on_grid = False  # the run's browsers are on a Selenium Grid
        self.api = False  # the run is an API run: its one row is a lane, not a browser

    # ------------------------------------------------------------------ feeding

    def reset_workers(self, count: int, threshold_pct: float, *, on_grid: bool = False, api: bool = False) -> None:
        """A new run: `count` workers, all starting. A full memory bar is a fair share of the machine's RAM."""
        self.beginResetModel()
        self.on_grid = on_grid
        self.api = api
        self._rows = [WorkerSnapshot(worker=i + 1, state=WorkerState.STARTING) for i in range(count)]
        self._threshold_pct = threshold_pct
        total_mb = psutil.virtual_memory().total / 2**20
        self._full_bar_mb = max(256.0, total_mb * threshold_pct / 100 / max(1, count))
        self.endResetModel()

    def apply(self, snapshots: list[WorkerSnapshot]) -> None:
        # One signal for all changed rows: each one costs the view a round of data() calls into Python.
        changed = [snap.worker - 1 for snap in snapshots if 0 < snap.worker <= len(self._rows)]
        for snap in snapshots:
            if 0 < snap.worker <= len(self._rows):
                self._rows[snap.worker - 1] = snap
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), WorkerColumn.NODE))

    def set_system_memory(self, pct: float, threshold_pct: float) -> None:
        """The gauge colour follows the machine's RAM use against the threshold."""
        if (pct, threshold_pct) == (self._system_pct, self._threshold_pct):
            return
        self._system_pct, self._threshold_pct = pct, threshold_pct
        self._column_changed(WorkerColumn.MEMORY)

    def tick(self) -> None:
        """Once a second: uptimes move on without a new snapshot."""
        self._column_changed(WorkerColumn.UPTIME)

    def _column_changed(self, column: WorkerColumn) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, column), self.index(len(self._rows) - 1, column))

    def snapshot(self, row: int) -> WorkerSnapshot:
        return self._rows[row]

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(WorkerColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        column = WorkerColumn(section)
        remote_memory = self.on_grid and column is WorkerColumn.MEMORY
        headers, tips = (
            ({**HEADERS, **API_HEADERS}, {**HEADER_TIPS, **API_HEADER_TIPS}) if self.api else (HEADERS, HEADER_TIPS)
        )
        if role == Qt.ItemDataRole.DisplayRole:
            return REMOTE_MEMORY_HEADER if remote_memory else headers[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return REMOTE_MEMORY_TIP if remote_memory else tips[column]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        snap = self._rows[index.row()]
        column = WorkerColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(snap, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            WorkerColumn.WORKER,
            WorkerColumn.DONE,
            WorkerColumn.FAILED,
            WorkerColumn.RESTARTS,
            WorkerColumn.UPTIME,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == CHIP_COLOUR_ROLE and column is WorkerColumn.STATE:
            return WORKER_STATE_COLOURS[snap.shown_state]
        if role == GAUGE_FRACTION_ROLE and column is WorkerColumn.MEMORY:
            return 0.0 if self.on_grid else min(1.0, snap.memory_mb / self._full_bar_mb)
        if role == GAUGE_LOAD_ROLE and column is WorkerColumn.MEMORY:
            return self._system_pct / self._threshold_pct if self._threshold_pct else 0.0
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(snap, column)
        return None

    def _display(self, snap: WorkerSnapshot, column: WorkerColumn) -> str:
        match column:
            case WorkerColumn.WORKER:
                return str(snap.worker)
            case WorkerColumn.STATE:
                return snap.state_text
            case WorkerColumn.PO:
                return snap.current_po
            case WorkerColumn.TAB:
                return tab_text(snap)
            case WorkerColumn.MEMORY:
                if self.on_grid:
                    return REMOTE_MEMORY
                return f"{snap.memory_mb:.0f} MB" if snap.memory_mb else ""
            case WorkerColumn.NODE:
                return snap.node if self.on_grid else "local"
            case WorkerColumn.DONE:
                return str(snap.done)
            case WorkerColumn.FAILED:
                return str(snap.failed)
            case WorkerColumn.RESTARTS:
                return str(snap.restarts)
            case WorkerColumn.UPTIME:
                live = snap.started_at is not None and snap.state.is_live
                return format_duration(self._now() - snap.started_at) if live and snap.started_at else ""
        return ""

    def _tooltip(self, snap: WorkerSnapshot, column: WorkerColumn) -> str:
        if column is WorkerColumn.STATE:
            parts = [snap.state_text]
            if snap.heading_to is not None:
                parts.append("once its current PO is done")
            if snap.message:
                parts.append(snap.message)
            if snap.browser_pid:
                parts.append(f"browser pid {snap.browser_pid}")
            return " — ".join(parts)
        if column is WorkerColumn.MEMORY and self.on_grid:
            return REMOTE_MEMORY_TIP
        if column is WorkerColumn.MEMORY:
            return (
                f"{snap.memory_mb:.0f} MB in this worker's process tree; machine RAM at "
                f"{self._system_pct:.0f} % (threshold {self._threshold_pct:.0f} %)"
            )
        return API_HEADER_TIPS.get(column, HEADER_TIPS[column]) if self.api else HEADER_TIPS[column]
