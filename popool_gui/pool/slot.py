"""The controller's view of one worker (`Slot`) across the processes it goes through, and the POs it holds."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum, Flag, auto

from popool_gui.batch.model import PoRecord, TabState, WorkerSnapshot, WorkerState
from popool_gui.pool.processes import WorkerHandle


class Exit(Enum):
    """Whether, and why, the worker's current process is on its way out."""

    NONE = auto()
    RESTART_AFTER_PO = auto()  # wanted; the Shutdown goes out once the current PO is reported
    RESTART = auto()  # Shutdown sent; a new process follows
    STOP = auto()  # Shutdown sent; no process follows

    @property
    def sent(self) -> bool:
        return self in (Exit.RESTART, Exit.STOP)

    @property
    def restarting(self) -> bool:
        return self in (Exit.RESTART_AFTER_PO, Exit.RESTART)


class Hold(Flag):
    """Why a live worker gets no new PO; each reason is lifted on its own."""

    NONE = 0
    PAUSED = auto()  # by the user
    SIGN_IN = auto()  # it met a login wall: a person signs in, then resumes it
    MEMORY = auto()  # by the memory policy, until memory is back below the threshold minus the margin


@dataclass(slots=True)
class InFlight:
    record: PoRecord
    attempt: int
    assigned_mono: float
    # The waiting popool does on purpose for this PO (po_page.deliberate_wait_s), on top of the PO timeout: a
    # second look's longer floor must not turn into a timeout at the lowest allowed PO timeout.
    deliberate_wait_s: float = 0.0

    @property
    def key(self) -> str:
        return self.record.key


@dataclass(slots=True)
class Slot:
    worker: int
    state: WorkerState = WorkerState.STARTING
    generation: int = 0
    handle: WorkerHandle | None = None
    current: InFlight | None = None
    # POs sent beside `current`, oldest first: the worker works on up to tabs_per_worker at once, a tab each.
    queued: deque[InFlight] = field(default_factory=deque)
    last_beat_mono: float = 0.0
    exit_sent_mono: float = 0.0
    started_at: float | None = None
    holds: Hold = Hold.NONE
    exit: Exit = Exit.NONE
    restarts: int = 0
    done: int = 0
    failed: int = 0
    tab_state: TabState = TabState.NONE
    tab_detail: str = ""
    open_tabs: int = 0
    memory_mb: float = 0.0
    message: str = ""
    last_error: str = ""
    node: str = ""  # the Grid node of its current browser (WorkerReady)

    @property
    def live(self) -> bool:
        return self.state.is_live

    @property
    def new_browsers(self) -> int:
        """Every process after the first: crashes, hangs, memory recycles and the user's restarts."""
        return max(0, self.generation - 1)

    @property
    def busy(self) -> bool:
        return self.current is not None or bool(self.queued)

    @property
    def can_take_po(self) -> bool:
        return self.state is WorkerState.IDLE and self.current is None and not self.holds and self.exit is Exit.NONE

    def can_queue_po(self, tabs: int) -> bool:
        """A busy worker holds up to `tabs` POs beside its current one.

        It works on `tabs` at once; the extra one is there because the worker starts its next PO the moment it
        reports one, before the PO sent in answer to that report can reach it.
        """
        return (
            self.state is WorkerState.BUSY
            and self.current is not None
            and self.exit is Exit.NONE
            and len(self.queued) < tabs
            and not self.holds
        )

    def idle_state(self) -> WorkerState:
        """What a worker without a PO shows: paused while anything but the memory policy holds it."""
        return WorkerState.PAUSED if self.holds & (Hold.PAUSED | Hold.SIGN_IN) else WorkerState.IDLE

    def pop_queued(self, key: str) -> InFlight | None:
        """Remove and return the PO sent ahead under `key`; None when it is not among them."""
        flight = next((f for f in self.queued if f.key == key), None)
        if flight is not None:
            self.queued.remove(flight)
        return flight

    def clear_tab(self) -> None:
        self.tab_state, self.tab_detail = TabState.NONE, ""

    def snapshot(self) -> WorkerSnapshot:
        handle = self.handle
        return WorkerSnapshot(
            worker=self.worker,
            state=self.state,
            pid=handle.pid if handle else None,
            browser_pid=handle.browser_pid if handle else None,
            current_po=self.current.key if self.current else "",
            tab_state=self.tab_state,
            tab_detail=self.tab_detail,
            open_tabs=self.open_tabs,
            memory_mb=round(self.memory_mb, 1),
            done=self.done,
            failed=self.failed,
            restarts=self.new_browsers,
            crashes=self.restarts,
            started_at=self.started_at,
            message=self.message,
            node=self.node,
            heading_to=self._heading_to(),
        )

    def _heading_to(self) -> WorkerState | None:
        if self.state is not WorkerState.BUSY:
            return None
        if self.exit is Exit.RESTART_AFTER_PO:
            return WorkerState.RESTARTING
        return WorkerState.PAUSED if Hold.PAUSED in self.holds else None
