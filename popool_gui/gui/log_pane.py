"""The log pane: the most recent structured events (time, level, worker, PO, message)."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from popool_gui.batch.model import LogLine
from popool_gui.gui.column_widths import size_from_samples
from popool_gui.status_colours import LOG_LEVEL_COLOURS

_Index = QModelIndex | QPersistentModelIndex
# Enough to scroll back over a few minutes of a busy run; the log file keeps everything.
MAX_LINES = 1000


class LogColumn(IntEnum):
    TIME = 0
    LEVEL = 1
    WORKER = 2
    PO = 3
    MESSAGE = 4


HEADERS = ("Time", "Level", "Worker", "PO", "Message")


def message_of(line: LogLine) -> str:
    """`po_finished status=COMPLETED downloaded=2` -> `po finished: status=COMPLETED, downloaded=2`."""
    details = ", ".join(f"{k}={v}" for k, v in line.fields.items() if v not in (None, ""))
    text = line.event.replace("_", " ")
    return f"{text}: {details}" if details else text


class LogModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self._lines: list[LogLine] = []

    def append(self, lines: list[LogLine]) -> None:
        if not lines:
            return
        lines = lines[-MAX_LINES:]
        overflow = len(self._lines) + len(lines) - MAX_LINES
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            del self._lines[:overflow]
            self.endRemoveRows()
        first = len(self._lines)
        self.beginInsertRows(QModelIndex(), first, first + len(lines) - 1)
        self._lines.extend(lines)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._lines.clear()
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(LogColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        line = self._lines[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            match column:
                case LogColumn.TIME:
                    return time.strftime("%H:%M:%S", time.localtime(line.at))
                case LogColumn.LEVEL:
                    return line.level
                case LogColumn.WORKER:
                    return str(line.worker) if line.worker else ""
                case LogColumn.PO:
                    return line.po
                case LogColumn.MESSAGE:
                    return message_of(line)
        if role == Qt.ItemDataRole.ForegroundRole and column in (LogColumn.LEVEL, LogColumn.MESSAGE):
            colour = LOG_LEVEL_COLOURS.get(line.level)
            return QColor(colour) if colour else None
        return None


class LogPane(QWidget):
    HEADER_KEY = "log_table"  # WindowState.save_header/restore_header name

    def __init__(self, open_log_folder: Callable[[], None]) -> None:
        super().__init__()
        self.model = LogModel()
        self.view = QTableView()
        self.view.setModel(self.model)
        # Tab leaves the table for the next part of the window; the arrow keys move between its rows.
        self.view.setTabKeyNavigation(False)
        self.view.setAccessibleName("Log")
        self.view.setToolTip("Recent events of this run; the full log is in the log folder")
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        # Fixed widths from samples: measuring a thousand rows on every append would cost more than it shows.
        samples = {
            LogColumn.TIME: "00:00:00",
            LogColumn.LEVEL: "warning",
            LogColumn.WORKER: "Worker",
            LogColumn.PO: "PO15262984 (row 10)",
        }
        size_from_samples(header, self.fontMetrics(), samples, padding=16)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)

        title = QLabel("<b>Log</b>")
        clear = QPushButton("Clear")
        clear.setToolTip("Clear this pane (the log files are kept)")
        clear.clicked.connect(self.model.clear)
        folder = QPushButton("Open log folder")
        folder.setToolTip("Open the folder with the full JSON-lines log files")
        folder.clicked.connect(open_log_folder)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch()
        top.addWidget(clear)
        top.addWidget(folder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view)

    def header(self) -> QHeaderView:
        return self.view.horizontalHeader()

    def append(self, lines: list[LogLine]) -> None:
        bar = self.view.verticalScrollBar()
        # Follow new lines only when the user has not scrolled up to read older ones.
        at_bottom = bar.value() >= bar.maximum() - 2
        self.model.append(lines)
        if at_bottom:
            self.view.scrollToBottom()
