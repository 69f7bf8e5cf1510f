"""The page shown once a PO list is loaded: the batch summary, the output folder, Start and Stop, and the
worker table, PO table and log pane in one splitter."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from popool_gui.batch.model import Batch
from popool_gui.gui.log_pane import LogPane
from popool_gui.gui.po_panel import PoPanel
from popool_gui.gui.stop_countdown import StopCountdown
from popool_gui.gui.worker_view import WorkerTableView

INVALID_LINK = "invalid"

# What the PO table and the log pane keep when the worker table grows to show every worker.
MIN_PO_PANE_PX = 170
MIN_LOG_PANE_PX = 90


WORKERS_TITLE = "<b>Workers</b>"
API_LANE_TITLE = "<b>API lane</b> (no browser: one token and one pace for every request)"


class LoadedPage(QWidget):
    invalid_rows_requested = Signal()

    def __init__(self, worker_view: WorkerTableView, po_panel: PoPanel, log_pane: LogPane) -> None:
        super().__init__()
        self.worker_view = worker_view
        self.summary_label = QLabel()
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setWordWrap(True)
        self.summary_label.linkActivated.connect(self._link)
        self.output_label = QLabel()
        self.output_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.output_label.setToolTip("Where the PO folders and the results file go")
        self.change_output = QPushButton("Change...")
        self.change_output.setToolTip("Another folder for this file's downloads (a folder used before resumes its run)")
        self.change_output.setAccessibleName("Change the output folder")
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("start")
        self.start_button.setToolTip("Start processing the POs (Ctrl+R)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop")
        self.stop_button.setToolTip(
            "Stop gracefully: workers finish their current PO (Ctrl+.). Click again to force the stop at once"
        )
        for button in (self.start_button, self.stop_button):
            button.setMinimumWidth(self.fontMetrics().horizontalAdvance("Stopping... 000 s · Force stop") + 24)

        header = QHBoxLayout()
        info = QVBoxLayout()
        info.addWidget(self.summary_label)
        where = QHBoxLayout()
        where.addWidget(QLabel("Output:"))
        where.addWidget(self.output_label, 1)
        where.addWidget(self.change_output)
        info.addLayout(where)
        header.addLayout(info, 1)
        header.addWidget(self.start_button)
        header.addWidget(self.stop_button)

        self.workers_box = QWidget()
        self.workers_layout = QVBoxLayout(self.workers_box)
        self.workers_layout.setContentsMargins(0, 0, 0, 0)
        self.workers_label = QLabel(WORKERS_TITLE)
        self.workers_layout.addWidget(self.workers_label)
        self.workers_layout.addWidget(worker_view)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.workers_box)
        self.splitter.addWidget(po_panel)
        self.splitter.addWidget(log_pane)
        self.splitter.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.splitter, 1)

    def show_batch(self, batch: Batch, output_dir: str) -> None:
        parts = [f"<b>{escape(Path(batch.source).name)}</b>", f"{len(batch.records):,} POs"]
        if batch.invalid:
            link = self.palette().color(QPalette.ColorRole.Link).name()
            parts.append(
                f'<a href="{INVALID_LINK}" style="color: {link}">{_plural(len(batch.invalid), "invalid row")}</a>'
            )
        if batch.duplicates:
            parts.append(f"{_plural(len(batch.duplicates), 'duplicate')} (processed once)")
        if batch.already_completed:
            parts.append(f"{len(batch.already_completed):,} already completed")
        self.summary_label.setText(" · ".join(parts))
        self.summary_label.setToolTip(batch.source)
        self.output_label.setText(output_dir)

    def fit_worker_pane(self) -> None:
        """Give the worker table the height of all its rows (8 fit at 1280x800), taken from the log pane before the
        PO table, which keeps a few rows; the log keeps the size the user gave it where there is room."""
        sizes = self.splitter.sizes()
        label = self.workers_label.sizeHint().height()
        wanted = self.worker_view.fitting_height() + label + self.workers_layout.spacing()
        total = sum(sizes)
        workers = max(0, min(wanted, total - MIN_PO_PANE_PX - MIN_LOG_PANE_PX))
        log = max(MIN_LOG_PANE_PX, min(sizes[2], total - workers - MIN_PO_PANE_PX))
        self.splitter.setSizes([workers, total - workers - log, log])

    def follow_run(
        self, *, can_start: bool, idle: bool, running: bool, finished_once: bool, countdown: StopCountdown | None
    ) -> None:
        self.start_button.setEnabled(can_start)
        self.start_button.setText("Start again" if finished_once else "Start")
        self.stop_button.setEnabled(running)
        self.change_output.setEnabled(idle)
        self.show_countdown(countdown)

    def show_countdown(self, countdown: StopCountdown | None) -> None:
        if countdown is None or not countdown.stopping:
            self.stop_button.setText("Stop")
        elif countdown.forcing:
            self.stop_button.setText("Forcing stop...")
            self.stop_button.setEnabled(False)
        else:
            self.stop_button.setText(f"Stopping... {countdown.seconds_left()} s · Force stop")
            self.stop_button.setToolTip("Workers are finishing their current PO. Click to stop them at once")

    def _link(self, link: str) -> None:
        if link == INVALID_LINK:
            self.invalid_rows_requested.emit()


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'s' if count != 1 else ''}"
