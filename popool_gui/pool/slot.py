"""The controller's view of one worker (`Slot`) across the processes it goes through, and the POs it holds.

`Slot` is the one owner of a worker's state, its exit, its holds and its POs: the supervisor, dispatch, events,
outcomes, the memory guard and the user's commands call its methods, which move the state only along
`TRANSITIONS` and the exit only along `EXIT_TRANSITIONS`. Pure (no process, pipe or clock of its own): the
callers do the sending and killing a move asks for, and the tables are tested on their own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum, Flag, auto
from typing import NoReturn

import structlog

from popool_gui.batch.model import PoRecord, TabState, WorkerSnapshot, WorkerState
from popool_gui.browser.tab_state import IllegalTransition
from popool_gui.pool.processes import WorkerHandle

log = structlog.get_logger()


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


S = WorkerState
# Every legal move of a worker's state; staying in a state is not a move. Any live worker may crash (then it
# restarts, stops or retires) or be killed (STOPPED); only a crash leads to RETIRED, only a new process to
# STARTING, and only RESTARTING is left for one.
TRANSITIONS: dict[WorkerState, frozenset[WorkerState]] = {
    S.STARTING: frozenset({S.IDLE, S.PAUSED, S.STOPPING, S.CRASHED, S.STOPPED}),
    S.IDLE: frozenset({S.BUSY, S.PAUSED, S.RESTARTING, S.STOPPING, S.CRASHED, S.STOPPED}),
    S.BUSY: frozenset({S.IDLE, S.PAUSED, S.RESTARTING, S.STOPPING, S.CRASHED, S.STOPPED}),
    S.PAUSED: frozenset({S.IDLE, S.RESTARTING, S.STOPPING, S.CRASHED, S.STOPPED}),
    S.RESTARTING: frozenset({S.STARTING, S.STOPPING, S.CRASHED, S.STOPPED}),
    S.STOPPING: frozenset({S.CRASHED, S.STOPPED}),
    S.CRASHED: frozenset({S.RESTARTING, S.STOPPED, S.RETIRED}),
    S.STOPPED: frozenset(),
    S.RETIRED: frozenset(),
}

# Every legal move of the exit. A Stop overrides a restart, never the other way round; a new process starts with
# none, and a stopping worker never gets one.
EXIT_TRANSITIONS: dict[Exit, frozenset[Exit]] = {
    Exit.NONE: frozenset({Exit.RESTART_AFTER_PO, Exit.RESTART, Exit.STOP}),
    Exit.RESTART_AFTER_PO: frozenset({Exit.RESTART, Exit.STOP, Exit.NONE}),
    Exit.RESTART: frozenset({Exit.STOP, Exit.NONE}),
    Exit.STOP: frozenset(),
}

SIGN_IN_MESSAGE = "sign-in required"


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


class Slot:
    """One worker's state, exit, holds and POs, changed only through its methods; the rest is what its row shows.

    `state` may be given to start elsewhere than STARTING: the tables are what tests put under test.
    """

    __slots__ = (
        "_current",
        "_exit",
        "_exit_sent_mono",
        "_generation",
        "_handle",
        "_holds",
        "_queued",
        "_state",
        "done",
        "failed",
        "last_beat_mono",
        "last_error",
        "memory_mb",
        "message",
        "node",
        "open_tabs",
        "restarts",
        "started_at",
        "tab_detail",
        "tab_state",
        "worker",
    )

    def __init__(self, worker: int, *, state: WorkerState = WorkerState.STARTING) -> None:
        self.worker = worker
        self._state = state
        self._exit = Exit.NONE
        self._holds = Hold.NONE
        self._current: InFlight | None = None
        # POs sent beside `current`, oldest first: the worker works on up to tabs_per_worker at once, a tab each.
        self._queued: deque[InFlight] = deque()
        self._generation = 0
        self._handle: WorkerHandle | None = None
        self._exit_sent_mono = 0.0
        self.last_beat_mono = 0.0
        self.started_at: float | None = None
        self.restarts = 0  # crashes and hangs: what max_restarts counts
        self.done = 0
        self.failed = 0
        self.tab_state = TabState.NONE
        self.tab_detail = ""
        self.open_tabs = 0
        self.memory_mb = 0.0
        self.message = ""
        self.last_error = ""
        self.node = ""  # the Grid node of its current browser (WorkerReady)

    # ----------------------------------------------------------------- what it is

    @property
    def state(self) -> WorkerState:
        return self._state

    @property
    def exit(self) -> Exit:
        return self._exit

    @property
    def holds(self) -> Hold:
        return self._holds

    @property
    def current(self) -> InFlight | None:
        return self._current

    @property
    def queued(self) -> tuple[InFlight, ...]:
        return tuple(self._queued)

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def handle(self) -> WorkerHandle | None:
        return self._handle

    @property
    def exit_sent_mono(self) -> float:
        return self._exit_sent_mono

    @property
    def live(self) -> bool:
        return self._state.is_live

    @property
    def new_browsers(self) -> int:
        """Every process after the first: crashes, hangs, memory recycles and the user's restarts."""
        return max(0, self._generation - 1)

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._queued)

    @property
    def can_take_po(self) -> bool:
        return self._state is WorkerState.IDLE and self._current is None and not self._holds and self._exit is Exit.NONE

    def can_queue_po(self, tabs: int) -> bool:
        """A busy worker holds up to `tabs` POs beside its current one.

        It works on `tabs` at once; the extra one is there because the worker starts its next PO the moment it
        reports one, before the PO sent in answer to that report can reach it.
        """
        return (
            self._state is WorkerState.BUSY
            and self._current is not None
            and self._exit is Exit.NONE
            and len(self._queued) < tabs
            and not self._holds
        )

    def idle_state(self) -> WorkerState:
        """What a worker without a PO shows: paused while anything but the memory policy holds it."""
        return WorkerState.PAUSED if self._holds & (Hold.PAUSED | Hold.SIGN_IN) else WorkerState.IDLE

    def flight(self, key: str) -> InFlight | None:
        """The PO `key` if this worker holds it, current or sent ahead."""
        if self._current is not None and self._current.key == key:
            return self._current
        return next((f for f in self._queued if f.key == key), None)

    # ----------------------------------------------------------------- its processes

    def started(self, handle: WorkerHandle, now_mono: float, now_epoch: float) -> None:
        """A new process (the first, or one after a restart or crash) is starting its browser."""
        self._move(WorkerState.STARTING, exit_to=Exit.NONE)
        self._generation = handle.generation
        self._handle = handle
        self._exit_sent_mono = 0.0
        self.last_beat_mono = now_mono
        self.started_at = now_epoch
        self.clear_tab()
        self.open_tabs = 0
        self.node = ""

    def ready(self, node: str) -> None:
        """Its browser is up: it takes POs now, unless the user paused it meanwhile."""
        self.node = node
        if self._state is WorkerState.STARTING:
            self._move(WorkerState.PAUSED if Hold.PAUSED in self._holds else WorkerState.IDLE)
            self.message = ""

    def heard(self, now_mono: float) -> None:
        self.last_beat_mono = now_mono

    def request_exit(self, reason: Exit, now_mono: float) -> bool:
        """Ask the process to leave: STOP (no process follows), RESTART (one does), or RESTART_AFTER_PO (restart
        once the current PO is reported; at once when there is none). True: the Shutdown must go out now."""
        if reason is Exit.NONE:
            raise ValueError("an exit request needs a reason")
        if not self.live:
            return False
        if reason is Exit.RESTART_AFTER_PO:
            if self._current is not None:
                self._move(exit_to=Exit.RESTART_AFTER_PO)
                return False
            reason = Exit.RESTART
        if self._exit.sent:
            if reason is Exit.STOP and self._exit is Exit.RESTART:
                # Its Shutdown is already on the way: only no new process must follow.
                self._move(WorkerState.STOPPING if self._state is WorkerState.RESTARTING else None, exit_to=Exit.STOP)
            return False
        self._move(WorkerState.RESTARTING if reason is Exit.RESTART else WorkerState.STOPPING, exit_to=reason)
        self._exit_sent_mono = now_mono
        return True

    def exited(self, *, stopping: bool) -> bool:
        """Its process left; True when a new one follows (a restart while the run goes on)."""
        if self._exit is Exit.RESTART and not stopping:
            self._move(WorkerState.RESTARTING)
            return True
        self._move(WorkerState.STOPPED)
        self.tab_state, self.open_tabs = TabState.NONE, 0
        return False

    def crash(self, reason: str) -> None:
        """Its process is being killed for `reason`; `after_crash` says where it goes then."""
        self._move(WorkerState.CRASHED)
        self.message = reason
        self.last_error = reason

    def after_crash(self, *, counts: bool, stopping: bool, max_restarts: int) -> WorkerState:
        """Stopped (the run or the worker is stopping), retired (its restarts are used up) or restarting."""
        if self._state is not WorkerState.CRASHED:
            self._illegal(f"recover from a crash while {self._state.name}")
        if counts:
            self.restarts += 1
        if stopping or self._exit is Exit.STOP:
            self._move(WorkerState.STOPPED)
        elif self.restarts > max_restarts:
            self._move(WorkerState.RETIRED)
            self.message = f"retired after {max_restarts} restarts: {self.last_error}"
        else:
            self._move(WorkerState.RESTARTING)
        return self._state

    def killed(self, message: str | None) -> None:
        """Its process was killed with the run's end: a live worker is stopped, with `message` when given."""
        if not self.live:
            return
        self._move(WorkerState.STOPPED)
        if message is not None:
            self.message = message

    # ----------------------------------------------------------------- its POs

    def assign(self, flight: InFlight) -> None:
        """An idle worker was sent `flight`: it is busy on it."""
        if self._current is not None:
            self._illegal(f"assign {flight.key} while on {self._current.key}")
        self._move(WorkerState.BUSY)
        self._current = flight
        self.tab_state, self.tab_detail = TabState.OPENING, ""

    def queue(self, flight: InFlight) -> None:
        """A busy worker was sent `flight` ahead, for a tab of its own."""
        if self._state is not WorkerState.BUSY:
            self._illegal(f"queue {flight.key} while {self._state.name}")
        self._queued.append(flight)

    def report(self, key: str, now_mono: float) -> bool:
        """The worker reported `key` (settled by the caller first): off the slot, then on to its next PO or idle.
        True when the restart wanted after this PO is due now."""
        if self._current is None or self._current.key != key:
            # A PO sent ahead reports while the slot is not on it, e.g. its worker met a login wall on the PO
            # before and keeps working through its queue.
            self._pop_queued(key)
            return False
        self._current = None
        self.clear_tab()
        if self._queued and self._exit is Exit.NONE:
            # The worker starts its next queued PO right now: its PO timeout counts from here. Not when a Shutdown
            # goes out in answer to this report: the worker may see it first and leave that PO unstarted.
            self._current = self._queued.popleft()
            self._current.assigned_mono = now_mono
        elif self._state is WorkerState.BUSY:
            self._move(self.idle_state())
        return self._exit is Exit.RESTART_AFTER_PO and self._state not in (WorkerState.STOPPING, WorkerState.RESTARTING)

    def returned(self, key: str) -> InFlight | None:
        """The worker gave `key` back unfinished; None when it holds no such PO."""
        if self._current is not None and self._current.key == key:
            flight, self._current = self._current, None
            self.clear_tab()
            return flight
        return self._pop_queued(key)

    def take_current(self) -> InFlight | None:
        """The PO it was on, taken off a worker being killed."""
        flight, self._current = self._current, None
        return flight

    def take_queued(self) -> list[InFlight]:
        """The POs sent ahead, taken off a worker that will not process them: newest first, so that each given
        back to the front of the queue in turn keeps their order."""
        taken = list(reversed(self._queued))
        self._queued.clear()
        return taken

    def take_unstarted(self) -> list[InFlight]:
        """Like `take_queued`, for a worker that exited cleanly: it reported every PO it started (its reports were
        read before its exit), so one still current was never started and goes back first."""
        if self._current is not None:
            self._queued.appendleft(self._current)
            self._current = None
        return self.take_queued()

    def count(self, *, failed: bool) -> None:
        """One of its POs ended final."""
        self.done += 1
        self.failed += failed

    # ----------------------------------------------------------------- holds

    def hold(self, reason: Hold) -> None:
        """No new PO for it until `reason` is lifted. The user's pause shows at once on an idle worker; the other
        holds show in its row only once it has no PO left (`idle_state`)."""
        self._holds |= reason
        if Hold.SIGN_IN in reason:
            self.message = SIGN_IN_MESSAGE
        if Hold.PAUSED in reason and self._state is WorkerState.IDLE:
            self._move(WorkerState.PAUSED)

    def release(self, reasons: Hold) -> Hold:
        """Lift `reasons`; returns those that were held. A paused worker nothing pauses any more is idle."""
        lifted = self._holds & reasons
        self._holds &= ~reasons
        if Hold.SIGN_IN in lifted:
            self.message = ""
        if self._state is WorkerState.PAUSED:
            self._move(self.idle_state())
        return lifted

    # ----------------------------------------------------------------- what its row shows

    def show_tab(self, state: TabState, detail: str, open_tabs: int) -> None:
        self.tab_state, self.tab_detail, self.open_tabs = state, detail, open_tabs

    def clear_tab(self) -> None:
        self.tab_state, self.tab_detail = TabState.NONE, ""

    def record_memory(self, mb: float) -> None:
        self.memory_mb = mb

    def snapshot(self) -> WorkerSnapshot:
        handle = self._handle
        return WorkerSnapshot(
            worker=self.worker,
            state=self._state,
            pid=handle.pid if handle else None,
            browser_pid=handle.browser_pid if handle else None,
            current_po=self._current.key if self._current else "",
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

    # ----------------------------------------------------------------- the one setter

    def _move(self, to: WorkerState | None = None, *, exit_to: Exit | None = None) -> None:
        """Change the state and the exit, each only along its table; both are checked before either changes."""
        if to is not None and to is not self._state and to not in TRANSITIONS[self._state]:
            self._illegal(f"go from {self._state.name} to {to.name}")
        if exit_to is not None and exit_to is not self._exit and exit_to not in EXIT_TRANSITIONS[self._exit]:
            self._illegal(f"change its exit from {self._exit.name} to {exit_to.name}")
        if to is not None:
            self._state = to
        if exit_to is not None:
            self._exit = exit_to

    def _illegal(self, move: str) -> NoReturn:
        # A bug in the controller, never the worker's doing: said in the log before it ends the run.
        log.error("illegal_worker_transition", worker=self.worker, move=move, state=self._state.name)
        raise IllegalTransition(f"worker {self.worker} cannot {move}")

    def _pop_queued(self, key: str) -> InFlight | None:
        flight = next((f for f in self._queued if f.key == key), None)
        if flight is not None:
            self._queued.remove(flight)
        return flight

    def _heading_to(self) -> WorkerState | None:
        if self._state is not WorkerState.BUSY:
            return None
        if self._exit is Exit.RESTART_AFTER_PO:
            return WorkerState.RESTARTING
        return WorkerState.PAUSED if Hold.PAUSED in self._holds else None
