"""The responsiveness probe: a blocked GUI thread shows up as a long stall, split into CPU and waiting time."""

from __future__ import annotations

import sys
import time
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from tests.gui.stall_probe import StallProbe

pytestmark = pytest.mark.alone
BUSY_S = 0.08


def busy(seconds: float) -> None:
    # CPU time, not wall time: on a loaded machine the thread may be preempted while it spins.
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_a_busy_gui_thread_is_a_long_stall_on_the_cpu(qtbot: Any) -> None:
    probe = StallProbe()
    probe.start()
    spun: list[float] = []

    def spin() -> None:
        busy(BUSY_S)
        spun.append(time.perf_counter() - probe_started)

    probe_started = time.perf_counter()
    QTimer.singleShot(50, spin)
    qtbot.wait(300)
    probe.stop()
    assert spun and probe.longest >= BUSY_S * 0.8
    assert probe.worst_at == max(probe.long_stalls, key=lambda s: s.late_ms).ended_at_s
    # The stall that ended right after the spin (other stalls may come from a loaded machine).
    ours = min(probe.long_stalls, key=lambda s: abs(s.ended_at_s - spun[0]))
    assert ours.late_ms >= BUSY_S * 1000 * 0.8
    if sys.platform.startswith("linux"):
        # The thread was computing, not waiting for a CPU: the breakdown says so.
        assert ours.cpu_ms is not None and ours.cpu_ms >= BUSY_S * 1000 * 0.9
        assert "GUI thread on a CPU" in ours.describe()
    assert probe.measured_s >= 0.25
