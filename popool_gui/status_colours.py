"""Colours for statuses and states, chosen to read on both light and dark palettes: the window and the HTML run
report use the same ones. No Qt here, so the report can be written without it."""

from __future__ import annotations

from popool_gui.batch.model import PoStatus, RunState, WorkerState

# Mid-saturation colours: white text stays readable on them in light and dark themes alike.
GREEN = "#2e7d32"
TEAL = "#00796b"
BLUE = "#1565c0"
AMBER = "#b26a00"
RED = "#c62828"
PURPLE = "#6a1b9a"
GREY = "#616161"

WORKER_STATE_COLOURS: dict[WorkerState, str] = {
    WorkerState.STARTING: BLUE,
    WorkerState.IDLE: TEAL,
    WorkerState.BUSY: GREEN,
    WorkerState.PAUSED: AMBER,
    WorkerState.RESTARTING: BLUE,
    WorkerState.STOPPING: GREY,
    WorkerState.STOPPED: GREY,
    WorkerState.CRASHED: RED,
    WorkerState.RETIRED: PURPLE,
}

PO_STATUS_COLOURS: dict[PoStatus, str] = {
    PoStatus.PENDING: GREY,
    PoStatus.ASSIGNED: BLUE,
    PoStatus.COMPLETED: GREEN,
    PoStatus.PARTIAL: AMBER,
    PoStatus.NO_ATTACHMENTS: TEAL,
    PoStatus.PO_NOT_FOUND: PURPLE,
    PoStatus.ACCESS_DENIED: PURPLE,
    PoStatus.AUTH_REQUIRED: AMBER,
    PoStatus.INVALID_PO: GREY,
    PoStatus.FAILED: RED,
}

RUN_STATE_COLOURS: dict[RunState, str] = {
    RunState.IDLE: GREY,
    RunState.STARTING: BLUE,
    RunState.RUNNING: GREEN,
    RunState.STOPPING: AMBER,
    RunState.FINISHED: TEAL,
    RunState.FAILED: RED,
}

LOG_LEVEL_COLOURS: dict[str, str] = {"warning": AMBER, "error": RED, "critical": RED, "debug": GREY}
