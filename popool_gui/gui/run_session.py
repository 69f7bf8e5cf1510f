"""One run from Start to its end, for the window: the runner thread, the 10 Hz update poll, commands, stop.

The window routes what `updates` carries to its tables; the session owns the controller and the stop countdown.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from popool_gui.batch.model import RunSummary
from popool_gui.gui.run_bridge import RunBridge, RunCollector
from popool_gui.gui.stop_countdown import StopCountdown
from popool_gui.pool.controller import PoolController

# 10 Hz is smooth to the eye and keeps model updates batched for 10,000-row runs.
POLL_MS = 100
END_WAIT_MS = 10_000


class RunSession(QObject):
    updates = Signal(object)  # Updates since the last poll
    finished = Signal(object)  # RunSummary, after the last updates
    crashed = Signal(str)  # a sentence for the user, after the last updates
    refused = Signal(str)  # a setting to fix (the Selenium Grid's), after the last updates
    auth_required = Signal(int, str, bool)  # worker, PO, headless

    def __init__(self, controller: PoolController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        collector = RunCollector()
        controller.listener = collector
        self.bridge = RunBridge(controller, collector)
        self.bridge.finished.connect(self._finished)
        self.bridge.crashed.connect(self._crashed)
        self.bridge.refused.connect(self._refused)
        self.bridge.auth_required.connect(self.auth_required)
        self.countdown = StopCountdown()
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll)

    def start(self) -> None:
        self.bridge.start()
        self._poll.start()

    def poll(self) -> None:
        """Take everything the runner collected since the last poll and hand it on in one go."""
        updates = self.bridge.take_updates()
        if updates.run is not None:
            self.countdown.adopt(updates.run.stop_deadline)
        if updates:
            self.updates.emit(updates)

    def pause(self, worker: int) -> None:
        self.controller.pause(worker)

    def resume(self, worker: int) -> None:
        self.controller.resume(worker)

    def restart(self, worker: int) -> None:
        self.controller.restart(worker)

    def retry(self, po_keys: list[str]) -> None:
        self.controller.retry(*po_keys)

    def stop(self) -> bool:
        """The first call stops gracefully within the run's own timeout, the next forces; True when forcing."""
        self.controller.stop()
        if not self.countdown.stopping:
            self.countdown.begin(self.controller.settings.shutdown_timeout_s)
            return False
        self.countdown.force()
        return True

    def _end(self) -> None:
        self.bridge.wait(END_WAIT_MS)
        self.poll()
        self._poll.stop()

    def _finished(self, summary: RunSummary) -> None:
        self._end()
        self.finished.emit(summary)

    def _crashed(self, message: str) -> None:
        self._end()
        self.crashed.emit(message)

    def _refused(self, message: str) -> None:
        self._end()
        self.refused.emit(message)
