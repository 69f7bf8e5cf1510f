"""What the controller does with each event a worker sends: readiness, tab changes, a PO's report or return,
a sign-in retried, a failure or a clean exit."""

from __future__ import annotations

import time

from popool_gui.batch.model import PoResult
from popool_gui.pool import protocol as msg
from popool_gui.pool.outcomes import Outcomes
from popool_gui.pool.reporting import Reporter
from popool_gui.pool.slot import Exit, Slot
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
        slot.heard(time.monotonic())
        match event:
            case msg.WorkerReady():
                self._on_ready(slot, event)
            case msg.TabUpdate():
                slot.show_tab(event.state, event.detail, event.open_tabs)
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
        slot.ready(event.node)
        seconds = round(event.start_seconds, 2)
        self._reporter.say("info", "worker_ready", worker=slot.worker, browser_pid=event.browser_pid, seconds=seconds)

    def _on_po_done(self, slot: Slot, result: PoResult) -> None:
        flight = slot.flight(result.key)
        if flight is None:
            return  # a late report of a PO this worker no longer holds
        # Settled first: a login wall it met holds the worker, and so decides whether it shows idle or paused.
        self._outcomes.settle(result, flight, slot)
        if slot.report(result.key, time.monotonic()):
            self._supervisor.graceful_exit(slot, Exit.RESTART)

    def _on_po_returned(self, slot: Slot, key: str, reason: str) -> None:
        flight = slot.returned(key)
        if flight is None:
            return
        self._reporter.say("info", "po_returned", worker=slot.worker, po=key, reason=reason)
        self._outcomes.give_back(flight, reason)
