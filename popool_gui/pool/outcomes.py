"""What one attempt's report does to its PO: final (journal, counts), retried, requeued without using an attempt,
waiting for a sign-in, or sent back for a second look at an empty list."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace

from popool_gui.batch.journal import Journal
from popool_gui.batch.model import PoResult, PoStatus
from popool_gui.pool.disk_watch import DiskWatch
from popool_gui.pool.empty_lists import SECOND_LOOK_NOTE, EmptyLists
from popool_gui.pool.pending import PendingQueue
from popool_gui.pool.portal_watch import PortalWatch
from popool_gui.pool.reporting import Reporter, RunClock
from popool_gui.pool.results_file import ResultsFile
from popool_gui.pool.slot import Hold, InFlight, Slot
from popool_gui.settings import Settings

PORTAL_AWAY = "the portal was not answering: waiting for it with this PO's attempts kept"


class Outcomes:
    def __init__(
        self,
        settings: Settings,
        journal: Journal,
        pending: PendingQueue,
        looks: EmptyLists,
        results: ResultsFile,
        clock: RunClock,
        reporter: Reporter,
        watch: PortalWatch,
        disk: DiskWatch,
    ) -> None:
        self._settings = settings
        self._journal = journal
        self._pending = pending
        self._looks = looks
        self._results = results
        self._clock = clock
        self._reporter = reporter
        self._watch = watch
        self._disk = disk
        # POs that met a login wall and are not final yet: a headless run ends them as AUTH_REQUIRED.
        self.auth_keys: set[str] = set()
        # A PARTIAL attempt's result, while the PO is tried again: its files are on disk under that status, so a
        # later attempt that saves nothing must not end the PO as if there were none.
        self._partials: dict[str, PoResult] = {}
        # POs whose last attempt met an unreachable portal and got one more (see _portal_away).
        self._graced: set[str] = set()

    def settle(self, result: PoResult, flight: InFlight, slot: Slot | None) -> None:
        """Apply one attempt's outcome: final, requeued, or waiting for a sign-in."""
        key = flight.key
        current = self._journal.result(key)
        if current.status.is_final:
            # A late report for a PO that already has a final result: never process anything twice.
            return
        result.attempts = flight.attempt
        result.empty_looks = current.empty_looks
        self._looks.learn(result)
        self._pending.tried(key, slot.worker if slot else 0, time.monotonic())
        if result.disk_full is not None:
            # Not this PO's fault, and it left nothing on disk: it waits, with its attempt, for room.
            self._disk.full(result.disk_full, time.monotonic())
            self._reporter.say("warning", "disk_full", po=key, error=result.error)
            self.give_back(flight, result.error)
            return
        if result.unreachable and self._portal_away(result, flight):
            return
        if not result.unreachable and self._watch.reached():
            self._reporter.say("info", "portal_back", po=key)
        if result.status is PoStatus.AUTH_REQUIRED:
            self._wait_for_sign_in(result, flight, slot)
            return
        if result.status is PoStatus.PARTIAL:
            self._partials[key] = result
        if result.transient and flight.attempt < self._settings.max_attempts:
            self._reporter.say(
                "warning",
                "po_retry",
                worker=slot.worker if slot else None,
                po=key,
                attempt=flight.attempt,
                error=result.error,
            )
            self.requeue(key, result.error, flight.attempt)
            return
        if result.transient:
            # Out of attempts. A PARTIAL keeps its status: its files are on disk, and the error names the rest;
            # so does a PO whose last attempt saved nothing after an earlier one saved some.
            error = result.error
            if result.status is not PoStatus.PARTIAL and key in self._partials:
                result = replace(self._partials[key], attempts=flight.attempt, finished_at=result.finished_at)
            elif result.status is not PoStatus.PARTIAL:
                result.status = PoStatus.FAILED
            result.error = f"gave up after {flight.attempt} attempts: {error}"
        self._partials.pop(key, None)
        result.transient = False
        if self._looks.look_again(result):
            self._queue_second_look(result, flight, slot)
            return
        self._final(result, slot)

    def _portal_away(self, result: PoResult, flight: InFlight) -> bool:
        """While the portal may be away, a PO that could not reach it waits with its attempt. False: an ordinary
        failure of this PO, counted as such."""
        was_holding = self._watch.holding
        if not self._watch.unreachable(flight.key, flight.attempt, time.monotonic()):
            if flight.attempt < self._settings.max_attempts or flight.key in self._graced:
                return False
            # Its last attempt, spent on a portal it could not reach: maybe the start of an outage the streak has
            # not proved yet. It waits once more, with its attempt, rather than end FAILED for the network.
            self._graced.add(flight.key)
            self.give_back(flight, PORTAL_AWAY)
            return True
        if not was_holding:
            self._reporter.say("warning", "portal_unreachable", po=flight.key, error=result.error)
        self.give_back(flight, PORTAL_AWAY)
        return True

    def refund(self, suspects: list[tuple[str, int]]) -> None:
        """The outage is confirmed: the POs of the streak that started the hold get back the attempt it cost them
        (those still waiting for their next one; a PO in flight or final again is left as it is)."""
        for key, attempt in suspects:
            current = self._journal.result(key)
            if current.status is PoStatus.PENDING and current.attempts >= attempt:
                self.requeue(key, PORTAL_AWAY, attempt - 1)

    def requeue(self, key: str, error: str, attempts: int, *, front: bool = False) -> None:
        self._journal.requeue(key, error, attempts)
        if key not in self._pending:  # a PO already waiting keeps its one place: twice queued is twice run
            self._pending.push(key, front=front)
        self._results.changed()
        self._reporter.listener.on_result(PoResult(key=key, status=PoStatus.PENDING, attempts=attempts, error=error))

    def give_back(self, flight: InFlight, reason: str) -> None:
        """Put a PO its worker never really worked on back at the front of the queue; its attempt does not count."""
        self.requeue(flight.key, reason, flight.attempt - 1, front=True)

    def give_back_all(self, flights: Iterable[InFlight], reason: str) -> None:
        """Give back the POs a worker will not process (no attempt is used), each in turn to the front."""
        for flight in flights:
            self.give_back(flight, reason)

    def retry(self, keys: tuple[str, ...], held: set[str]) -> None:
        """The user's retry: a clean slate and a place in the queue for each PO that has a result to retry; one
        already waiting or with a worker is left alone."""
        wanted = [k for k in keys if k not in held and k not in self._pending and self._has_result(k)]
        for key in self._journal.reset_many(wanted):
            self.auth_keys.discard(key)
            self._pending.push(key)
            self._reporter.listener.on_result(PoResult(key=key, status=PoStatus.PENDING))
            self._reporter.say("info", "po_requeued_by_user", po=key)
        self._results.changed()

    def _has_result(self, key: str) -> bool:
        try:
            status = self._journal.result(key).status
        except KeyError:
            return False
        return status.is_final or status is PoStatus.AUTH_REQUIRED

    def end_sign_in_waits(self) -> None:
        """Nobody can sign in (headless): the POs that met a login wall end as AUTH_REQUIRED."""
        for key in sorted(self.auth_keys):
            result = replace(
                self._journal.result(key),
                status=PoStatus.AUTH_REQUIRED,
                error="sign-in required",
                finished_at=time.time(),
                transient=False,
            )
            self._journal.record(result)
            self._results.changed()
            self._reporter.listener.on_result(result)

    def _wait_for_sign_in(self, result: PoResult, flight: InFlight, slot: Slot | None) -> None:
        key = flight.key
        self.requeue(key, result.error or "sign-in required", flight.attempt - 1, front=True)
        self.auth_keys.add(key)
        if slot is None:
            return
        headless = self._settings.headless
        slot.hold(Hold.SIGN_IN)
        self._reporter.say("warning", "sign_in_required", worker=slot.worker, po=key, headless=headless)
        self._reporter.listener.on_auth_required(slot.worker, key, headless)

    def _queue_second_look(self, result: PoResult, flight: InFlight, slot: Slot | None) -> None:
        key = result.key
        self._journal.requeue_for_second_look(key, flight.attempt - 1, SECOND_LOOK_NOTE)
        # At the front: the second look is a fresh page load with a longer wait, so it needs no delay, and queued
        # last it would be a tail of long waits at the end of every run. It goes to another worker where it can, and
        # does not wait there for a tab to free up (express: Dispatcher.dispatch).
        self._pending.push(key, front=True, express=True)
        self._results.changed()
        self._reporter.say("info", "second_look_queued", worker=slot.worker if slot else None, po=key)
        # The first look's clock goes with it: what an empty PO costs is the sum of its looks.
        self._reporter.listener.on_result(
            replace(result, status=PoStatus.PENDING, attempts=flight.attempt - 1, error=SECOND_LOOK_NOTE)
        )

    def _final(self, result: PoResult, slot: Slot | None) -> None:
        self.auth_keys.discard(result.key)
        self._journal.record(result)
        self._results.changed()
        self._clock.finished_one()
        failed = result.status in (PoStatus.FAILED, PoStatus.PARTIAL)
        if slot is not None:
            slot.count(failed=failed)
        self._reporter.say(
            "warning" if failed else "info",
            "po_finished",
            worker=result.worker,
            po=result.key,
            status=str(result.status),
            downloaded=result.attachments_downloaded,
            found=result.attachments_found,
            error=result.error,
        )
        self._reporter.listener.on_result(result)
