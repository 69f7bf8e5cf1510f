"""What the controller does with each event a worker sends: readiness, tab changes, a PO's report or return,
a sign-in retried, a failure or a clean exit."""

from __future__ import annotations

import time

from popool_gui.batch.model import PoResult, WorkerState
from popool_gui.pool import protocol as msg
from popool_gui.pool.outcomes import Outcomes
from popool_gui.pool.reporting import Reporter
from popool_gui.pool.slot import Exit, Hold, Slot
from popool_gui.pool.supervisor import Supervisor


class WorkerEvents:
    def __init__(self, slots: list[Slot], supervisor: Supervisor, outcomes: Outcomes, reporter: Reporter) -> None:
        self._slots = slots
        self._supervisor = supervisor
        self._outcomes = outcomes
        self._reporter = reporter

    def _slot_for(self, event: msg.WorkerEvent) -> Slot | None:
        if not 1 <= event.worker <= len(self._slots):
            return None
        slot = self._slots[event.worker - 1]
        # Messages from a process already replaced or killed must not touch the new one's state.
        return slot if slot.generation == event.generation and slot.live else None

    def handle(self, event: msg.WorkerEvent) -> None:
        slot = self._slot_for(event)
        if slot is None:
            return
        slot.last_beat_mono = time.monotonic()
        match event:
            case msg.WorkerReady():
                self._on_ready(slot, event)
            case msg.TabUpdate():
                slot.tab_state, slot.tab_detail, slot.open_tabs = event.state, event.detail, event.open_tabs
            case msg.PoDone():
                self._on_po_done(slot, event.result)
            case msg.PoReturned():
                self._on_po_returned(slot, event.key, event.reason)
            case msg.SignedIn():
                level = "info" if event.ok else "warning"
                self._reporter.say(level, "signed_in_again", worker=slot.worker, ok=event.ok, message=event.message)
            case msg.WorkerFailed():
                what = "browser_start_failed" if event.during_start else "browser_died"
                self._supervisor.crash(slot, event.error, event=what)
            case msg.WorkerExited():
                self._supervisor.grid.forget(slot.worker)  # it quit its browser: its Grid session is gone
                self._supervisor.exited(slot)

    def _on_ready(self, slot: Slot, event: msg.WorkerReady) -> None:
        assert slot.handle is not None
        slot.handle.tree.add_root(event.driver_pid)
        slot.handle.tree.add_root(event.browser_pid)
        slot.handle.browser_pid = event.browser_pid
        self._supervisor.grid.remember(slot.worker, event.session_id, event.node)
        slot.node = event.node
        if slot.state is WorkerState.STARTING:
            slot.state = WorkerState.PAUSED if Hold.PAUSED in slot.holds else WorkerState.IDLE
            slot.message = ""
        seconds = round(event.start_seconds, 2)
        self._reporter.say("info", "worker_ready", worker=slot.worker, browser_pid=event.browser_pid, seconds=seconds)

    def _on_po_done(self, slot: Slot, result: PoResult) -> None:
        flight = slot.current
        if flight is None or flight.key != result.key:
            # A PO sent ahead (tab pipelining) reports while the slot is not on it, e.g. its worker met a login
            # wall on the PO before and keeps working through its queue: settle it all the same.
            ahead = slot.pop_queued(result.key)
            if ahead is not None:
                self._outcomes.settle(result, ahead, slot)
            return
        slot.current = None
        slot.clear_tab()
        self._outcomes.settle(result, flight, slot)
        if slot.queued and slot.exit is Exit.NONE:
            # The worker starts its next queued PO right now: its PO timeout counts from here. Not when a Shutdown
            # goes out just below: the worker may see it first and leave that PO unstarted.
            slot.current = slot.queued.popleft()
            slot.current.assigned_mono = time.monotonic()
        elif slot.state is WorkerState.BUSY:
            slot.state = slot.idle_state()
        if slot.exit is Exit.RESTART_AFTER_PO and slot.state not in (WorkerState.STOPPING, WorkerState.RESTARTING):
            self._supervisor.graceful_exit(slot, Exit.RESTART)

    def _on_po_returned(self, slot: Slot, key: str, reason: str) -> None:
        if slot.current is not None and slot.current.key == key:
            flight, slot.current = slot.current, None
            slot.clear_tab()
        else:
            flight = slot.pop_queued(key)
            if flight is None:
                return
        self._reporter.say("info", "po_returned", worker=slot.worker, po=key, reason=reason)
        self._outcomes.give_back(flight, reason)
