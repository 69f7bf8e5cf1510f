"""A main-thread responsiveness probe: a short timer that measures its own lateness.

When the GUI thread is busy (painting a huge model, waiting for the GIL behind the controller thread), or
runnable but waiting for a CPU behind other programs, the timer fires late; the lateness is how long a click or
a repaint would have waited. On Linux the probe also splits each long stall into the thread's own CPU time and
its time waiting for a CPU (the kernel's per-thread scheduler statistics), which tells the two causes apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

PROBE_MS = 10
LONG_STALL_S = 0.03  # stalls from this long on are kept with their breakdown
SCHEDSTAT = Path("/proc/thread-self/schedstat")  # ns on a CPU, ns waiting for one, time slices


@dataclass(frozen=True, slots=True)
class Stall:
    ended_at_s: float  # seconds from start()
    late_ms: float
    cpu_ms: float | None  # the GUI thread's own CPU time between the two ticks (None: not Linux)
    waiting_for_cpu_ms: float | None  # runnable but not running

    def describe(self) -> str:
        where = f"{self.late_ms:.0f} ms at {self.ended_at_s:.1f} s"
        if self.cpu_ms is None or self.waiting_for_cpu_ms is None:
            return where
        return f"{where} (GUI thread on a CPU {self.cpu_ms:.0f} ms, waiting for one {self.waiting_for_cpu_ms:.0f} ms)"


def _schedstat() -> tuple[float, float] | None:
    try:
        on_cpu, waiting, _ = SCHEDSTAT.read_text().split()
    except (OSError, ValueError):
        return None
    return int(on_cpu) / 1e6, int(waiting) / 1e6


class StallProbe(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = PROBE_MS) -> None:
        super().__init__(parent)
        self.interval_s = interval_ms / 1000
        self.stalls: list[float] = []  # lateness of every tick, seconds
        self.long_stalls: list[Stall] = []
        self.longest = 0.0  # seconds
        self.worst_at = 0.0  # seconds from start() to the end of the longest stall
        self._started = 0.0
        self._last = time.perf_counter()
        self._last_sched = _schedstat()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._fire)

    @property
    def measured_s(self) -> float:
        """From start() to the last tick."""
        return self._last - self._started

    def percentile(self, share: float) -> float:
        if not self.stalls:
            return 0.0
        ordered = sorted(self.stalls)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    def start(self) -> None:
        self.stalls.clear()
        self.long_stalls.clear()
        self.longest = self.worst_at = 0.0
        self._last = self._started = time.perf_counter()
        self._last_sched = _schedstat()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _fire(self) -> None:
        now = time.perf_counter()
        sched = _schedstat()
        late = max(0.0, now - self._last - self.interval_s)
        if late > self.longest:
            # A running maximum: max() over every tick on each tick would cost the GUI thread it measures.
            self.longest, self.worst_at = late, now - self._started
        if late >= LONG_STALL_S:
            before = self._last_sched
            cpu = wait = None
            if sched is not None and before is not None:
                cpu, wait = sched[0] - before[0], sched[1] - before[1]
            self.long_stalls.append(Stall(now - self._started, late * 1000, cpu, wait))
        self.stalls.append(late)
        self._last = now
        self._last_sched = sched
