"""Rate and ETA as rolling figures over the last ~30 s, so the status bar does not jump from second to second.

A run is "stalled" when nothing has finished for a good while: longer than STALL_FLOOR_S and longer than
STALL_GAPS times the usual gap between finishes (a run of slow POs is not stalled between two of them). While
stalled, or before MIN_FINISHES in the window, the ETA is None, which the window and the CLI show as
UNKNOWN_ETA ("?"): an honest unknown rather than a number that is wrong.

A slow run (fewer than MIN_FINISHES finishes in the window) is averaged over its last MIN_FINISHES finishes.

Pure: the clock is passed in (monotonic seconds), so tests drive it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from popool_gui.duration import format_duration

WINDOW_S = 30.0
STALL_FLOOR_S = 30.0
STALL_GAPS = 3.0
MIN_FINISHES = 3
UNKNOWN_ETA = "?"  # what the status bar and the CLI show for an ETA of None


def format_eta(seconds: float | None) -> str:
    """An ETA as the status bar and the CLI line show it: `m:ss`, or UNKNOWN_ETA while it is not known."""
    return UNKNOWN_ETA if seconds is None else format_duration(seconds)


class RollingRate:
    def __init__(self, clock: Callable[[], float] = time.monotonic, window_s: float = WINDOW_S) -> None:
        self._clock = clock
        self._window_s = window_s
        self._started = clock()
        self._finishes: deque[float] = deque()
        self._last: float | None = None

    def finished(self, count: int = 1) -> None:
        """`count` POs reached a final status now."""
        now = self._clock()
        self._finishes.extend([now] * count)
        self._last = now
        self._trim(now)

    def rate_per_min(self) -> float:
        """POs per minute over the window (over the time since the start while the run is younger); when fewer
        than MIN_FINISHES fall in the window, over the last MIN_FINISHES finishes, so slow POs get a rate too."""
        now = self._clock()
        self._trim(now)
        if self._finishes and now - self._finishes[0] >= self._window_s:
            # Counted from the oldest kept finish: the intervals after it, not the finish itself.
            return 60.0 * (len(self._finishes) - 1) / (now - self._finishes[0])
        span = min(self._window_s, now - self._started)
        return 60.0 * len(self._finishes) / span if span > 0 else 0.0

    def stalled(self) -> bool:
        now = self._clock()
        since = now - (self._last if self._last is not None else self._started)
        return since > max(STALL_FLOOR_S, STALL_GAPS * self._usual_gap())

    def eta_s(self, remaining: int) -> float | None:
        """Seconds until `remaining` POs are done at the rolling rate; None while that is unknown."""
        if remaining <= 0:
            return 0.0
        rate = self.rate_per_min()
        if self.stalled() or len(self._finishes) < MIN_FINISHES or rate <= 0:
            return None
        return 60.0 * remaining / rate

    def _usual_gap(self) -> float:
        if len(self._finishes) < 2:
            return 0.0
        return (self._finishes[-1] - self._finishes[0]) / (len(self._finishes) - 1)

    def _trim(self, now: float) -> None:
        while len(self._finishes) > MIN_FINISHES and now - self._finishes[0] >= self._window_s:
            self._finishes.popleft()
