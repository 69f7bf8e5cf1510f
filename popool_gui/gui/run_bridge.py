"""The runner: a QObject living in a QThread that runs `PoolController.run()` and hands its events to the GUI.

The controller calls its listener on the runner thread, possibly thousands of times a second with fast
workers. Emitting one queued signal per event would flood the GUI's event loop, so the listener only
collects: the latest snapshot per worker, the latest run snapshot, PO results in order, log lines. The
window takes everything at once (`take_updates()`) from a 10 Hz timer and applies it in one model update
per table. Rare events that need attention at once (sign-in needed, the end of the run) are real signals.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from PySide6.QtCore import QObject, QThread, Signal, Slot

from popool_gui.batch.model import LogLine, MemoryDecision, PoResult, RunSnapshot, RunSummary, WorkerSnapshot
from popool_gui.browser.grid import GridPreflightError
from popool_gui.pool.controller import PoolController

log = structlog.get_logger()

# The log pane shows recent events; older ones are in the log file.
MAX_BUFFERED_LOG_LINES = 2000


@dataclass(slots=True)
class Updates:
    """Everything that happened since the last `take_updates()`."""

    run: RunSnapshot | None = None
    workers: dict[int, WorkerSnapshot] = field(default_factory=dict)
    results: list[PoResult] = field(default_factory=list)
    logs: list[LogLine] = field(default_factory=list)
    memory: list[MemoryDecision] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.run or self.workers or self.results or self.logs or self.memory)


class RunCollector:
    """The `PoolListener` to hand to the controller: stores events under a lock, never blocks for long."""

    def __init__(self) -> None:
        # Set by the bridge: sign-in requests are forwarded at once instead of waiting for the next poll.
        self.on_auth: Callable[[int, str, bool], None] = lambda _worker, _po, _headless: None
        self._lock = threading.Lock()
        self._updates = Updates()
        self._logs: deque[LogLine] = deque(maxlen=MAX_BUFFERED_LOG_LINES)

    def take(self) -> Updates:
        with self._lock:
            taken, self._updates = self._updates, Updates()
            taken.logs = list(self._logs)
            self._logs.clear()
        return taken

    def on_run(self, snapshot: RunSnapshot) -> None:
        with self._lock:
            self._updates.run = snapshot

    def on_worker(self, snapshot: WorkerSnapshot) -> None:
        with self._lock:
            self._updates.workers[snapshot.worker] = snapshot

    def on_result(self, result: PoResult) -> None:
        with self._lock:
            self._updates.results.append(result)

    def on_memory(self, decision: MemoryDecision) -> None:
        with self._lock:
            self._updates.memory.append(decision)

    def on_log(self, line: LogLine) -> None:
        with self._lock:
            self._logs.append(line)

    def on_auth_required(self, worker: int, po: str, headless: bool) -> None:
        self.on_auth(worker, po, headless)


class RunBridge(QObject):
    """Owns one controller for one run. Create it on the GUI thread, then `start()`; commands are thread-safe."""

    auth_required = Signal(int, str, bool)  # worker, PO, headless
    finished = Signal(object)  # RunSummary
    crashed = Signal(str)  # the controller raised: a message for the user
    refused = Signal(str)  # the Selenium Grid cannot run the batch as configured: the message names the fix

    def __init__(self, controller: PoolController, collector: RunCollector) -> None:
        super().__init__()
        self.controller = controller
        self.collector = collector
        collector.on_auth = self.auth_required.emit
        self.summary: RunSummary | None = None
        self._thread = QThread()
        self._thread.setObjectName("runner")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)

    def start(self) -> None:
        self._thread.start()

    def take_updates(self) -> Updates:
        return self.collector.take()

    def wait(self, ms: int) -> bool:
        """Block until the runner thread has ended (used when the app quits)."""
        return self._thread.wait(ms)

    @Slot()
    def _run(self) -> None:
        try:
            self.summary = self.controller.run()
        except GridPreflightError as exc:
            self.refused.emit(str(exc))
        except Exception as exc:  # the controller logged it with its traceback; the user needs a sentence
            log.exception("gui_run_failed")
            self.crashed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.finished.emit(self.summary)
        finally:
            self._thread.quit()
