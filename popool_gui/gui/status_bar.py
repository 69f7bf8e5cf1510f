"""The status bar: progress, rate, ETA, the machine's RAM against the threshold, and the run state."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

from popool_gui.batch.model import RunSnapshot, RunState, RunSummary
from popool_gui.gui.theme import chip_style, load_colour
from popool_gui.pool.rolling_rate import format_eta
from popool_gui.status_colours import AMBER, RUN_STATE_COLOURS


class RamGauge(QWidget):
    """System RAM use as a bar, with a tick where the memory threshold is."""

    def __init__(self) -> None:
        super().__init__()
        self.pct = 0.0
        self.threshold_pct = 75.0
        self.setToolTip("Machine RAM in use; the mark is the memory threshold where popool recycles browsers")

    def set_values(self, pct: float, threshold_pct: float) -> None:
        if (pct, threshold_pct) != (self.pct, self.threshold_pct):
            self.pct, self.threshold_pct = pct, threshold_pct
            self.setToolTip(
                f"Machine RAM in use: {pct:.0f} %. At {threshold_pct:.0f} % (the mark) popool recycles the "
                "heaviest browser and holds back new POs"
            )
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance("RAM 100 %") + 60, self.fontMetrics().height() + 4)

    def paintEvent(self, _event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QRectF(self.rect()).adjusted(1, 2, -1, -2)
        palette = self.palette()
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(frame, 3, 3)
        if self.pct > 0:
            colour = load_colour(self.pct / self.threshold_pct if self.threshold_pct else 0.0)
            colour.setAlpha(170)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(frame.x(), frame.y(), frame.width() * self.pct / 100, frame.height()), 3, 3)
        mark_x = frame.x() + frame.width() * self.threshold_pct / 100
        painter.setPen(QColor(palette.color(QPalette.ColorRole.Text)))
        painter.drawLine(int(mark_x), int(frame.top()) - 1, int(mark_x), int(frame.bottom()) + 1)
        painter.drawText(frame, Qt.AlignmentFlag.AlignCenter, f"RAM {self.pct:.0f} %")


class RunStatusBar(QStatusBar):
    def __init__(self) -> None:
        super().__init__()
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m POs")
        self.progress.setMinimumWidth(200)
        self.progress.setToolTip("POs with a final status out of all POs in the file")
        self.rate = QLabel()
        self.rate.setToolTip("POs finished per minute over the last 30 seconds")
        self.eta = QLabel()
        self.eta.setToolTip("Estimated time left at the rate of the last 30 seconds; ? while the run is stalled")
        self.ram = RamGauge()
        self.ram.setMinimumWidth(140)
        self.state = QLabel()
        self.state.setToolTip("State of the run")
        self.state.setMinimumWidth(self.fontMetrics().horizontalAdvance("Stopping") + 24)
        self.state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for widget in (self.progress, self.rate, self.eta, self.ram, self.state):
            self.addPermanentWidget(widget)
        self.set_state(RunState.IDLE)
        self.clear_run()

    def clear_run(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setVisible(False)
        self.rate.setText("")
        self.eta.setText("")

    def set_state(self, state: RunState, text: str = "") -> None:
        colour = RUN_STATE_COLOURS[state]
        self.state.setText(text or str(state))
        self.state.setStyleSheet(chip_style(colour))
        self.state.setToolTip("State of the run")

    def show_end(self, summary: RunSummary) -> None:
        """The run's last word: its one average rate (as in the summary and the report) and how it ended."""
        self.eta.setText("")
        self.rate.setText(f"{summary.rate_per_min:.1f} POs/min" if summary.processed_this_run else "")
        self.rate.setToolTip("POs finished per minute over the whole run")
        if summary.stopped_early:
            self.set_state(RunState.STOPPING, "Stopped")
        else:
            self.set_state(summary.state)

    def show_run(self, snap: RunSnapshot) -> None:
        self.progress.setVisible(True)
        self.progress.setRange(0, max(1, snap.total))
        self.progress.setValue(snap.done)
        self.rate.setText(f"{snap.rate_per_min:.1f} POs/min" if snap.rate_per_min else "")
        self.rate.setToolTip("POs finished per minute over the last 30 seconds")
        running = snap.state in (RunState.RUNNING, RunState.STOPPING)
        # An unknown ETA (stalled, or too early) shows as "?" rather than a number that is wrong.
        self.eta.setText(f"ETA {format_eta(snap.eta_s)}" if running else "")
        if snap.memory_threshold_pct:
            self.ram.set_values(snap.system_memory_pct, snap.memory_threshold_pct)
        self.set_state(snap.state)
        if snap.waiting_for and snap.state is RunState.RUNNING:
            self.state.setText(f"Waiting for {snap.waiting_for}")
            self.state.setStyleSheet(chip_style(AMBER))
            self.state.setToolTip(snap.waiting)
