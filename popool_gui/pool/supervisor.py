"""The workers' lives: starting a process, watching it (exit, heartbeat, start and PO timeouts), and ending it
gracefully (Shutdown after the current PO) or at once (kill), with a restart unless its restarts are used up."""

from __future__ import annotations

import time
from collections.abc import Callable

from popool_gui.batch.model import PoResult, PoStatus, WorkerState
from popool_gui.browser.portal import PortalProfile
from popool_gui.pool import protocol as msg
from popool_gui.pool.grid_sessions import GridSessions
from popool_gui.pool.outcomes import Outcomes
from popool_gui.pool.processes import Spawner
from popool_gui.pool.reporting import Reporter
from popool_gui.pool.slot import Exit, InFlight, Slot
from popool_gui.pool.stop import StopSequence
from popool_gui.pool.workspace import Workspace
from popool_gui.settings import Settings


class Supervisor:
    def __init__(
        self,
        settings: Settings,
        portal: PortalProfile,
        workspace: Workspace,
        spawner: Spawner,
        outcomes: Outcomes,
        reporter: Reporter,
        stop: StopSequence,
        *,
        drain: Callable[[Slot], None],
        show: Callable[[], None],
        grid: GridSessions,
    ) -> None:
        self._settings = settings
        self._portal = portal
        self._workspace = workspace
        self._spawner = spawner
        self._outcomes = outcomes
        self._reporter = reporter
        self._stop = stop
        self._drain = drain  # handle what a worker sent before it ended
        self._show = show  # report the workers' rows now
        self.grid = grid  # the workers' Grid sessions: a worker ended here has its session deleted at once

    @property
    def stopping(self) -> bool:
        return self._stop.stopping

    def spawn(self, slot: Slot) -> None:
        config = msg.WorkerConfig(
            worker=slot.worker,
            generation=slot.generation + 1,
            settings=self._settings,
            portal=self._portal,
            output_dir=self._workspace.output_dir,
            staging_dir=self._workspace.staging(slot.worker),
            user_data_dir=self._workspace.profile(slot.worker),
            cookies=self.grid.cookies,
        )
        now = time.monotonic()
        handle = self._spawner.spawn(config, now)
        if slot.handle is not None:
            slot.handle.close_events()
        slot.started(handle, now, time.time())
        self._reporter.say("info", "worker_starting", worker=slot.worker, pid=handle.pid, generation=slot.generation)

    def check(self, slots: list[Slot], now: float) -> None:
        settings = self._settings
        for slot in slots:
            handle = slot.handle
            if not slot.live or handle is None:
                continue
            if handle.exitcode is not None:
                # What it sent before it ended (its last result, WorkerExited) counts before its exit does.
                self._drain(slot)
                if slot.handle is not handle or not slot.live:
                    continue
                if not slot.exit.sent or handle.exitcode != 0:
                    self.crash(slot, f"worker process exited with code {handle.exitcode}")
                else:
                    self.exited(slot)
            elif now - slot.last_beat_mono > settings.heartbeat_timeout_s:
                self.crash(slot, f"no heartbeat for {settings.heartbeat_timeout_s:.0f} s")
            elif slot.state is WorkerState.STARTING and now - handle.spawn_mono > settings.start_timeout_s:
                self.crash(slot, f"browser did not start within {settings.start_timeout_s:.0f} s")
            elif slot.current and now - slot.current.assigned_mono > (
                limit := settings.po_timeout_s + slot.current.deliberate_wait_s
            ):
                self.crash(slot, _timeout_reason(slot.current, settings.po_timeout_s, limit))
            elif slot.exit.sent and slot.current is None and now - slot.exit_sent_mono > settings.shutdown_timeout_s:
                self._reporter.say("warning", "worker_exit_timeout", worker=slot.worker)
                self.exited(slot)

    def crash(self, slot: Slot, reason: str, *, event: str = "worker_crashed", counts: bool = True) -> None:
        """Kill the worker's whole tree, send its PO back, and restart it unless its restarts are used up."""
        self._reporter.say("error", event, worker=slot.worker, reason=reason, restarts=slot.restarts)
        slot.crash(reason)
        self._show()
        flight = self.kill(slot, reason)
        if flight is not None:
            failure = PoResult(
                key=flight.key,
                status=PoStatus.FAILED,
                error=reason,
                transient=True,
                worker=slot.worker,
                started_at=None,
                finished_at=time.time(),
            )
            self._outcomes.settle(failure, flight, slot)
        then = slot.after_crash(counts=counts, stopping=self._stop.stopping, max_restarts=self._settings.max_restarts)
        if then is WorkerState.RETIRED:
            self._reporter.say("error", "worker_retired", worker=slot.worker, reason=reason)
        elif then is WorkerState.RESTARTING:
            self.spawn(slot)

    def kill(self, slot: Slot, reason: str) -> InFlight | None:
        """Kill the worker's tree now and requeue the POs sent ahead to it; returns the PO it was on, if any."""
        if slot.handle is not None:
            slot.handle.kill()
        self._reap(slot)
        self._outcomes.give_back_all(slot.take_queued(), reason)
        return slot.take_current()

    def kill_all(self, slots: list[Slot], reason: str, *, interrupted: bool) -> None:
        """Kill every worker now; the POs in flight go back to PENDING without using an attempt.

        `interrupted`: the run is ending anyway (its clean-up), so the workers' rows keep their last message.
        """
        for slot in slots:
            if slot.handle is None and not interrupted:
                continue
            flight = self.kill(slot, reason)
            if flight is not None:
                self._outcomes.requeue(flight.key, reason, flight.attempt - 1)
            slot.killed(None if interrupted else reason)

    def graceful_exit(self, slot: Slot, reason: Exit) -> None:
        """Ask the worker to quit its browser and exit once the POs it started are done (`Slot.request_exit`)."""
        if slot.request_exit(reason, time.monotonic()) and slot.handle is not None:
            slot.handle.send(msg.Shutdown())

    def restart_when_free(self, slot: Slot) -> None:
        """Restart now when the worker has no PO, else right after it reports the current one."""
        self.graceful_exit(slot, Exit.RESTART_AFTER_PO)

    def stop_gracefully(self, slot: Slot) -> None:
        self.graceful_exit(slot, Exit.STOP)

    def exited(self, slot: Slot) -> None:
        self._reap(slot)
        self._outcomes.give_back_all(slot.take_unstarted(), "the worker stopped before starting it")
        if slot.exited(stopping=self._stop.stopping):
            self.spawn(slot)
        else:
            self._reporter.say("info", "worker_stopped", worker=slot.worker)

    def _reap(self, slot: Slot) -> None:
        self.grid.release(slot.worker)  # a no-op for a worker that quit its browser itself (WorkerExited)
        if slot.handle is not None:
            left = slot.handle.reap()
            if left:
                self._reporter.say("error", "processes_survived_kill", worker=slot.worker, pids=left)
        slot.record_memory(0.0)


def _timeout_reason(flight: InFlight, po_timeout_s: float, limit_s: float) -> str:
    reason = f"PO {flight.key} took longer than {limit_s:.0f} s"
    if flight.deliberate_wait_s:
        reason += (
            f" (the PO timeout, {po_timeout_s:.0f} s, plus {flight.deliberate_wait_s:.0f} s for its lists to render)"
        )
    return reason
