"""The worker table view: chips, memory gauges and per-row Pause/Resume and Restart buttons."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QPushButton, QTableView, QWidget

from popool_gui.batch.model import WorkerState
from popool_gui.gui.column_widths import size_from_samples
from popool_gui.gui.delegates import ChipDelegate, MemoryGaugeDelegate
from popool_gui.gui.worker_model import COMMANDABLE, WorkerColumn, WorkerTableModel


class RowActions(QWidget):
    """Pause/Resume and Restart for one worker; at most 8 rows, so real widgets are affordable."""

    def __init__(self, worker: int) -> None:
        super().__init__()
        self.worker = worker
        self.pause = QPushButton("Pause")
        self.pause.setObjectName(f"pause-{worker}")
        self.restart = QPushButton("Restart")
        self.restart.setObjectName(f"restart-{worker}")
        self.restart.setToolTip(
            f"Give worker {worker} a new browser after its current PO (click again to restart it at once)"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        layout.setSpacing(4)
        layout.addWidget(self.pause)
        layout.addWidget(self.restart)
        self.pause.setAccessibleName(f"Pause worker {worker}")
        self.restart.setAccessibleName(f"Restart worker {worker}")
        self._shown: tuple[WorkerState, WorkerState | None] | None = None

    def show_state(self, state: WorkerState, heading_to: WorkerState | None = None) -> None:
        if (state, heading_to) == self._shown:
            return  # setText/setToolTip re-lay out the row: only touch the buttons when the state changed
        self._shown = (state, heading_to)
        paused = state is WorkerState.PAUSED
        pausing = heading_to is WorkerState.PAUSED
        self.pause.setText("Resume" if paused else "Pausing..." if pausing else "Pause")
        self.pause.setAccessibleName(f"{'Resume' if paused else 'Pause'} worker {self.worker}")
        self.pause.setToolTip(
            f"Let worker {self.worker} take POs again"
            if paused
            else f"Worker {self.worker} is finishing its current PO, then pauses"
            if pausing
            else f"Worker {self.worker} finishes its current PO and takes no new one; its browser stays open"
        )
        usable = state in COMMANDABLE
        self.pause.setEnabled(usable and not pausing)
        self._show_restart(restarting=heading_to is WorkerState.RESTARTING or state is WorkerState.RESTARTING)
        self.restart.setEnabled(usable or state is WorkerState.RESTARTING)

    def _show_restart(self, *, restarting: bool) -> None:
        self.restart.setText("Restart now" if restarting else "Restart")
        self.restart.setToolTip(
            f"Worker {self.worker} gets a new browser after its current PO: click to restart it at once"
            if restarting
            else f"Give worker {self.worker} a new browser after its current PO (click again to restart it at once)"
        )

    def acknowledge_pause(self) -> None:
        """At once, before the run answers: the press was heard. The next state the run reports redraws the
        buttons, whatever it is (a command the run ignored must not leave them saying it is under way)."""
        self.pause.setText("Pausing...")
        self.pause.setEnabled(False)
        self._shown = None

    def acknowledge_restart(self) -> None:
        self._show_restart(restarting=True)
        self._shown = None


class WorkerTableView(QTableView):
    HEADER_KEY = "worker_table"  # WindowState.save_header/restore_header name
    pause_requested = Signal(int)
    resume_requested = Signal(int)
    restart_requested = Signal(int)

    def __init__(self, model: WorkerTableModel) -> None:
        super().__init__()
        self.setModel(model)
        self._model = model
        # Tab goes from the table to each worker's Pause and Restart, then on to the next part of the window.
        self.setTabKeyNavigation(False)
        self.setAccessibleName("Workers")
        self._actions: dict[int, RowActions] = {}
        self.setItemDelegateForColumn(WorkerColumn.STATE, ChipDelegate(self))
        self.setItemDelegateForColumn(WorkerColumn.MEMORY, MemoryGaugeDelegate(self))
        self.verticalHeader().hide()
        self.setSelectionMode(QTableView.SelectionMode.NoSelection)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setToolTip("One row per browser worker, updated live")
        header = self.horizontalHeader()
        # Widths from sample texts, not ResizeToContents: that re-measures every cell (each a call into Python)
        # on every update, which is what made the window stutter during busy runs.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(WorkerColumn.TAB, QHeaderView.ResizeMode.Stretch)
        samples = {
            WorkerColumn.WORKER: "00",
            WorkerColumn.STATE: "Restarting____",
            WorkerColumn.PO: "PO15262984____",
            WorkerColumn.MEMORY: "00000 MB00000 MB",
            WorkerColumn.DONE: "Done__",
            WorkerColumn.FAILED: "Failed__",
            WorkerColumn.RESTARTS: "Restarts__",
            WorkerColumn.UPTIME: "Uptime__",
            WorkerColumn.NODE: "http://127.0.0.1:44444__",
            WorkerColumn.ACTIONS: "Resume__Restart______",
        }
        size_from_samples(header, self.fontMetrics(), samples, padding=12)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 16)
        model.modelReset.connect(self._rebuild_actions)
        model.dataChanged.connect(self._refresh_actions)

    def header(self) -> QHeaderView:
        return self.horizontalHeader()

    def actions_for(self, worker: int) -> RowActions:
        return self._actions[worker]

    def _rebuild_actions(self) -> None:
        # The node means something only when the browsers run on a Selenium Grid.
        self.setColumnHidden(WorkerColumn.NODE, not self._model.on_grid)
        # A lane's memory is not a browser's and is not watched (worker_model.API_HEADERS).
        self.setColumnHidden(WorkerColumn.MEMORY, self._model.api)
        self._actions.clear()
        for row in range(self._model.rowCount()):
            snap = self._model.snapshot(row)
            actions = RowActions(snap.worker)
            actions.pause.clicked.connect(lambda _=False, a=actions: self._pause_or_resume(a))
            actions.restart.clicked.connect(lambda _=False, a=actions: self._restart(a))
            actions.show_state(snap.state, snap.heading_to)
            self._actions[snap.worker] = actions
            self.setIndexWidget(self._model.index(row, WorkerColumn.ACTIONS), actions)
        # Tab from the table goes through each worker's buttons in row order, before the next part of the window.
        previous: QWidget = self
        for actions in self._actions.values():
            for button in (actions.pause, actions.restart):
                QWidget.setTabOrder(previous, button)
                previous = button

    def _refresh_actions(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        for row in range(top_left.row(), bottom_right.row() + 1):
            snap = self._model.snapshot(row)
            actions = self._actions.get(snap.worker)
            if actions is not None:
                actions.show_state(snap.state, snap.heading_to)

    def _pause_or_resume(self, actions: RowActions) -> None:
        if actions.pause.text() == "Resume":
            self.resume_requested.emit(actions.worker)
        else:
            actions.acknowledge_pause()
            self.pause_requested.emit(actions.worker)

    def _restart(self, actions: RowActions) -> None:
        actions.acknowledge_restart()
        self.restart_requested.emit(actions.worker)

    def fitting_height(self) -> int:
        """Height that shows every worker row without scrolling or empty space below."""
        rows = self._model.rowCount() * self.verticalHeader().defaultSectionSize()
        return self.horizontalHeader().sizeHint().height() + rows + 2 * self.frameWidth()

    def set_commands_enabled(self, enabled: bool) -> None:
        """Between runs the buttons have no worker to talk to."""
        for actions in self._actions.values():
            actions.setEnabled(enabled)
