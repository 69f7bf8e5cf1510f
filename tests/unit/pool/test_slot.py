"""The worker slot as pure code: every pair of states and exits either is in its table (and moves) or raises, and
each method makes exactly the moves the controller relies on; no process, no pipe."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from popool_gui.batch.model import PoRecord, TabState, WorkerState
from popool_gui.browser.tab_state import IllegalTransition
from popool_gui.pool.processes import WorkerHandle
from popool_gui.pool.slot import EXIT_TRANSITIONS, SIGN_IN_MESSAGE, TRANSITIONS, Exit, Hold, InFlight, Slot

S = WorkerState
LIVE = (S.STARTING, S.IDLE, S.BUSY, S.PAUSED, S.RESTARTING, S.STOPPING)
LEGAL: set[tuple[WorkerState, WorkerState]] = {
    (S.STARTING, S.IDLE),
    (S.STARTING, S.PAUSED),
    (S.STARTING, S.STOPPING),
    (S.IDLE, S.BUSY),
    (S.IDLE, S.PAUSED),
    (S.IDLE, S.RESTARTING),
    (S.IDLE, S.STOPPING),
    (S.BUSY, S.IDLE),
    (S.BUSY, S.PAUSED),
    (S.BUSY, S.RESTARTING),
    (S.BUSY, S.STOPPING),
    (S.PAUSED, S.IDLE),
    (S.PAUSED, S.RESTARTING),
    (S.PAUSED, S.STOPPING),
    (S.RESTARTING, S.STARTING),
    (S.RESTARTING, S.STOPPING),
    (S.CRASHED, S.RESTARTING),
    (S.CRASHED, S.STOPPED),
    (S.CRASHED, S.RETIRED),
    *((live, S.CRASHED) for live in LIVE),
    *((live, S.STOPPED) for live in LIVE),
}
E = Exit
LEGAL_EXITS: set[tuple[Exit, Exit]] = {
    (E.NONE, E.RESTART_AFTER_PO),
    (E.NONE, E.RESTART),
    (E.NONE, E.STOP),
    (E.RESTART_AFTER_PO, E.RESTART),
    (E.RESTART_AFTER_PO, E.STOP),
    (E.RESTART_AFTER_PO, E.NONE),
    (E.RESTART, E.STOP),
    (E.RESTART, E.NONE),
}
PAIRS = [(a, b) for a, b in itertools.product(WorkerState, WorkerState) if a is not b]
EXIT_PAIRS = [(a, b) for a, b in itertools.product(Exit, Exit) if a is not b]
NOW = 50.0


def flight(key: str) -> InFlight:
    return InFlight(PoRecord(key=key, po_id=key[2:], row_number=1, row={}), attempt=1, assigned_mono=1.0)


@dataclass(frozen=True)
class At:
    """Where a row starts: the table is what is under test, so a slot may start anywhere."""

    state: WorkerState
    exit: Exit = Exit.NONE
    holds: Hold = Hold.NONE
    current: str = ""
    queued: tuple[str, ...] = ()

    def slot(self) -> Slot:
        slot = Slot(worker=3, state=self.state)
        slot._exit, slot._holds = self.exit, self.holds
        slot._current = flight(self.current) if self.current else None
        slot._queued.extend(flight(k) for k in self.queued)
        return slot


def test_the_tables_are_exactly_the_legal_moves() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == LEGAL
    assert set(TRANSITIONS) == set(WorkerState)
    assert {(a, b) for a, targets in EXIT_TRANSITIONS.items() for b in targets} == LEGAL_EXITS
    assert set(EXIT_TRANSITIONS) == set(Exit)


@pytest.mark.parametrize(("start", "to"), PAIRS, ids=[f"{a.name}->{b.name}" for a, b in PAIRS])
def test_each_state_move_is_taken_or_refused_as_the_table_says(start: WorkerState, to: WorkerState) -> None:
    slot = At(start).slot()
    if (start, to) in LEGAL:
        slot._move(to)
        assert slot.state is to
    else:
        with pytest.raises(IllegalTransition):
            slot._move(to)
        assert slot.state is start


@pytest.mark.parametrize(("start", "to"), EXIT_PAIRS, ids=[f"{a.name}->{b.name}" for a, b in EXIT_PAIRS])
def test_each_exit_move_is_taken_or_refused_as_the_table_says(start: Exit, to: Exit) -> None:
    slot = At(S.BUSY, exit=start).slot()
    if (start, to) in LEGAL_EXITS:
        slot._move(exit_to=to)
        assert slot.exit is to
    else:
        with pytest.raises(IllegalTransition):
            slot._move(exit_to=to)
        assert slot.exit is start


def test_a_refused_exit_leaves_the_state_as_it_was_too() -> None:
    slot = At(S.STOPPING, exit=E.STOP).slot()
    with pytest.raises(IllegalTransition):
        slot._move(S.STOPPED, exit_to=E.RESTART)
    assert (slot.state, slot.exit) == (S.STOPPING, E.STOP)


def handle(generation: int) -> WorkerHandle:
    return WorkerHandle(generation=generation, process=None, commands=None, events=None, spawn_mono=NOW)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Row:
    """One method call from one starting point: the state and exit it leaves, and what it returns."""

    id: str
    at: At
    call: Callable[[Slot], Any]
    state: WorkerState
    exit: Exit | None = None  # None: unchanged
    returns: Any = None
    holds: Hold | None = None  # None: unchanged
    extra: dict[str, Any] = field(default_factory=dict)  # other attributes and their values afterwards


def _report(key: str) -> Callable[[Slot], Any]:
    return lambda s: s.report(key, NOW)


ROWS = [
    # A process starts: the first one, then one after a restart or crash.
    Row(
        "started: first",
        At(S.STARTING),
        lambda s: s.started(handle(1), NOW, 9.0),
        S.STARTING,
        E.NONE,
        extra={"generation": 1, "last_beat_mono": NOW, "started_at": 9.0},
    ),
    Row(
        "started: after a restart",
        At(S.RESTARTING, exit=E.RESTART),
        lambda s: s.started(handle(4), NOW, 9.0),
        S.STARTING,
        E.NONE,
        extra={"generation": 4, "exit_sent_mono": 0.0},
    ),
    Row(
        "started: after a crash while a restart was wanted",
        At(S.RESTARTING, exit=E.RESTART_AFTER_PO),
        lambda s: s.started(handle(2), NOW, 9.0),
        S.STARTING,
        E.NONE,
    ),
    # Its browser is up.
    Row("ready", At(S.STARTING), lambda s: s.ready("node-a"), S.IDLE, extra={"node": "node-a", "message": ""}),
    Row("ready: paused while starting", At(S.STARTING, holds=Hold.PAUSED), lambda s: s.ready(""), S.PAUSED),
    Row(
        "ready: a sign-in hold alone does not pause it",
        At(S.STARTING, holds=Hold.SIGN_IN),
        lambda s: s.ready(""),
        S.IDLE,
    ),
    Row("ready: late, while stopping", At(S.STOPPING, exit=E.STOP), lambda s: s.ready(""), S.STOPPING),
    # POs.
    Row(
        "assign",
        At(S.IDLE),
        lambda s: s.assign(flight("PO1")),
        S.BUSY,
        extra={"tab_state": TabState.OPENING, "busy": True},
    ),
    Row("queue ahead", At(S.BUSY, current="PO1"), lambda s: s.queue(flight("PO2")), S.BUSY, extra={"queued": ("PO2",)}),
    Row(
        "report: the last one",
        At(S.BUSY, current="PO1"),
        _report("PO1"),
        S.IDLE,
        returns=False,
        extra={"busy": False, "tab_state": TabState.NONE},
    ),
    Row(
        "report: paused by the user meanwhile",
        At(S.BUSY, holds=Hold.PAUSED, current="PO1"),
        _report("PO1"),
        S.PAUSED,
        returns=False,
    ),
    Row(
        "report: held for a sign-in",
        At(S.BUSY, holds=Hold.SIGN_IN, current="PO1"),
        _report("PO1"),
        S.PAUSED,
        returns=False,
    ),
    Row(
        "report: held by the memory policy",
        At(S.BUSY, holds=Hold.MEMORY, current="PO1"),
        _report("PO1"),
        S.IDLE,
        returns=False,
    ),
    Row(
        "report: on to the next one",
        At(S.BUSY, current="PO1", queued=("PO2", "PO3")),
        _report("PO1"),
        S.BUSY,
        returns=False,
        extra={"current": "PO2", "queued": ("PO3",)},
    ),
    Row(
        "report: one sent ahead",
        At(S.BUSY, current="PO1", queued=("PO2", "PO3")),
        _report("PO3"),
        S.BUSY,
        returns=False,
        extra={"current": "PO1", "queued": ("PO2",)},
    ),
    Row(
        "report: a restart is due",
        At(S.BUSY, exit=E.RESTART_AFTER_PO, current="PO1", queued=("PO2",)),
        _report("PO1"),
        S.IDLE,
        returns=True,
        extra={"current": "", "queued": ("PO2",)},
    ),
    Row(
        "report: while stopping",
        At(S.STOPPING, exit=E.STOP, current="PO1", queued=("PO2",)),
        _report("PO1"),
        S.STOPPING,
        returns=False,
        extra={"current": "", "queued": ("PO2",)},
    ),
    Row(
        "returned: current",
        At(S.BUSY, exit=E.STOP, current="PO1"),
        lambda s: s.returned("PO1").key,
        S.BUSY,
        returns="PO1",
        extra={"current": ""},
    ),
    Row(
        "returned: unknown",
        At(S.STOPPING, exit=E.STOP, current="PO1"),
        lambda s: s.returned("PO9"),
        S.STOPPING,
        extra={"current": "PO1"},
    ),
    # Holds.
    Row("hold: paused while idle", At(S.IDLE), lambda s: s.hold(Hold.PAUSED), S.PAUSED, holds=Hold.PAUSED),
    Row("hold: paused while busy", At(S.BUSY, current="PO1"), lambda s: s.hold(Hold.PAUSED), S.BUSY, holds=Hold.PAUSED),
    Row("hold: memory while idle", At(S.IDLE), lambda s: s.hold(Hold.MEMORY), S.IDLE, holds=Hold.MEMORY),
    # A worker that restarted while held for a sign-in is idle: a memory hold does not show it paused.
    Row(
        "hold: memory while idle and held for a sign-in",
        At(S.IDLE, holds=Hold.SIGN_IN),
        lambda s: s.hold(Hold.MEMORY),
        S.IDLE,
        holds=Hold.SIGN_IN | Hold.MEMORY,
    ),
    Row(
        "hold: sign-in",
        At(S.BUSY, current="PO1"),
        lambda s: s.hold(Hold.SIGN_IN),
        S.BUSY,
        holds=Hold.SIGN_IN,
        extra={"message": SIGN_IN_MESSAGE},
    ),
    Row(
        "release: resume",
        At(S.PAUSED, holds=Hold.PAUSED | Hold.MEMORY),
        lambda s: s.release(Hold.PAUSED | Hold.SIGN_IN),
        S.IDLE,
        returns=Hold.PAUSED,
        holds=Hold.MEMORY,
    ),
    Row(
        "release: resume after a sign-in",
        At(S.PAUSED, holds=Hold.SIGN_IN),
        lambda s: s.release(Hold.PAUSED | Hold.SIGN_IN),
        S.IDLE,
        returns=Hold.SIGN_IN,
        holds=Hold.NONE,
        extra={"message": ""},
    ),
    Row(
        "release: memory while paused",
        At(S.PAUSED, holds=Hold.PAUSED | Hold.MEMORY),
        lambda s: s.release(Hold.MEMORY),
        S.PAUSED,
        returns=Hold.MEMORY,
        holds=Hold.PAUSED,
    ),
    Row(
        "release: resume while busy",
        At(S.BUSY, holds=Hold.PAUSED, current="PO1"),
        lambda s: s.release(Hold.PAUSED | Hold.SIGN_IN),
        S.BUSY,
        returns=Hold.PAUSED,
        holds=Hold.NONE,
    ),
    # Exits asked for.
    Row(
        "restart when free: free",
        At(S.IDLE),
        lambda s: s.request_exit(E.RESTART_AFTER_PO, NOW),
        S.RESTARTING,
        E.RESTART,
        returns=True,
        extra={"exit_sent_mono": NOW},
    ),
    Row(
        "restart when free: paused",
        At(S.PAUSED, holds=Hold.PAUSED),
        lambda s: s.request_exit(E.RESTART_AFTER_PO, NOW),
        S.RESTARTING,
        E.RESTART,
        returns=True,
    ),
    Row(
        "restart when free: busy",
        At(S.BUSY, current="PO1"),
        lambda s: s.request_exit(E.RESTART_AFTER_PO, NOW),
        S.BUSY,
        E.RESTART_AFTER_PO,
        returns=False,
        extra={"exit_sent_mono": 0.0},
    ),
    Row(
        "restart when free: asked twice",
        At(S.BUSY, exit=E.RESTART_AFTER_PO, current="PO1"),
        lambda s: s.request_exit(E.RESTART_AFTER_PO, NOW),
        S.BUSY,
        E.RESTART_AFTER_PO,
        returns=False,
    ),
    Row(
        "restart when free: already restarting",
        At(S.RESTARTING, exit=E.RESTART),
        lambda s: s.request_exit(E.RESTART_AFTER_PO, NOW),
        S.RESTARTING,
        E.RESTART,
        returns=False,
    ),
    Row(
        "restart after its PO",
        At(S.IDLE, exit=E.RESTART_AFTER_PO),
        lambda s: s.request_exit(E.RESTART, NOW),
        S.RESTARTING,
        E.RESTART,
        returns=True,
    ),
    Row("stop: starting", At(S.STARTING), lambda s: s.request_exit(E.STOP, NOW), S.STOPPING, E.STOP, returns=True),
    Row(
        "stop: busy", At(S.BUSY, current="PO1"), lambda s: s.request_exit(E.STOP, NOW), S.STOPPING, E.STOP, returns=True
    ),
    Row(
        "stop: a restart wanted after its PO",
        At(S.BUSY, exit=E.RESTART_AFTER_PO, current="PO1"),
        lambda s: s.request_exit(E.STOP, NOW),
        S.STOPPING,
        E.STOP,
        returns=True,
    ),
    Row(
        "stop: its Shutdown already sent for a restart",
        At(S.RESTARTING, exit=E.RESTART),
        lambda s: s.request_exit(E.STOP, NOW),
        S.STOPPING,
        E.STOP,
        returns=False,
        extra={"exit_sent_mono": 0.0},
    ),
    Row(
        "stop: already stopping",
        At(S.STOPPING, exit=E.STOP),
        lambda s: s.request_exit(E.STOP, NOW),
        S.STOPPING,
        E.STOP,
        returns=False,
    ),
    Row(
        "stop: already stopped", At(S.STOPPED), lambda s: s.request_exit(E.STOP, NOW), S.STOPPED, E.NONE, returns=False
    ),
    Row("stop: retired", At(S.RETIRED), lambda s: s.request_exit(E.STOP, NOW), S.RETIRED, E.NONE, returns=False),
    # Its process left.
    Row(
        "exited: for a restart",
        At(S.RESTARTING, exit=E.RESTART),
        lambda s: s.exited(stopping=False),
        S.RESTARTING,
        returns=True,
    ),
    Row(
        "exited: for a restart, but the run stops",
        At(S.RESTARTING, exit=E.RESTART),
        lambda s: s.exited(stopping=True),
        S.STOPPED,
        returns=False,
    ),
    Row(
        "exited: stopping",
        At(S.STOPPING, exit=E.STOP),
        lambda s: s.exited(stopping=True),
        S.STOPPED,
        returns=False,
        extra={"tab_state": TabState.NONE, "open_tabs": 0},
    ),
    Row("exited: on its own", At(S.IDLE), lambda s: s.exited(stopping=False), S.STOPPED, returns=False),
    Row("exited: while starting", At(S.STARTING), lambda s: s.exited(stopping=False), S.STOPPED, returns=False),
    Row(
        "exited: clean, with POs unstarted",
        At(S.BUSY, current="PO1", queued=("PO2",)),
        lambda s: [f.key for f in s.take_unstarted()],
        S.BUSY,
        returns=["PO2", "PO1"],
        extra={"current": "", "queued": ()},
    ),
    # Crashes and kills.
    *(
        Row(
            f"crash: {live.name}",
            At(live, current="PO1" if live is S.BUSY else ""),
            lambda s: s.crash("gone"),
            S.CRASHED,
            extra={"message": "gone", "last_error": "gone"},
        )
        for live in LIVE
    ),
    Row(
        "after a crash: restart",
        At(S.CRASHED),
        lambda s: s.after_crash(counts=True, stopping=False, max_restarts=3),
        S.RESTARTING,
        returns=S.RESTARTING,
        extra={"restarts": 1},
    ),
    Row(
        "after a forced restart: not counted",
        At(S.CRASHED),
        lambda s: s.after_crash(counts=False, stopping=False, max_restarts=0),
        S.RESTARTING,
        returns=S.RESTARTING,
        extra={"restarts": 0},
    ),
    Row(
        "after a crash: restarts used up",
        At(S.CRASHED),
        lambda s: (s.crash("hung"), s.after_crash(counts=True, stopping=False, max_restarts=0))[1],
        S.RETIRED,
        returns=S.RETIRED,
        extra={"message": "retired after 0 restarts: hung"},
    ),
    Row(
        "after a crash: the run stops",
        At(S.CRASHED),
        lambda s: s.after_crash(counts=True, stopping=True, max_restarts=3),
        S.STOPPED,
        returns=S.STOPPED,
    ),
    Row(
        "after a crash: the worker was stopping",
        At(S.CRASHED, exit=E.STOP),
        lambda s: s.after_crash(counts=True, stopping=False, max_restarts=3),
        S.STOPPED,
        returns=S.STOPPED,
    ),
    Row(
        "killed at the end",
        At(S.BUSY, current="PO1"),
        lambda s: s.killed("stopped by user"),
        S.STOPPED,
        extra={"message": "stopped by user"},
    ),
    Row("killed while the run cleans up", At(S.IDLE), lambda s: s.killed(None), S.STOPPED, extra={"message": ""}),
    Row(
        "killed: retired stays retired",
        At(S.RETIRED),
        lambda s: s.killed("interrupted"),
        S.RETIRED,
        extra={"message": ""},
    ),
    Row(
        "killed: its POs taken off",
        At(S.BUSY, current="PO1", queued=("PO2", "PO3")),
        lambda s: ([f.key for f in s.take_queued()], s.take_current().key),
        S.BUSY,
        returns=(["PO3", "PO2"], "PO1"),
        extra={"current": "", "queued": ()},
    ),
]


# Moves no caller makes: each raises and changes nothing.
ILLEGAL = [
    Row("started: a worker still running", At(S.IDLE), lambda s: s.started(handle(2), NOW, 9.0), S.IDLE),
    Row("started: a stopped worker", At(S.STOPPED), lambda s: s.started(handle(2), NOW, 9.0), S.STOPPED),
    Row("assign: starting", At(S.STARTING), lambda s: s.assign(flight("PO1")), S.STARTING),
    Row("assign: paused", At(S.PAUSED, holds=Hold.PAUSED), lambda s: s.assign(flight("PO1")), S.PAUSED),
    Row("assign: busy", At(S.BUSY, current="PO1"), lambda s: s.assign(flight("PO2")), S.BUSY),
    Row("assign: stopping", At(S.STOPPING, exit=E.STOP), lambda s: s.assign(flight("PO1")), S.STOPPING),
    Row("queue: idle", At(S.IDLE), lambda s: s.queue(flight("PO1")), S.IDLE),
    Row("queue: restarting", At(S.RESTARTING, exit=E.RESTART), lambda s: s.queue(flight("PO1")), S.RESTARTING),
    Row(
        "restart when free: a stopping worker with a PO",
        At(S.STOPPING, exit=E.STOP, current="PO1"),
        lambda s: s.request_exit(E.RESTART_AFTER_PO, NOW),
        S.STOPPING,
    ),
    Row("exit request without a reason", At(S.IDLE), lambda s: s.request_exit(E.NONE, NOW), S.IDLE),
    Row("crash: stopped", At(S.STOPPED), lambda s: s.crash("gone"), S.STOPPED),
    Row("crash: retired", At(S.RETIRED), lambda s: s.crash("gone"), S.RETIRED),
    Row(
        "after a crash that did not happen",
        At(S.BUSY, current="PO1"),
        lambda s: s.after_crash(counts=True, stopping=False, max_restarts=3),
        S.BUSY,
    ),
    Row(
        "after a crash: stopping, not crashed",
        At(S.STOPPING, exit=E.STOP),
        lambda s: s.after_crash(counts=False, stopping=False, max_restarts=3),
        S.STOPPING,
    ),
]


def _seen(slot: Slot, name: str) -> Any:
    value = getattr(slot, name)
    if name == "current":
        return value.key if value else ""
    if name == "queued":
        return tuple(f.key for f in value)
    return value


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_each_method_makes_its_move(row: Row) -> None:
    slot = row.at.slot()
    assert row.call(slot) == row.returns
    assert slot.state is row.state
    assert slot.exit is (row.at.exit if row.exit is None else row.exit)
    assert slot.holds == (row.at.holds if row.holds is None else row.holds)
    assert {name: _seen(slot, name) for name in row.extra} == row.extra


@pytest.mark.parametrize("row", ILLEGAL, ids=[r.id for r in ILLEGAL])
def test_each_move_no_caller_makes_raises_and_changes_nothing(row: Row) -> None:
    slot = row.at.slot()
    with pytest.raises((IllegalTransition, ValueError)):
        row.call(slot)
    assert (slot.state, slot.exit, slot.holds) == (row.state, row.at.exit, row.at.holds)
    assert (_seen(slot, "current"), _seen(slot, "queued")) == (row.at.current, row.at.queued)


def test_the_next_po_counts_its_timeout_from_the_report_of_the_one_before() -> None:
    slot = At(S.BUSY, current="PO1", queued=("PO2",)).slot()
    slot.report("PO1", 77.0)
    assert slot.current is not None and slot.current.assigned_mono == 77.0


@pytest.mark.parametrize(
    ("at", "can_take", "can_queue"),
    [
        (At(S.IDLE), True, False),
        (At(S.IDLE, holds=Hold.MEMORY), False, False),
        (At(S.PAUSED, holds=Hold.PAUSED), False, False),
        (At(S.STARTING), False, False),
        (At(S.BUSY, current="PO1"), False, True),
        (At(S.BUSY, current="PO1", queued=("PO2",)), False, False),  # one tab beside the current one is full
        (At(S.BUSY, current="PO1", holds=Hold.PAUSED), False, False),
        (At(S.BUSY, exit=E.RESTART_AFTER_PO, current="PO1"), False, False),
        (At(S.STOPPING, exit=E.STOP), False, False),
    ],
)
def test_who_gets_a_po(at: At, can_take: bool, can_queue: bool) -> None:
    slot = at.slot()
    assert (slot.can_take_po, slot.can_queue_po(1)) == (can_take, can_queue)


@pytest.mark.parametrize(
    ("at", "heading_to"),
    [
        (At(S.BUSY, current="PO1"), None),
        (At(S.BUSY, holds=Hold.PAUSED, current="PO1"), S.PAUSED),
        (At(S.BUSY, exit=E.RESTART_AFTER_PO, holds=Hold.PAUSED, current="PO1"), S.RESTARTING),
        (At(S.PAUSED, holds=Hold.PAUSED), None),
    ],
)
def test_the_row_says_where_a_busy_worker_is_heading(at: At, heading_to: WorkerState | None) -> None:
    assert at.slot().snapshot().heading_to is heading_to
