"""Handing pending POs to workers: one to each idle worker first, then more to busy ones, up to their tabs."""

from __future__ import annotations

import time

from popool_gui.batch.journal import Journal
from popool_gui.batch.model import PoResult, PoStatus
from popool_gui.browser.po_page import deliberate_wait_s
from popool_gui.pool import protocol as msg
from popool_gui.pool.empty_lists import EmptyLists
from popool_gui.pool.listener import PoolListener
from popool_gui.pool.pending import PendingQueue
from popool_gui.pool.slot import InFlight, Slot


class Dispatcher:
    def __init__(self, journal: Journal, pending: PendingQueue, looks: EmptyLists, tabs_per_worker: int) -> None:
        self._journal = journal
        self._pending = pending
        self._looks = looks
        self._tabs = tabs_per_worker

    def dispatch(self, slots: list[Slot], listener: PoolListener) -> None:
        for slot in slots:
            if not self._pending:
                return
            if slot.can_take_po:
                flight = self._assign(slot, slots, listener)
                if flight is not None:
                    slot.assign(flight)
        if self._tabs <= 1:
            return
        # Second pass, after every idle worker got a PO: fill the busy workers' tabs.
        for slot in slots:
            while self._pending and slot.can_queue_po(self._tabs):
                flight = self._assign(slot, slots, listener)
                if flight is None:
                    break
                slot.queue(flight)
        # Third pass: a second look at the head of the queue does not wait for a tab to free up. A busy worker takes
        # it one PO over its tabs and starts it at once, in one tab over the count (pool/worker.py): it is often the
        # last PO a run waits for.
        for slot in slots:
            if self._pending and slot.can_queue_po(self._tabs + 1):
                flight = self._assign(slot, slots, listener, express=True)
                if flight is not None:
                    slot.queue(flight)

    def _assign(self, slot: Slot, slots: list[Slot], listener: PoolListener, express: bool = False) -> InFlight | None:
        """Take a pending PO for `slot` (`express`: only an express one), mark it assigned and send it; None when
        there is none for it."""
        others_live = any(s.worker != slot.worker and s.live for s in slots)
        take = self._pending.take_express_for if express else self._pending.take_for
        while True:
            key = take(slot.worker, others_live=others_live, now=time.monotonic())
            if key is None:
                return None
            current = self._journal.result(key)
            if current.status.is_final:
                continue
            attempt = current.attempts + 1
            self._journal.mark_assigned(key, slot.worker, attempt, time.time())
            record = self._journal.record_for(key)
            second_look = current.empty_looks > 0
            floor_ms = self._looks.floor_ms(second_look=second_look)
            flight = InFlight(
                record=record,
                attempt=attempt,
                assigned_mono=time.monotonic(),
                deliberate_wait_s=deliberate_wait_s(floor_ms),
            )
            assert slot.handle is not None
            slot.handle.send(
                msg.ProcessPo(record=record, attempt=attempt, empty_wait_ms=floor_ms, second_look=second_look)
            )
            listener.on_result(PoResult(key=key, status=PoStatus.ASSIGNED, worker=slot.worker, attempts=attempt))
            return flight
