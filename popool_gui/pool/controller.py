"""`PoolController`: the single owner of a run's state, and the facade the CLI, the window and the tests use.

It starts the worker processes, assigns each PO to one worker explicitly, records every result in the
journal as it arrives, enforces timeouts, restarts, the memory policy and the shutdown deadline, and
reports everything to a `PoolListener`. Plain Python: the CLI calls `run()` directly, the GUI calls it
from a QThread. Other threads talk to it only through the thread-safe command methods.

The parts it orchestrates, each a module of popool_gui/pool: `workspace` (folders, lock, journal), `processes` and
`supervisor` (the workers' lives), `event_handlers` (what a worker reports), `dispatch` and `pending` (who gets
which PO), `outcomes` and `empty_lists` (what a report does to its PO), `commands` and `worker_commands` (the user's),
`stop` (the stop sequence), `memory_guard` over `memory_policy`, `reporting`, `results_file` and `report_writer`
(popool-report.html at every end), `keep_awake` (no sleep while the loop runs).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from pathlib import Path

import structlog

from popool_gui.batch.journal import Journal
from popool_gui.batch.model import (
    Batch,
    PoResult,
    RenderFigures,
    RunSnapshot,
    RunState,
    RunSummary,
    WorkerState,
)
from popool_gui.browser.backend import backend_kind
from popool_gui.browser.errors import ProfileCloneError
from popool_gui.browser.grid import GridPreflightError
from popool_gui.browser.portal import PortalProfile, load_portal
from popool_gui.pool import grid_sessions
from popool_gui.pool.commands import PauseWorker, RestartWorker, ResumeWorker, RetryPo, StopRun, UserCommand
from popool_gui.pool.disk_watch import DiskWatch
from popool_gui.pool.dispatch import Dispatcher
from popool_gui.pool.empty_lists import EmptyLists
from popool_gui.pool.event_handlers import WorkerEvents
from popool_gui.pool.grid_sessions import GridSessions
from popool_gui.pool.keep_awake import keep_awake
from popool_gui.pool.listener import NullListener, PoolListener
from popool_gui.pool.memory import system_memory_pct
from popool_gui.pool.memory_guard import MemoryGuard
from popool_gui.pool.memory_policy import MemoryPolicy
from popool_gui.pool.outcomes import Outcomes
from popool_gui.pool.output_gate import OutputGate
from popool_gui.pool.pending import PendingQueue
from popool_gui.pool.portal_watch import PortalWatch, streak_for, waiting_message
from popool_gui.pool.processes import Spawner, ready_handles
from popool_gui.pool.report_writer import RunPeaks, write_end_report
from popool_gui.pool.reporting import Reporter, RunClock, run_snapshot
from popool_gui.pool.results_file import ResultsFile
from popool_gui.pool.slot import Hold, Slot
from popool_gui.pool.stop import StopSequence
from popool_gui.pool.supervisor import Supervisor
from popool_gui.pool.worker import worker_main
from popool_gui.pool.worker_commands import worker_command
from popool_gui.pool.workspace import SIGN_IN_BROWSER, Workspace, sweep_stale
from popool_gui.redact import redact_urls
from popool_gui.settings import Settings

log = structlog.get_logger()

TICK_S = 0.1
MEMORY_INTERVAL_S = 2.0


class PoolController:
    """Runs one batch with a pool of browser worker processes. See the module docstring.

    Construction does no I/O; `open()` takes the output folder and opens its journal (raising what the user must
    fix: PortalError, OutputInUseError, JournalMismatchError...), and `run()` opens it first when nobody did.
    """

    def __init__(
        self,
        settings: Settings,
        batch: Batch,
        listener: PoolListener | None = None,
        *,
        accept_new_input: bool = False,
        start_over: bool = False,
        wait_for_sign_in: bool | None = None,
        portal: PortalProfile | None = None,
        worker_target: Callable[..., None] = worker_main,
        queue_depth: int | None = None,
    ) -> None:
        self.settings = settings
        self.batch = batch
        self._reporter = Reporter(listener or NullListener())
        self._accept_new_input = accept_new_input
        self._start_over = start_over  # forget a damaged journal first (OutputGate.open)
        self._portal = portal
        # A person can sign in only in a visible browser; headless runs end instead of waiting.
        self.wait_for_sign_in = (not settings.headless) if wait_for_sign_in is None else wait_for_sign_in
        self._spawner = Spawner(worker_target)
        # POs sent ahead of a worker's current one: a browser preloads them in tabs (tabs_per_worker); an API lane
        # works on all of them at once (api/engine.py).
        self._queue_depth = settings.tabs_per_worker if queue_depth is None else queue_depth
        self._workspace = Workspace(settings)
        self._commands: queue.Queue[UserCommand] = queue.Queue()
        self._state = RunState.IDLE
        self._outcome: RunState | None = None  # decided before the clean-up that reports it
        self._stop = StopSequence()
        self._slots: list[Slot] = []
        self._pending = PendingQueue()
        self._clock = RunClock()
        self._system_pct = 0.0
        self._peaks = RunPeaks()
        self._last_memory = 0.0
        self._message = ""
        self._grid = GridSessions(settings.grid_url)

    # ----------------------------------------------------------------- open and close

    def open(self) -> PoolController:
        """Load the portal, take the output folder and open (seed or resume) its journal; idempotent."""
        if self._workspace.is_open:
            return self
        self.portal = self._portal or load_portal(self.settings.portal, self.settings.base_url)
        self.portal.require_base_url()
        self._workspace.open(self.batch, accept_new_input=self._accept_new_input, start_over=self._start_over)
        journal = self._workspace.journal
        say = self._reporter.say
        self._looks = EmptyLists(self.portal.attachments, say)
        self._results = ResultsFile(
            self._workspace.output_dir, journal, self.settings.results_format, Path(self.batch.source), self._reporter
        )
        self._watch = PortalWatch(self.portal.base_url, streak_for(self.settings.workers))
        self._disk = DiskWatch()
        self._outcomes = Outcomes(
            self.settings,
            journal,
            self._pending,
            self._looks,
            self._results,
            self._clock,
            self._reporter,
            self._watch,
            self._disk,
        )
        self._dispatcher = Dispatcher(journal, self._pending, self._looks, self._queue_depth)
        self._supervisor = Supervisor(
            self.settings,
            self.portal,
            self._workspace,
            self._spawner,
            self._outcomes,
            self._reporter,
            self._stop,
            drain=self._drain_slot,
            show=lambda: self._emit_changes(time.monotonic()),
            grid=self._grid,
        )
        self._memory = _memory_guard(self.settings, self._supervisor, self._reporter)
        self._events = WorkerEvents(self._slots, self._supervisor, self._outcomes, self._reporter)
        return self

    def close(self) -> None:
        """Release what `open()` took, for a controller that will not run (`run()` releases it itself)."""
        self._workspace.close()

    # ----------------------------------------------------------------- thread-safe commands

    def stop(self) -> None:
        """First call: graceful stop within `shutdown_timeout_s`. Second call: force it now."""
        self._commands.put(StopRun())

    def pause(self, worker: int) -> None:
        self._commands.put(PauseWorker(worker))

    def resume(self, worker: int) -> None:
        self._commands.put(ResumeWorker(worker))

    def restart(self, worker: int) -> None:
        """Graceful (after the current PO); a second request while one is pending forces it."""
        self._commands.put(RestartWorker(worker))

    def retry(self, *po_keys: str) -> None:
        """Put finished POs back in the queue (see `Outcomes.retry`); thread-safe like the other commands."""
        self._commands.put(RetryPo(tuple(po_keys)))

    def po_results(self) -> list[PoResult]:
        return self.journal.all_results()

    @property
    def journal(self) -> Journal:
        return self._workspace.journal

    @property
    def gate(self) -> OutputGate:
        """The output folder's one gate, held by this controller once open: resets go through it."""
        return self._workspace.gate

    @property
    def output_dir(self) -> Path:
        return self._workspace.output_dir

    @property
    def listener(self) -> PoolListener:
        return self._reporter.listener

    @listener.setter
    def listener(self, listener: PoolListener) -> None:
        self._reporter.listener = listener

    @property
    def state(self) -> RunState:
        return self._state

    @property
    def first_result_seconds(self) -> float | None:
        """Seconds from run start to the first finished PO (benchmarks read it)."""
        return self._clock.first_result_s

    # ----------------------------------------------------------------- run

    def run(self) -> RunSummary:
        """Process the batch; returns when every PO is final, the run is stopped, or no worker can run.

        The machine is kept awake for as long as this thread runs the loop, and released however it ends."""
        with keep_awake(self.settings.keep_awake):
            return self._run()

    def _run(self) -> RunSummary:
        self.open()
        self._clock.start()
        self._set_state(RunState.STARTING)
        sweep_stale(self._reporter.say)
        for key in (r.key for r in self.journal.pending()):
            self._pending.push(key)
        self._reporter.say(
            "info",
            "run_started",
            total=len(self.journal.all_results()),
            pending=len(self._pending),
            workers=self.settings.workers,
            output=str(self.output_dir),
        )
        try:
            if self._pending:
                self._start_workers()
                self._set_state(RunState.RUNNING)
                self._loop()
            self._decide_outcome()
        except ProfileCloneError as exc:
            # The user's profile setting is wrong or the profile is locked: their problem to fix, not a crash.
            log.error("profile_clone_failed", error=str(exc))
            self._fail(str(exc), "profile clone failed")
            raise
        except GridPreflightError as exc:
            # The Grid cannot run the batch as configured (or the sign-in its browsers need failed): the message
            # names the fix, and no worker waits in the Grid's queue first.
            log.error("grid_not_usable", error=str(exc))
            self._fail(str(exc), "Selenium Grid not usable")
            raise
        except Exception as exc:
            log.exception("controller_crashed")
            self._fail(f"internal error: {type(exc).__name__}: {exc}", "controller error")
            raise
        finally:
            self._clean_up()
            summary = self._write_report(self._summary())
            self._workspace.close()
        return summary

    def _start_workers(self) -> None:
        _grid_preflight(self.settings, self._reporter)
        self._slots.extend(Slot(worker=i + 1) for i in range(self.settings.workers))
        self._workspace.prepare((s.worker for s in self._slots), self._reporter.say)
        if not backend_kind(self.settings).browsers_here:  # a profile on this machine cannot reach a Grid node
            _grid_sign_in(self.settings, self.portal, self._workspace, self._grid, self._reporter)
        for slot in self._slots:
            self._supervisor.spawn(slot)

    def _loop(self) -> None:
        while True:
            self._drain_commands()
            for slot in self._slots:
                self._drain_slot(slot)
            now = time.monotonic()
            self._supervisor.check(self._slots, now)
            if now - self._last_memory >= MEMORY_INTERVAL_S:
                self._last_memory = now
                self._apply_memory_policy(now)
            if self._stop.stopping and self._stop.expired(now):
                self._reporter.say("warning", "shutdown_timeout", timeout_s=self.settings.shutdown_timeout_s)
                self._force("stopped: shutdown timeout reached")
            ended, confirmed = self._watch.tick(now)
            self._outcomes.refund(confirmed)
            if ended:
                event = "portal_trial" if self._watch.trial else "portal_back"
                self._reporter.say("info", event, probes=self._watch.probes)
            if self._disk.tick(now):
                self._reporter.say("info", "disk_has_room", folder=str(self._disk.folder))
            if not self._stop.stopping and not self._watch.holding and not self._disk.holding:
                self._dispatcher.dispatch(self._slots, self.listener)
                self._check_end()
            self._emit_changes(now)
            self._results.maybe_write(now)
            if all(not s.live for s in self._slots):
                return
            self._wait_event()

    # ----------------------------------------------------------------- events from workers

    def _wait_event(self) -> None:
        handles = [s.handle for s in self._slots if s.handle is not None and s.handle.events is not None]
        if not handles:
            time.sleep(TICK_S)
            return
        for handle in ready_handles(handles, TICK_S):
            slot = next((s for s in self._slots if s.handle is handle), None)
            # A slot whose worker was replaced while these pipes were being read no longer wants this one.
            event = handle.receive() if slot is not None else None
            if event is not None:
                self._events.handle(event)

    def _drain_slot(self, slot: Slot) -> None:
        while slot.handle is not None and (event := slot.handle.receive()) is not None:
            self._events.handle(event)

    # ----------------------------------------------------------------- user commands

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            self._handle(command)

    def _handle(self, command: UserCommand) -> None:
        match command:
            case StopRun():
                if self._stop.phase.by_user:
                    self._reporter.say("warning", "force_stop")
                    self._force("stopped by user")
                else:
                    self._begin_stop(by_user=True)
            case RetryPo(keys=keys):
                held = {f.key for s in self._slots for f in (s.current, *s.queued) if f is not None}
                self._outcomes.retry(keys, held)
            case PauseWorker() | ResumeWorker() | RestartWorker():
                if 1 <= command.worker <= len(self._slots):
                    worker_command(self._slots[command.worker - 1], command, self._supervisor, self._reporter)

    # ----------------------------------------------------------------- end and stop

    def _check_end(self) -> None:
        live = [s for s in self._slots if s.live]
        if not live:
            return
        busy = any(s.busy for s in live)
        if not self._pending and not busy:
            self._begin_stop(by_user=False)
            return
        waiting_sign_in = [s for s in live if Hold.SIGN_IN in s.holds]
        if not self.wait_for_sign_in and not busy and len(waiting_sign_in) == len(live):
            self._message = "sign-in required: run once with a visible browser and sign in to the portal"
            self._outcomes.end_sign_in_waits()
            self._begin_stop(by_user=False)

    def _begin_stop(self, *, by_user: bool) -> None:
        timeout = self.settings.shutdown_timeout_s
        if not self._stop.begin(by_user=by_user, timeout_s=timeout):
            return
        self._set_state(RunState.STOPPING)
        self._reporter.say("info", "stopping", early=by_user, timeout_s=timeout)
        for slot in self._slots:
            self._supervisor.stop_gracefully(slot)

    def _force(self, reason: str) -> None:
        self._stop.force()
        self._supervisor.kill_all(self._slots, reason, interrupted=False)

    def _fail(self, message: str, reason: str) -> None:
        self._message = message
        self._outcome = RunState.FAILED
        self._force(reason)

    def _decide_outcome(self) -> None:
        if self._outcome is None:
            retired = _all_retired(self._slots)
            self._outcome = RunState.FAILED if retired else RunState.FINISHED
            self._message = retired or self._message

    def _clean_up(self) -> None:
        self._watch.close()
        self._supervisor.kill_all(self._slots, "interrupted", interrupted=True)
        self._grid.release_all()
        for problem in self._workspace.remove_run_folder():
            self._reporter.say("error", "run_folder_not_removed", problem=problem)
        for slot in self._slots:
            if slot.handle is not None:
                slot.handle.close_events()
        note, failed = _write_results(self._results, self.journal, self._reporter)
        if failed:
            self._message = f"{note}; {self._message}" if self._message else note
            self._outcome = RunState.FAILED
        elif note:
            self._message = f"{self._message}; {note}" if self._message else note
        self._state = self._outcome or RunState.FINISHED
        self._emit_changes(time.monotonic())
        self.listener.on_run(self._run_snapshot())
        _say_finished(self._reporter, self._state, self._clock, self._looks.figures())

    # ----------------------------------------------------------------- memory policy

    def _apply_memory_policy(self, now: float) -> None:
        self._system_pct = system_memory_pct()
        self._memory.sample_and_apply(self._slots, self._system_pct, now, stopping=self._stop.stopping)
        self._peaks.sample(self._slots, self._system_pct)

    # ----------------------------------------------------------------- reporting

    def _set_state(self, state: RunState) -> None:
        self._state = state
        self.listener.on_run(self._run_snapshot())

    def _emit_changes(self, now: float) -> None:
        self._reporter.workers_changed(self._slots)
        if self._reporter.run_due(now):
            self.listener.on_run(self._run_snapshot())

    def _run_snapshot(self) -> RunSnapshot:
        deadline = self._stop.deadline
        return run_snapshot(
            self._state,
            self.journal.counts(),
            self._clock,
            pending=len(self._pending),
            in_flight=sum(1 + len(s.queued) for s in self._slots if s.current),
            system_memory_pct=self._system_pct,
            memory_threshold_pct=self.settings.memory_threshold_pct,
            stop_deadline=deadline.epoch if deadline is not None else None,
            message=self._message,
            waiting=self._disk.message() or waiting_message(self._watch, time.monotonic()),
            waiting_for="disk space" if self._disk.holding else "the portal" if self._watch.holding else "",
        )

    def _write_report(self, summary: RunSummary) -> RunSummary:
        return write_end_report(
            self.journal,
            self.output_dir,
            summary,
            slots=self._slots,
            peaks=self._peaks,
            started_at=self._clock.started_epoch,
            reporter=self._reporter,
        )

    def _summary(self) -> RunSummary:
        snap = self._run_snapshot()
        return RunSummary(
            state=self._state,
            counts=snap.counts,
            total=snap.total,
            processed_this_run=self._clock.processed,
            elapsed_s=snap.elapsed_s,
            rate_per_min=self._clock.average_rate_per_min(),
            output_dir=str(self.output_dir),
            results_files=self._results.files,
            stopped_early=self._stop.stopped_early(pending=bool(self._pending)),
            message=self._message,
            render=self._looks.figures(),
        )


def _grid_preflight(settings: Settings, reporter: Reporter) -> None:
    """Ask the Grid before anything starts; raises GridPreflightError naming the fix."""
    status = grid_sessions.preflight(settings)
    if status is not None:
        grid_url = redact_urls(settings.grid_url)
        reporter.say("info", "grid_ready", grid=grid_url, nodes=len(status.nodes), sessions=status.sessions)


def _grid_sign_in(
    settings: Settings, portal: PortalProfile, workspace: Workspace, grid: GridSessions, reporter: Reporter
) -> None:
    """Sign in once in a local browser and give its portal cookies to every worker's Grid session."""
    started = time.monotonic()
    grid.cookies = grid_sessions.sign_in_locally(
        settings,
        portal,
        staging_dir=workspace.staging(SIGN_IN_BROWSER),
        user_data_dir=workspace.profile(SIGN_IN_BROWSER),
    )
    seconds = round(time.monotonic() - started, 2)
    reporter.say("info", "grid_signed_in_locally", cookies=len(grid.cookies), seconds=seconds)


def _write_results(results: ResultsFile, journal: Journal, reporter: Reporter) -> tuple[str, bool]:
    """The run's last write of its results file: a note for the run's message, and whether the write failed."""
    try:
        return results.write(final=True), False
    except OSError as exc:
        # Not a success: the user would look for a results file that is not there. Nothing is lost, though.
        reporter.say("error", "results_write_failed", error=str(exc))
        failed = (
            f"the results file could not be written ({exc}); every result is kept in "
            f"{journal.path}: fix the cause and run again on this output folder to write it"
        )
        return failed, True


def _memory_guard(settings: Settings, supervisor: Supervisor, reporter: Reporter) -> MemoryGuard:
    policy = MemoryPolicy(settings.memory_threshold_pct, settings.memory_margin_pct, settings.memory_cooldown_s)
    # A Grid's browsers use its nodes' memory, not this machine's.
    return MemoryGuard(policy, supervisor, reporter, local_browsers=backend_kind(settings).browsers_here)


def _all_retired(slots: list[Slot]) -> str:
    """Why no worker can run when every worker was retired, or "" (some could, or there were none)."""
    if slots and all(s.state is WorkerState.RETIRED for s in slots):
        last = next((s.last_error for s in reversed(slots) if s.last_error), "")
        return f"no worker can run: every worker was retired (last error: {last})"
    return ""


def _say_finished(reporter: Reporter, state: RunState, clock: RunClock, figures: RenderFigures) -> None:
    """The run's last log line: how it ended, what it did and what its pages taught (render and empty-list waits)."""
    reporter.say(
        "info",
        "run_finished",
        state=str(state),
        processed=clock.processed,
        seconds=round(time.monotonic() - clock.started_mono, 1),
        render_p95_ms=figures.p95_ms,
        empty_wait_ms=figures.empty_wait_ms,
        second_looks=figures.second_looks,
        found_on_second_look=figures.found_on_second_look,
    )
