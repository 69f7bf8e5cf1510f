"""A main-thread responsiveness probe: a short timer that measures its own lateness.

When the GUI thread is busy (painting a huge model, waiting for the GIL behind the controller thread), the
timer fires late; the lateness is how long a click or a repaint would have waited.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer

PROBE_MS = 10


class StallProbe(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = PROBE_MS) -> None:
        super().__init__(parent)
        self.interval_s = interval_ms / 1000
        self.stalls: list[float] = []  # lateness of every tick, seconds
        self.longest = 0.0  # seconds
        self.worst_at = 0.0  # seconds from start() to the end of the longest stall
        self._started = 0.0
        self._last = time.perf_counter()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._fire)

    def percentile(self, share: float) -> float:
        if not self.stalls:
            return 0.0
        ordered = sorted(self.stalls)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    @property
    def measured_s(self) -> float:
        """From start() to the last tick."""
        return self._last - self._started

    def start(self) -> None:
        self.stalls.clear()
        self.longest = self.worst_at = 0.0
        self._last = self._started = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _fire(self) -> None:
        now = time.perf_counter()
        late = max(0.0, now - self._last - self.interval_s)
        if late > self.longest:
            # A running maximum: max() over every tick on each tick would cost the GUI thread it measures.
            self.longest, self.worst_at = late, now - self._started
        self.stalls.append(late)
        self._last = now
