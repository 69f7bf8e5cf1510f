"""The worker table's tab column: what the worker's tabs are doing, as the worker summed it up."""

from __future__ import annotations

from popool_gui.batch.model import TabState, WorkerSnapshot, WorkerState
from popool_gui.gui.worker_model import tab_text


def test_the_tab_column_shows_each_tabs_phase() -> None:
    busy = WorkerSnapshot(
        worker=1,
        state=WorkerState.BUSY,
        tab_state=TabState.DOWNLOADING,
        tab_detail="3 tabs: 1 downloading, 2 waiting for lists",
        open_tabs=4,
    )
    assert tab_text(busy) == "3 tabs: 1 downloading, 2 waiting for lists"
    assert tab_text(WorkerSnapshot(worker=1, state=WorkerState.BUSY, tab_state=TabState.OPENING)) == "Opening"
    assert tab_text(WorkerSnapshot(worker=1, state=WorkerState.IDLE, open_tabs=1)) == ""
