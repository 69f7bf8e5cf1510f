"""Short file and journal work off the GUI thread: reading a 10,000-row list, opening and seeding the journal.

`Background.run(work, on_returned, on_errored)` runs `work()` on Qt's global thread pool and calls one of the two
callbacks back on the GUI thread with its result or the exception it raised. While anything runs, the window is
busy: a wait cursor, and `busy_changed` tells the window to disable what must not start meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QGuiApplication


class _Task(QObject):
    """Lives on the GUI thread, so the signals its runnable emits from the pool are delivered there (queued)."""

    returned = Signal(object)
    errored = Signal(object)  # the exception

    def __init__(
        self, work: Callable[[], Any], on_returned: Callable[[Any], None], on_errored: Callable[[Exception], None]
    ) -> None:
        super().__init__()
        self.work = work
        self.on_returned = on_returned
        self.on_errored = on_errored


class _Runnable(QRunnable):
    def __init__(self, task: _Task) -> None:
        super().__init__()
        self._task = task

    def run(self) -> None:
        try:
            result = self._task.work()
        except Exception as exc:  # handed to the GUI thread, which shows it as the caller decides
            self._task.errored.emit(exc)
        else:
            self._task.returned.emit(result)


class Background(QObject):
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: set[_Task] = set()  # kept alive until their answer is delivered
        self._delivering = False

    @property
    def busy(self) -> bool:
        return bool(self._tasks) or self._delivering

    def run(
        self,
        work: Callable[[], Any],
        on_returned: Callable[[Any], None],
        on_errored: Callable[[Exception], None],
    ) -> None:
        task = _Task(work, on_returned, on_errored)
        task.returned.connect(self._returned, Qt.ConnectionType.QueuedConnection)
        task.errored.connect(self._errored, Qt.ConnectionType.QueuedConnection)
        if not self._tasks:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        was_busy = self.busy
        self._tasks.add(task)
        if not was_busy:
            self.busy_changed.emit(True)
        QThreadPool.globalInstance().start(_Runnable(task))

    @Slot(object)
    def _returned(self, result: object) -> None:
        self._deliver(lambda task: task.on_returned(result))

    @Slot(object)
    def _errored(self, exc: Exception) -> None:
        self._deliver(lambda task: task.on_errored(exc))

    def _deliver(self, call: Callable[[_Task], None]) -> None:
        task = self.sender()
        if not isinstance(task, _Task) or task not in self._tasks:
            return
        self._tasks.discard(task)
        if not self._tasks:
            QGuiApplication.restoreOverrideCursor()  # a question the callback asks gets the normal cursor
        # A callback may start the next step (check, ask, then build): the window stays busy without a flicker.
        self._delivering = True
        try:
            call(task)
        finally:
            self._delivering = False
            if not self.busy:
                self.busy_changed.emit(False)
