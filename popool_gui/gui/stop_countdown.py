"""The Stop button's countdown: when a graceful stop turns forced.

The deadline is taken once, at Stop, from the run's own `shutdown_timeout_s` (the settings may be edited during
the run), and replaced by the controller's own deadline as soon as a run snapshot carries it. Both are epoch
seconds (`RunSnapshot.stop_deadline`), so there is one clock.
"""

from __future__ import annotations

import time


class StopCountdown:
    def __init__(self) -> None:
        self.deadline: float | None = None  # epoch seconds
        self.forcing = False

    @property
    def stopping(self) -> bool:
        return self.deadline is not None

    def begin(self, timeout_s: float) -> None:
        self.deadline = time.time() + timeout_s

    def adopt(self, controller_deadline: float | None) -> None:
        """The controller's deadline once it has begun the stop we asked for."""
        if self.stopping and not self.forcing and controller_deadline is not None:
            self.deadline = controller_deadline

    def force(self) -> None:
        self.forcing = True
        self.deadline = time.time()

    def seconds_left(self) -> int:
        return 0 if self.deadline is None else max(0, round(self.deadline - time.time()))
