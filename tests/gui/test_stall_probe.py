"""The responsiveness probe: a blocked GUI thread shows up as a long stall, split into CPU and waiting time."""

from __future__ import annotations

import sys
import time
from typing import Any

from PySide6.QtCore import QTimer

from popool_gui.gui.stall_probe import StallProbe

BUSY_S = 0.08


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_a_busy_gui_thread_is_a_long_stall_on_the_cpu(qtbot: Any) -> None:
    probe = StallProbe()
    probe.start()
    QTimer.singleShot(50, lambda: busy(BUSY_S))
    qtbot.wait(300)
    probe.stop()
    assert probe.longest >= BUSY_S * 0.8
    worst = max(probe.long_stalls, key=lambda s: s.late_ms)
    assert worst.late_ms == probe.longest * 1000
    assert worst.ended_at_s == probe.worst_at
    if sys.platform.startswith("linux"):
        # The thread was computing, not waiting for a CPU: the breakdown says so.
        assert worst.cpu_ms is not None and worst.cpu_ms >= BUSY_S * 1000 * 0.6
        assert "GUI thread on a CPU" in worst.describe()
    assert probe.measured_s >= 0.25
