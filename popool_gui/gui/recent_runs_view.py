"""The empty window's list of recent runs: input file, output folder, done of total and when, each with Resume and
Open folder. What it shows comes from the runs' journals (batch/recent_runs.py)."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QSizePolicy, QWidget

from popool_gui.batch.recent_runs import RecentRun
from popool_gui.gui.theme import secondary_label_style

FOLDER_CHARS = 48  # a longer output folder is shortened in the middle; the tooltip has all of it


def when_text(moment: datetime | None, now: datetime | None = None) -> str:
    """`today 14:02`, `yesterday 09:10`, `12 Mar 14:02`, or `12 Mar 2024` for an older year."""
    if moment is None:
        return ""
    now = now or datetime.now().astimezone()
    local = moment.astimezone(now.tzinfo)
    if local.date() == now.date():
        return f"today {local:%H:%M}"
    if local.date() == (now - timedelta(days=1)).date():
        return f"yesterday {local:%H:%M}"
    return f"{local:%d %b %H:%M}" if local.year == now.year else f"{local:%d %b %Y}"


def progress_text(run: RecentRun) -> str:
    return f"all {run.total} done" if run.finished else f"{run.done} of {run.total} done"


def shortened(text: str, most: int = FOLDER_CHARS) -> str:
    if len(text) <= most:
        return text
    keep = (most - 1) // 2
    return f"{text[:keep]}…{text[-keep:]}"


class RecentRunsView(QFrame):
    resume_requested = Signal(str, str)  # input file, output folder
    open_folder_requested = Signal(str)  # output folder

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recentRuns")
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(16)
        self._grid.setVerticalSpacing(4)
        self.runs: list[RecentRun] = []

    def set_runs(self, runs: list[RecentRun]) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item is not None and (widget := item.widget()):
                widget.deleteLater()
        self.runs = list(runs)
        self.setVisible(bool(runs))
        if not runs:
            return
        heading = QLabel("Recent runs:")
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._grid.addWidget(heading, 0, 0, 1, 6)
        for row, run in enumerate(runs, start=1):
            self._add_row(row, run)

    def _add_row(self, row: int, run: RecentRun) -> None:
        source = Path(run.input_file)
        name = QLabel(f"<b>{html.escape(source.name or '?')}</b>")
        name.setTextFormat(Qt.TextFormat.RichText)
        name.setToolTip(run.input_file)
        folder = QLabel(shortened(run.output_dir))
        folder.setToolTip(f"Output folder: {run.output_dir}")
        done = QLabel(progress_text(run))
        when = QLabel(when_text(run.updated_at))
        for label in (folder, when):
            label.setStyleSheet(secondary_label_style(self.palette()))  # quieter, still WCAG AA
        resume = QPushButton("Resume")
        resume.setObjectName("resumeRun")
        can_resume = source.is_file()
        resume.setEnabled(can_resume)
        resume.setToolTip(
            "Load this file with this output folder: the next Start takes the POs not finished yet"
            if can_resume
            else f"The input file is gone: {run.input_file}"
        )
        resume.clicked.connect(lambda: self.resume_requested.emit(run.input_file, run.output_dir))
        open_folder = QPushButton("Open folder")
        open_folder.setToolTip(run.output_dir)
        open_folder.clicked.connect(lambda: self.open_folder_requested.emit(run.output_dir))
        for column, widget in enumerate((name, folder, done, when, resume, open_folder)):
            self._grid.addWidget(widget, row, column)
