"""`PoolController`: the single owner of a run's state.

It starts the worker processes, assigns each PO to one worker explicitly, records every result in the
journal as it arrives, enforces timeouts, restarts, the memory policy and the shutdown deadline, and
reports everything to a `PoolListener`. Plain Python: the CLI calls `run()` directly, the GUI calls it
from a QThread. Other threads talk to it only through the thread-safe command methods.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_connections
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import structlog

from popool_gui.batch import report
from popool_gui.batch.journal import Journal
from popool_gui.batch.model import (
    Batch,
    LogLine,
    MemoryDecision,
    PoRecord,
    PoResult,
    PoStatus,
    RunSnapshot,
    RunState,
    RunSummary,
    TabState,
    WorkerSnapshot,
    WorkerState,
)
from popool_gui.browser.errors import ProfileCloneError
from popool_gui.browser.portal import PortalProfile, load_portal
from popool_gui.browser.profiles import clone_profile
from popool_gui.pool import protocol as msg
from popool_gui.pool import run_folder
from popool_gui.pool.listener import NullListener, PoolListener
from popool_gui.pool.memory import ProcessTree, system_memory_pct
from popool_gui.pool.output_lock import OutputLock
from popool_gui.pool.render_timing import RenderTiming
from popool_gui.pool.worker import worker_main
from popool_gui.settings import ResultsFormat, Settings

log = structlog.get_logger()

TICK_S = 0.1
SNAPSHOT_INTERVAL_S = 1.0
MEMORY_INTERVAL_S = 2.0
RESULTS_MIN_INTERVAL_S = 5.0
# Scanning further than this for a PO that last failed elsewhere costs more than it saves.
OTHER_WORKER_LOOKAHEAD = 32
# How long a retry waits for a different worker before the one it failed on may take it again.
RETRY_ELSEWHERE_S = 10.0
SECOND_LOOK_NOTE = "no attachments on the first look: looking again later in the run"


class ExitReason(StrEnum):
    NONE = ""
    RESTART = "restart"
    STOP = "stop"


@dataclass(slots=True)
class _InFlight:
    record: PoRecord
    attempt: int
    assigned_mono: float


@dataclass(slots=True)
class _Slot:
    """The controller's view of one worker, across the processes it goes through."""

    worker: int
    state: WorkerState = WorkerState.STARTING
    generation: int = 0
    process: BaseProcess | None = None
    commands: Any = None  # multiprocessing Queue of this generation
    events: Connection | None = None  # our end of this generation's event pipe
    tree: ProcessTree = field(default_factory=ProcessTree)
    pid: int | None = None
    browser_pid: int | None = None
    current: _InFlight | None = None
    # Tab pipelining: POs sent ahead of `current` (the worker preloads them in background tabs), oldest first.
    queued: deque[_InFlight] = field(default_factory=deque)
    spawn_mono: float = 0.0
    last_beat_mono: float = 0.0
    exit_sent_mono: float = 0.0
    started_at: float | None = None
    paused: bool = False
    auth_wait: bool = False
    held: bool = False
    restart_after_po: bool = False
    exit_reason: ExitReason = ExitReason.NONE
    restarts: int = 0
    done: int = 0
    failed: int = 0
    tab_state: TabState = TabState.NONE
    tab_detail: str = ""
    open_tabs: int = 0
    memory_mb: float = 0.0
    message: str = ""
    last_error: str = ""

    @property
    def live(self) -> bool:
        return self.state not in (WorkerState.STOPPED, WorkerState.RETIRED)

    @property
    def can_take_po(self) -> bool:
        return (
            self.state is WorkerState.IDLE
            and self.current is None
            and not (self.paused or self.auth_wait or self.held or self.restart_after_po)
        )

    def can_queue_po(self, tabs: int) -> bool:
        """With tabs_per_worker > 1, a busy worker holds up to `tabs` POs beyond its current one.

        It preloads tabs - 1 of them; the extra one is there because the worker starts its next PO the moment
        it reports the last, before the PO sent in answer to that report can reach it.
        """
        return (
            self.state is WorkerState.BUSY
            and self.current is not None
            and self.exit_reason is ExitReason.NONE
            and len(self.queued) < tabs
            and not (self.paused or self.auth_wait or self.held or self.restart_after_po)
        )

    def snapshot(self) -> WorkerSnapshot:
        return WorkerSnapshot(
            worker=self.worker,
            state=self.state,
            pid=self.pid,
            browser_pid=self.browser_pid,
            current_po=self.current.record.key if self.current else "",
            tab_state=self.tab_state,
            tab_detail=self.tab_detail,
            open_tabs=self.open_tabs,
            memory_mb=round(self.memory_mb, 1),
            done=self.done,
            failed=self.failed,
            restarts=self.restarts,
            started_at=self.started_at,
            message=self.message,
        )


class PoolController:
    """Runs one batch with a pool of browser worker processes. See the module docstring."""

    def __init__(
        self,
        settings: Settings,
        batch: Batch,
        listener: PoolListener | None = None,
        *,
        accept_new_input: bool = False,
        wait_for_sign_in: bool | None = None,
        portal: PortalProfile | None = None,
        worker_target: Callable[..., None] = worker_main,
    ) -> None:
        self.settings = settings
        self.batch = batch
        self.listener: PoolListener = listener or NullListener()
        self.portal = portal or load_portal(settings.portal, settings.base_url)
        self.portal.require_base_url()
        self.output_dir = Path(settings.output_dir).expanduser().resolve()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        # Before the journal: opening it re-queues POs in flight, which belong to the run holding the lock.
        self._output_lock = OutputLock(self.output_dir)
        self._output_lock.acquire()
        try:
            self.journal = Journal.open(self.output_dir, batch, accept_new_input=accept_new_input)
        except BaseException:
            self._output_lock.release()
            raise
        # A person can sign in only in a visible browser; headless runs end instead of waiting.
        self.wait_for_sign_in = (not settings.headless) if wait_for_sign_in is None else wait_for_sign_in
        self._commands: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._lock = threading.Lock()
        self._state = RunState.IDLE
        self._slots: list[_Slot] = []
        self._pending: deque[str] = deque()
        self._last_worker: dict[str, tuple[int, float]] = {}
        self._auth_keys: set[str] = set()
        self._worker_target = worker_target
        self._ctx = multiprocessing.get_context("spawn")
        self._run_dir: Path | None = None
        self._user_data: dict[int, Path | None] = {}
        self._stopping = False
        self._stopped_early = False
        self._forced = False
        self._stop_deadline: float | None = None  # monotonic
        self._stop_deadline_epoch: float | None = None
        self._started_mono = 0.0
        self._started_epoch: float | None = None
        self._processed = 0
        self._first_result_s: float | None = None
        self._results_dirty = True
        self._results_last_write = 0.0
        self._results_write_cost = 0.0
        self._results_files: tuple[str, ...] = ()
        # A results file fed back as input is never overwritten: the results go beside it (report's protect).
        self._input = Path(batch.source)
        self._told_beside_input = False
        self._last_recycle_mono = -1e9
        self._system_pct = 0.0
        self._last_snapshots: dict[int, WorkerSnapshot] = {}
        self._last_run_emit = 0.0
        self._last_memory = 0.0
        self._message = ""
        self._final_state: RunState | None = None
        self._render = RenderTiming(self.portal.attachments)
        self._logged_empty_wait_ms = 0

    # ----------------------------------------------------------------- thread-safe commands

    def stop(self) -> None:
        """First call: graceful stop within `shutdown_timeout_s`. Second call: force it now."""
        self._commands.put(("stop", None))

    def pause(self, worker: int) -> None:
        self._commands.put(("pause", worker))

    def resume(self, worker: int) -> None:
        self._commands.put(("resume", worker))

    def restart(self, worker: int) -> None:
        """Graceful (after the current PO); a second request while one is pending forces it."""
        self._commands.put(("restart", worker))

    def retry(self, po_key: str) -> None:
        self._commands.put(("retry", po_key))

    def po_results(self) -> list[PoResult]:
        with self._lock:
            return self.journal.all_results()

    @property
    def state(self) -> RunState:
        return self._state

    @property
    def first_result_seconds(self) -> float | None:
        """Seconds from run start to the first finished PO (benchmarks read it)."""
        return self._first_result_s

    # ----------------------------------------------------------------- run

    def run(self) -> RunSummary:
        """Process the batch; returns when every PO is final, the run is stopped, or no worker can run."""
        self._started_mono = time.monotonic()
        self._started_epoch = time.time()
        self._set_state(RunState.STARTING)
        for folder, owner in run_folder.sweep():
            self._say("info", "stale_run_folder_removed", path=str(folder), owner=owner.describe())
        self._pending = deque(r.key for r in self.journal.pending())
        self._say(
            "info",
            "run_started",
            total=len(self.journal.all_results()),
            pending=len(self._pending),
            workers=self.settings.workers,
            output=str(self.output_dir),
        )
        try:
            if self._pending:
                self._prepare_workers()
                self._set_state(RunState.RUNNING)
                self._loop()
            self._finish_state()
        except ProfileCloneError as exc:
            # The user's profile setting is wrong or the profile is locked: their problem to fix, not a crash.
            log.error("profile_clone_failed", error=str(exc))
            self._message = str(exc)
            self._final_state = RunState.FAILED
            self._force_all("profile clone failed")
            raise
        except Exception as exc:
            log.exception("controller_crashed")
            self._message = f"internal error: {type(exc).__name__}: {exc}"
            self._final_state = RunState.FAILED
            self._force_all("controller error")
            raise
        finally:
            self._cleanup()
            summary = self._summary()
            with self._lock:
                self.journal.close()
            self._output_lock.release()
        return summary

    def _prepare_workers(self) -> None:
        self._run_dir = run_folder.create()
        self._slots = [_Slot(worker=i + 1) for i in range(self.settings.workers)]
        self._user_data = self._make_profiles()
        for slot in self._slots:
            self._spawn(slot)

    def _make_profiles(self) -> dict[int, Path | None]:
        """One profile folder per worker, made once and reused by its restarts."""
        assert self._run_dir is not None
        root = self._run_dir
        if not self.settings.profile_dir:
            folders: dict[int, Path | None] = {}
            for slot in self._slots:
                path = root / f"profile-{slot.worker}"
                path.mkdir()
                folders[slot.worker] = path
            return folders
        source = Path(self.settings.profile_dir)

        def one(worker: int) -> Path:
            info = clone_profile(source, self.settings.profile_name, root / f"profile-{worker}")
            self._say(
                "info",
                "profile_cloned",
                worker=worker,
                files=info.files,
                mb=round(info.bytes / 1e6, 1),
                seconds=round(info.seconds, 2),
            )
            return info.path

        with ThreadPoolExecutor(max_workers=len(self._slots)) as pool:
            paths = list(pool.map(one, [s.worker for s in self._slots]))
        return {slot.worker: path for slot, path in zip(self._slots, paths, strict=True)}

    def _spawn(self, slot: _Slot) -> None:
        assert self._run_dir is not None
        slot.generation += 1
        staging = self._run_dir / f"staging-{slot.worker}"
        staging.mkdir(exist_ok=True)
        config = msg.WorkerConfig(
            worker=slot.worker,
            generation=slot.generation,
            settings=self.settings,
            portal=self.portal,
            output_dir=self.output_dir,
            staging_dir=staging,
            user_data_dir=self._user_data.get(slot.worker),
        )
        slot.commands = self._ctx.Queue()
        reader, writer = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(
            target=self._worker_target,
            args=(config, slot.commands, msg.EventSender(writer)),
            name=f"popool-worker-{slot.worker}",
            daemon=True,
        )
        process.start()
        writer.close()  # the child holds its own copy; ours would keep the pipe from reporting the child's end
        self._close_events(slot)
        slot.events = reader
        now = time.monotonic()
        slot.process = process
        slot.pid = process.pid
        slot.browser_pid = None
        slot.tree = ProcessTree()
        slot.tree.add_root(process.pid)
        slot.state = WorkerState.STARTING
        slot.spawn_mono = now
        slot.last_beat_mono = now
        slot.exit_reason = ExitReason.NONE
        slot.exit_sent_mono = 0.0
        slot.restart_after_po = False
        slot.started_at = time.time()
        slot.tab_state, slot.tab_detail, slot.open_tabs = TabState.NONE, "", 0
        self._say("info", "worker_starting", worker=slot.worker, pid=process.pid, generation=slot.generation)

    def _loop(self) -> None:
        while True:
            self._drain_commands()
            self._drain_events()
            now = time.monotonic()
            self._check_health(now)
            if now - self._last_memory >= MEMORY_INTERVAL_S:
                self._last_memory = now
                self._memory_policy(now)
            self._check_stop_deadline(now)
            if not self._stopping:
                self._dispatch()
                self._check_end()
            self._emit_changes(now)
            self._maybe_write_results(now)
            if all(not s.live for s in self._slots):
                return
            self._wait_event()

    def _wait_event(self) -> None:
        readers = {s.events: s for s in self._slots if s.events is not None}
        if not readers:
            time.sleep(TICK_S)
            return
        for conn in wait_connections(list(readers), timeout=TICK_S):
            self._receive(readers[conn], conn)  # type: ignore[index]

    def _drain_events(self) -> None:
        for slot in self._slots:
            self._drain_slot(slot)

    def _drain_slot(self, slot: _Slot) -> None:
        while slot.events is not None and self._receive(slot, slot.events):
            pass

    def _receive(self, slot: _Slot, conn: Connection) -> bool:
        """Handle one event waiting on `conn`; False when there is none (or the pipe is stale or closed)."""
        if slot.events is not conn:
            return False  # the worker was replaced while this pipe was being read
        try:
            if not conn.poll():
                return False
            event = conn.recv()
        except (EOFError, OSError, pickle.UnpicklingError):
            # The worker ended (or died mid-write); its exit is handled by the health check.
            self._close_events(slot)
            return False
        self._on_event(event)
        return True

    def _close_events(self, slot: _Slot) -> None:
        if slot.events is not None:
            slot.events.close()
            slot.events = None

    def _drain_commands(self) -> None:
        while True:
            try:
                name, arg = self._commands.get_nowait()
            except queue.Empty:
                return
            handler: Callable[[Any], None] = getattr(self, f"_cmd_{name}")
            handler(arg)

    # ----------------------------------------------------------------- events from workers

    def _slot_for(self, event: msg.WorkerEvent) -> _Slot | None:
        if not 1 <= event.worker <= len(self._slots):
            return None
        slot = self._slots[event.worker - 1]
        # Messages from a process already replaced or killed must not touch the new one's state.
        return slot if slot.generation == event.generation and slot.live else None

    def _on_event(self, event: msg.WorkerEvent) -> None:
        slot = self._slot_for(event)
        if slot is None:
            return
        slot.last_beat_mono = time.monotonic()
        match event:
            case msg.Heartbeat():
                pass
            case msg.WorkerReady():
                slot.tree.add_root(event.driver_pid)
                slot.tree.add_root(event.browser_pid)
                slot.browser_pid = event.browser_pid
                if slot.state is WorkerState.STARTING:
                    slot.state = WorkerState.PAUSED if slot.paused else WorkerState.IDLE
                    slot.message = ""
                self._say(
                    "info",
                    "worker_ready",
                    worker=slot.worker,
                    browser_pid=event.browser_pid,
                    seconds=round(event.start_seconds, 2),
                )
            case msg.TabUpdate():
                slot.tab_state, slot.tab_detail, slot.open_tabs = event.state, event.detail, event.open_tabs
            case msg.PoDone():
                self._on_po_done(slot, event.result)
            case msg.PoReturned():
                self._on_po_returned(slot, event.key, event.reason)
            case msg.SignedIn():
                self._say(
                    "info" if event.ok else "warning",
                    "signed_in_again",
                    worker=slot.worker,
                    ok=event.ok,
                    message=event.message,
                )
            case msg.WorkerFailed():
                what = "browser_start_failed" if event.during_start else "browser_died"
                self._crash(slot, event.error, event=what)
            case msg.WorkerExited():
                self._on_exited(slot)

    def _on_po_done(self, slot: _Slot, result: PoResult) -> None:
        flight = slot.current
        if flight is None or flight.record.key != result.key:
            # A PO sent ahead (tab pipelining) reports while the slot is not on it, e.g. its worker met a login
            # wall on the PO before and keeps working through its queue: settle it all the same.
            ahead = self._pop_queued(slot, result.key)
            if ahead is not None:
                self._settle(result, ahead, slot)
            return
        slot.current = None
        slot.tab_state, slot.tab_detail = TabState.NONE, ""
        self._settle(result, flight, slot)
        if slot.queued and slot.exit_reason is ExitReason.NONE and not slot.restart_after_po:
            # The worker starts its next queued PO right now: its PO timeout counts from here. Not when a Shutdown
            # goes out just below: the worker may see it first and leave that PO unstarted.
            slot.current = slot.queued.popleft()
            slot.current.assigned_mono = time.monotonic()
        elif slot.state is WorkerState.BUSY:
            slot.state = WorkerState.PAUSED if (slot.paused or slot.auth_wait) else WorkerState.IDLE
        if slot.restart_after_po and slot.state not in (WorkerState.STOPPING, WorkerState.RESTARTING):
            self._graceful_exit(slot, ExitReason.RESTART)

    def _on_po_returned(self, slot: _Slot, key: str, reason: str) -> None:
        if slot.current is not None and slot.current.record.key == key:
            flight, slot.current = slot.current, None
            slot.tab_state, slot.tab_detail = TabState.NONE, ""
        else:
            flight = self._pop_queued(slot, key)
            if flight is None:
                return
        self._say("info", "po_returned", worker=slot.worker, po=key, reason=reason)
        self._give_back(flight, reason)

    @staticmethod
    def _pop_queued(slot: _Slot, key: str) -> _InFlight | None:
        """Remove and return the PO sent ahead to `slot` under `key`; None when it is not among them."""
        flight = next((f for f in slot.queued if f.record.key == key), None)
        if flight is not None:
            slot.queued.remove(flight)
        return flight

    def _settle(self, result: PoResult, flight: _InFlight, slot: _Slot | None) -> None:
        """Apply one attempt's outcome: final, requeued, or waiting for a sign-in."""
        key = flight.record.key
        with self._lock:
            current = self.journal.result(key)
        if current.status.is_final:
            # A late report for a PO that already has a final result: never process anything twice.
            return
        result.attempts = flight.attempt
        result.empty_looks = current.empty_looks
        self._learn_render_timing(result)
        self._last_worker[key] = (slot.worker if slot else 0, time.monotonic())
        if result.status is PoStatus.AUTH_REQUIRED:
            self._requeue(key, result.error or "sign-in required", flight.attempt - 1, front=True)
            self._auth_keys.add(key)
            if slot is not None:
                slot.auth_wait = True
                slot.message = "sign-in required"
                self._say("warning", "sign_in_required", worker=slot.worker, po=key, headless=self.settings.headless)
                self.listener.on_auth_required(slot.worker, key, self.settings.headless)
            return
        if result.transient and flight.attempt < self.settings.max_attempts:
            self._say(
                "warning",
                "po_retry",
                worker=slot.worker if slot else None,
                po=key,
                attempt=flight.attempt,
                error=result.error,
            )
            self._requeue(key, result.error, flight.attempt)
            return
        if result.transient:
            result.status = PoStatus.FAILED
            result.error = f"gave up after {flight.attempt} attempts: {result.error}"
        result.transient = False
        if self._second_look(result, flight, slot):
            return
        self._auth_keys.discard(key)
        with self._lock:
            self.journal.record(result)
        self._results_dirty = True
        self._processed += 1
        if self._first_result_s is None:
            self._first_result_s = time.monotonic() - self._started_mono
        if slot is not None:
            slot.done += 1
            if result.status in (PoStatus.FAILED, PoStatus.PARTIAL):
                slot.failed += 1
        level = "info" if result.status not in (PoStatus.FAILED, PoStatus.PARTIAL) else "warning"
        self._say(
            level,
            "po_finished",
            worker=result.worker,
            po=key,
            status=str(result.status),
            downloaded=result.attachments_downloaded,
            found=result.attachments_found,
            error=result.error,
        )
        self.listener.on_result(result)

    def _learn_render_timing(self, result: PoResult) -> None:
        self._render.add(result.first_attachment_ms)
        wait_ms = self._render.empty_wait_ms()
        if abs(wait_ms - self._logged_empty_wait_ms) >= 100:
            self._logged_empty_wait_ms = wait_ms
            figures = self._render.figures()
            self._say(
                "info",
                "render_timing_learned",
                samples=figures.samples,
                p95_ms=figures.p95_ms,
                empty_wait_ms=figures.empty_wait_ms,
                second_look_ms=figures.second_look_ms,
            )

    def _second_look(self, result: PoResult, flight: _InFlight, slot: _Slot | None) -> bool:
        """An empty list is final only when a second, longer look later in the run sees it empty too.

        Returns True when the PO went back to the queue for that look (the look is not an attempt)."""
        key = result.key
        if result.empty_looks > 0:
            self._render.second_looks += 1
            if result.status is PoStatus.NO_ATTACHMENTS:
                result.empty_looks += 1
            elif result.attachments_found:
                self._render.found_on_second_look += 1
                self._say("warning", "second_look_found_attachments", po=key, found=result.attachments_found)
            return False
        if result.status is not PoStatus.NO_ATTACHMENTS or not self.portal.attachments.second_look:
            return False
        with self._lock:
            self.journal.requeue_for_second_look(key, flight.attempt - 1, SECOND_LOOK_NOTE)
        self._pending.append(key)
        self._results_dirty = True
        self._say("info", "second_look_queued", worker=slot.worker if slot else None, po=key)
        # The first look's clock goes with it: what an empty PO costs is the sum of its looks.
        self.listener.on_result(
            replace(result, status=PoStatus.PENDING, attempts=flight.attempt - 1, error=SECOND_LOOK_NOTE)
        )
        return True

    def _requeue(self, key: str, error: str, attempts: int, *, front: bool = False) -> None:
        with self._lock:
            self.journal.requeue(key, error, attempts)
        if front:
            self._pending.appendleft(key)
        else:
            self._pending.append(key)
        self._results_dirty = True
        self.listener.on_result(PoResult(key=key, status=PoStatus.PENDING, attempts=attempts, error=error))

    def _on_exited(self, slot: _Slot) -> None:
        self._reap(slot)
        if slot.current is not None:
            # A worker that exits cleanly has reported every PO it started (its reports were read before this):
            # one still current was never started.
            slot.queued.appendleft(slot.current)
            slot.current = None
        self._take_back(slot, "the worker stopped before starting it")
        if slot.exit_reason is ExitReason.RESTART and not self._stopping:
            slot.state = WorkerState.RESTARTING
            self._spawn(slot)
        else:
            slot.state = WorkerState.STOPPED
            slot.tab_state, slot.open_tabs = TabState.NONE, 0
            self._say("info", "worker_stopped", worker=slot.worker)

    def _take_back(self, slot: _Slot, reason: str) -> None:
        """Requeue the POs sent ahead to a worker that will not process them (no attempt is used)."""
        while slot.queued:
            self._give_back(slot.queued.pop(), reason)

    def _give_back(self, flight: _InFlight, reason: str) -> None:
        """Put a PO its worker never really worked on back at the front of the queue; its attempt does not count."""
        self._requeue(flight.record.key, reason, flight.attempt - 1, front=True)

    def _reap(self, slot: _Slot) -> None:
        """Wait briefly for the process to end, then kill whatever of its tree is left."""
        if slot.process is not None:
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(timeout=5)
        left = slot.tree.kill()
        if left:
            self._say("error", "processes_survived_kill", worker=slot.worker, pids=left)
        slot.memory_mb = 0.0

    # ----------------------------------------------------------------- health, crashes, restarts

    def _check_health(self, now: float) -> None:
        for slot in self._slots:
            if not slot.live or slot.process is None:
                continue
            if slot.process.exitcode is not None:
                generation = slot.generation
                # What it sent before it ended (its last result, WorkerExited) counts before its exit does.
                self._drain_slot(slot)
                if slot.generation != generation or not slot.live:
                    continue
                if slot.exit_reason is ExitReason.NONE or slot.process.exitcode != 0:
                    self._crash(slot, f"worker process exited with code {slot.process.exitcode}")
                else:
                    self._on_exited(slot)
            elif now - slot.last_beat_mono > self.settings.heartbeat_timeout_s:
                self._crash(slot, f"no heartbeat for {self.settings.heartbeat_timeout_s:.0f} s")
            elif slot.state is WorkerState.STARTING and now - slot.spawn_mono > self.settings.start_timeout_s:
                self._crash(slot, f"browser did not start within {self.settings.start_timeout_s:.0f} s")
            elif slot.current and now - slot.current.assigned_mono > self.settings.po_timeout_s:
                self._crash(slot, f"PO {slot.current.record.key} took longer than {self.settings.po_timeout_s:.0f} s")
            elif (
                slot.exit_reason is not ExitReason.NONE
                and slot.current is None
                and slot.exit_sent_mono
                and (now - slot.exit_sent_mono > self.settings.shutdown_timeout_s)
            ):
                self._say("warning", "worker_exit_timeout", worker=slot.worker)
                self._on_exited(slot)

    def _crash(self, slot: _Slot, reason: str, *, event: str = "worker_crashed", counts: bool = True) -> None:
        """Kill the worker's whole tree, send its PO back, and restart it unless its restarts are used up."""
        self._say("error", event, worker=slot.worker, reason=reason, restarts=slot.restarts)
        slot.state = WorkerState.CRASHED
        slot.message = reason
        slot.last_error = reason
        self._emit_changes(time.monotonic())
        if slot.process is not None and slot.process.is_alive():
            slot.process.kill()
        self._reap(slot)
        self._take_back(slot, reason)
        flight, slot.current = slot.current, None
        if flight is not None:
            failure = PoResult(
                key=flight.record.key,
                status=PoStatus.FAILED,
                error=reason,
                transient=True,
                worker=slot.worker,
                started_at=None,
                finished_at=time.time(),
            )
            self._settle(failure, flight, slot)
        if counts:
            slot.restarts += 1
        if self._stopping or slot.exit_reason is ExitReason.STOP:
            slot.state = WorkerState.STOPPED
        elif slot.restarts > self.settings.max_restarts:
            slot.state = WorkerState.RETIRED
            slot.message = f"retired after {self.settings.max_restarts} restarts: {reason}"
            self._say("error", "worker_retired", worker=slot.worker, reason=reason)
        else:
            slot.state = WorkerState.RESTARTING
            self._spawn(slot)

    def _graceful_exit(self, slot: _Slot, reason: ExitReason) -> None:
        """Ask the worker to quit its browser and exit once its current PO is done."""
        if slot.exit_reason is not ExitReason.NONE or not slot.live:
            slot.exit_reason = reason if reason is ExitReason.STOP else slot.exit_reason
            return
        slot.exit_reason = reason
        slot.exit_sent_mono = time.monotonic()
        slot.state = WorkerState.RESTARTING if reason is ExitReason.RESTART else WorkerState.STOPPING
        if slot.commands is not None:
            slot.commands.put(msg.Shutdown())

    # ----------------------------------------------------------------- dispatch and end

    def _dispatch(self) -> None:
        for slot in self._slots:
            if not self._pending:
                return
            if slot.can_take_po:
                flight = self._assign(slot)
                if flight is not None:
                    slot.current = flight
                    slot.state = WorkerState.BUSY
                    slot.tab_state, slot.tab_detail = TabState.OPENING, ""
        tabs = self.settings.tabs_per_worker
        if tabs <= 1:
            return
        # Second pass, after every idle worker got a PO: fill the busy workers' background tabs.
        for slot in self._slots:
            while self._pending and slot.can_queue_po(tabs):
                flight = self._assign(slot)
                if flight is None:
                    break
                slot.queued.append(flight)

    def _assign(self, slot: _Slot) -> _InFlight | None:
        """Take a pending PO for `slot`, mark it assigned and send it; None when there is none for it."""
        while True:
            key = self._take_pending_for(slot.worker)
            if key is None:
                return None
            with self._lock:
                current = self.journal.result(key)
                if current.status.is_final:
                    continue
                attempt = current.attempts + 1
                self.journal.mark_assigned(key, slot.worker, attempt, time.time())
                record = self.journal.record_for(key)
            second_look = current.empty_looks > 0
            wait_ms = self._render.second_look_ms() if second_look else self._render.empty_wait_ms()
            flight = _InFlight(record=record, attempt=attempt, assigned_mono=time.monotonic())
            slot.commands.put(
                msg.ProcessPo(record=record, attempt=attempt, empty_wait_ms=wait_ms, second_look=second_look)
            )
            self.listener.on_result(PoResult(key=key, status=PoStatus.ASSIGNED, worker=slot.worker, attempts=attempt))
            return flight

    def _take_pending_for(self, worker: int) -> str | None:
        """Prefer a PO that did not last fail on this worker, so a retry lands elsewhere when it can.

        Returns None when every candidate last failed here and another live worker can still take it soon.
        """
        if not any(s.worker != worker and s.live for s in self._slots):
            return self._pending.popleft()
        now = time.monotonic()
        for index, key in enumerate(self._pending):
            if index >= OTHER_WORKER_LOOKAHEAD:
                break
            last, when = self._last_worker.get(key, (0, 0.0))
            if last != worker or now - when >= RETRY_ELSEWHERE_S:
                del self._pending[index]
                return key
        return None

    def _check_end(self) -> None:
        live = [s for s in self._slots if s.live]
        if not live:
            return
        busy = any(s.current or s.queued for s in live)
        if not self._pending and not busy:
            self._begin_stop(early=False)
            return
        waiting_sign_in = [s for s in live if s.auth_wait]
        if not self.wait_for_sign_in and not busy and len(waiting_sign_in) == len(live):
            self._message = "sign-in required: run once with a visible browser and sign in to the portal"
            for key in sorted(self._auth_keys):
                self._record_auth_required(key)
            self._begin_stop(early=False)

    def _record_auth_required(self, key: str) -> None:
        with self._lock:
            current = self.journal.result(key)
            result = replace(
                current,
                status=PoStatus.AUTH_REQUIRED,
                error="sign-in required",
                finished_at=time.time(),
                transient=False,
            )
            self.journal.record(result)
        self._results_dirty = True
        self.listener.on_result(result)

    # ----------------------------------------------------------------- stop

    def _begin_stop(self, *, early: bool) -> None:
        if self._stopping:
            return
        self._stopping = True
        self._stopped_early = early
        self._stop_deadline = time.monotonic() + self.settings.shutdown_timeout_s
        self._stop_deadline_epoch = time.time() + self.settings.shutdown_timeout_s
        self._set_state(RunState.STOPPING)
        self._say("info", "stopping", early=early, timeout_s=self.settings.shutdown_timeout_s)
        for slot in self._slots:
            if not slot.live:
                continue
            if slot.state is WorkerState.RESTARTING and slot.exit_reason is ExitReason.RESTART:
                slot.exit_reason = ExitReason.STOP
                slot.state = WorkerState.STOPPING
            else:
                self._graceful_exit(slot, ExitReason.STOP)

    def _check_stop_deadline(self, now: float) -> None:
        if self._stopping and self._stop_deadline is not None and now >= self._stop_deadline:
            self._say("warning", "shutdown_timeout", timeout_s=self.settings.shutdown_timeout_s)
            self._force_all("stopped: shutdown timeout reached")

    def _force_all(self, reason: str) -> None:
        """Kill every worker tree now; POs in flight go back to PENDING without using an attempt."""
        self._forced = True
        for slot in self._slots:
            if slot.process is None:
                continue
            if slot.process.is_alive():
                slot.process.kill()
            self._reap(slot)
            self._take_back(slot, reason)
            flight, slot.current = slot.current, None
            if flight is not None:
                self._requeue(flight.record.key, reason, flight.attempt - 1)
            if slot.live:
                slot.state = WorkerState.STOPPED
                slot.message = reason

    def _cmd_stop(self, _: object) -> None:
        if self._stopping and self._stopped_early:
            self._say("warning", "force_stop")
            self._force_all("stopped by user")
        else:
            self._begin_stop(early=True)
            self._stopped_early = True

    def _slot(self, worker: object) -> _Slot | None:
        if isinstance(worker, int) and 1 <= worker <= len(self._slots):
            return self._slots[worker - 1]
        return None

    def _cmd_pause(self, worker: object) -> None:
        slot = self._slot(worker)
        if slot is None or not slot.live:
            return
        slot.paused = True
        if slot.state is WorkerState.IDLE:
            slot.state = WorkerState.PAUSED
        self._say("info", "worker_paused", worker=slot.worker)

    def _cmd_resume(self, worker: object) -> None:
        slot = self._slot(worker)
        if slot is None or not slot.live:
            return
        slot.paused = False
        if slot.auth_wait:
            slot.auth_wait = False
            slot.message = ""
            if slot.commands is not None:
                slot.commands.put(msg.SignInAgain())
        if slot.state is WorkerState.PAUSED:
            slot.state = WorkerState.IDLE
        self._say("info", "worker_resumed", worker=slot.worker)

    def _cmd_restart(self, worker: object) -> None:
        slot = self._slot(worker)
        if slot is None or not slot.live or self._stopping:
            return
        already = slot.restart_after_po or slot.exit_reason is ExitReason.RESTART
        if already or slot.state is WorkerState.STARTING:
            # A second request, or a browser still starting: the user wants it now, hung or not.
            self._crash(slot, "restart forced by user", event="worker_restart_forced", counts=False)
            return
        self._say("info", "worker_restart_requested", worker=slot.worker)
        if slot.current is None:
            self._graceful_exit(slot, ExitReason.RESTART)
        else:
            slot.restart_after_po = True

    def _cmd_retry(self, key: object) -> None:
        if not isinstance(key, str):
            return
        with self._lock:
            self.journal.reset(key)
        held = {f.record.key for s in self._slots for f in (s.current, *s.queued) if f is not None}
        if key not in self._pending and key not in held:
            self._pending.append(key)
        self._results_dirty = True
        self.listener.on_result(PoResult(key=key, status=PoStatus.PENDING))
        self._say("info", "po_requeued_by_user", po=key)

    # ----------------------------------------------------------------- memory policy

    def _memory_policy(self, now: float) -> None:
        self._system_pct = system_memory_pct()
        for slot in self._slots:
            slot.memory_mb = slot.tree.footprint_mb() if slot.live else 0.0
        if self._stopping:
            return
        threshold = self.settings.memory_threshold_pct
        active = [
            s for s in self._slots if s.live and s.state in (WorkerState.IDLE, WorkerState.BUSY, WorkerState.PAUSED)
        ]
        if self._system_pct < threshold - self.settings.memory_margin_pct:
            for slot in self._slots:
                if slot.held:
                    slot.held = False
                    self._decide("release", slot, "memory back below threshold minus margin")
            return
        if self._system_pct <= threshold or not active:
            return
        recycling = any(s.restart_after_po or s.exit_reason is ExitReason.RESTART for s in self._slots)
        heaviest = max(active, key=lambda s: s.memory_mb)
        if not recycling and now - self._last_recycle_mono >= self.settings.memory_cooldown_s:
            self._last_recycle_mono = now
            self._decide("recycle", heaviest, f"system memory {self._system_pct:.0f}% above {threshold:.0f}%")
            if heaviest.current is None:
                self._graceful_exit(heaviest, ExitReason.RESTART)
            else:
                heaviest.restart_after_po = True
            return
        unheld = [s for s in active if not s.held]
        # Never hold the last worker that can take POs, or the run could not finish.
        if len(unheld) > 1:
            target = max(unheld, key=lambda s: s.memory_mb)
            target.held = True
            self._decide("hold", target, f"system memory still {self._system_pct:.0f}% after a recycle")

    def _decide(self, action: str, slot: _Slot, reason: str) -> None:
        decision = MemoryDecision(
            at=time.time(),
            action=action,
            worker=slot.worker,
            system_pct=self._system_pct,
            worker_mb=round(slot.memory_mb, 1),
            reason=reason,
        )
        self._say(
            "warning" if action != "release" else "info",
            f"memory_{action}",
            worker=slot.worker,
            system_pct=self._system_pct,
            worker_mb=round(slot.memory_mb, 1),
            reason=reason,
        )
        self.listener.on_memory(decision)

    # ----------------------------------------------------------------- reporting

    def _say(self, level: str, event: str, *, worker: int | None = None, po: str = "", **fields: Any) -> None:
        getattr(log, level)(event, worker=worker, po=po or None, **fields)
        self.listener.on_log(LogLine(at=time.time(), level=level, event=event, worker=worker, po=po, fields=fields))

    def _set_state(self, state: RunState) -> None:
        self._state = state
        self.listener.on_run(self._run_snapshot())

    def _counts(self) -> dict[str, int]:
        with self._lock:
            return self.journal.counts()

    def _run_snapshot(self) -> RunSnapshot:
        counts = self._counts()
        total = sum(counts.values())
        final = sum(n for status, n in counts.items() if PoStatus(status).is_final)
        in_flight = sum(1 + len(s.queued) for s in self._slots if s.current)
        elapsed = time.monotonic() - self._started_mono if self._started_mono else 0.0
        rate = self._processed / elapsed * 60 if elapsed > 0 else 0.0
        remaining = total - final
        eta = remaining / rate * 60 if rate > 0 else None
        return RunSnapshot(
            state=self._state,
            total=total,
            done=final,
            pending=len(self._pending),
            in_flight=in_flight,
            counts=counts,
            started_at=self._started_epoch,
            elapsed_s=elapsed,
            rate_per_min=rate,
            eta_s=eta,
            system_memory_pct=self._system_pct,
            memory_threshold_pct=self.settings.memory_threshold_pct,
            stop_deadline=self._stop_deadline_epoch if self._stopping else None,
            message=self._message,
        )

    def _emit_changes(self, now: float) -> None:
        for slot in self._slots:
            snap = slot.snapshot()
            if self._last_snapshots.get(slot.worker) != snap:
                self._last_snapshots[slot.worker] = snap
                self.listener.on_worker(snap)
        if now - self._last_run_emit >= SNAPSHOT_INTERVAL_S:
            self._last_run_emit = now
            self.listener.on_run(self._run_snapshot())

    def _maybe_write_results(self, now: float) -> None:
        # Large batches make a rewrite costly; space rewrites so they never take more than ~10% of the time.
        interval = max(RESULTS_MIN_INTERVAL_S, self._results_write_cost * 10)
        if self._results_dirty and now - self._results_last_write >= interval:
            self._write_results(final=False)

    def _write_results(self, *, final: bool) -> None:
        started = time.monotonic()
        fmt = self.settings.results_format
        if not final and fmt is ResultsFormat.CSV_AND_XLSX:
            # The xlsx copy is the slow one; during the run the CSV keeps the file current.
            fmt = ResultsFormat.CSV
        with self._lock:
            rows = self.journal.report_rows()
            paths = report.write_results(
                self.output_dir, self.journal.columns, self.journal.delimiter, rows, fmt, protect=(self._input,)
            )
        beside = [p for p in paths if self._beside_input(p)]
        if beside and not self._told_beside_input:
            self._told_beside_input = True
            self._say("warning", "results_beside_input", input=str(self._input), results=str(beside[0]))
        if beside and final:
            note = f"the input {self._input} is a results file: it was kept, and the results went to {beside[0]}"
            self._message = f"{self._message}; {note}" if self._message else note
        self._results_files = tuple(str(p) for p in paths) if final else self._results_files
        self._results_dirty = False
        self._results_last_write = time.monotonic()
        self._results_write_cost = self._results_last_write - started

    def _beside_input(self, path: Path) -> bool:
        """Whether `path` took the alternate name because the usual results file is this run's input."""
        usual = report.results_path(self.output_dir, path.suffix)
        try:
            return path != usual and os.path.samefile(usual, self._input)
        except OSError:
            return False

    # ----------------------------------------------------------------- finish

    def _finish_state(self) -> None:
        if self._final_state is not None:
            return
        live_ever = bool(self._slots)
        retired = live_ever and all(s.state is WorkerState.RETIRED for s in self._slots)
        if retired:
            last = next((s.last_error for s in reversed(self._slots) if s.last_error), "")
            self._message = f"no worker can run: every worker was retired (last error: {last})"
            self._final_state = RunState.FAILED
        else:
            self._final_state = RunState.FINISHED

    def _cleanup(self) -> None:
        for slot in self._slots:
            if slot.process is not None and slot.process.is_alive():
                slot.process.kill()
            self._reap(slot)
            self._take_back(slot, "interrupted")
            if slot.current is not None:
                flight, slot.current = slot.current, None
                self._requeue(flight.record.key, "interrupted", flight.attempt - 1)
        for slot in self._slots:
            if slot.live:
                slot.state = WorkerState.STOPPED
        if self._run_dir is not None:
            # Clones and staging go one by one: a folder Windows still holds open must not keep the others.
            for problem in run_folder.remove(self._run_dir):
                self._say("error", "run_folder_not_removed", problem=problem)
        for slot in self._slots:
            self._close_events(slot)
        try:
            self._write_results(final=True)
        except OSError as exc:
            self._say("error", "results_write_failed", error=str(exc))
        self._state = self._final_state or RunState.FINISHED
        self._emit_changes(time.monotonic())
        self.listener.on_run(self._run_snapshot())
        self._say(
            "info",
            "run_finished",
            state=str(self._state),
            processed=self._processed,
            seconds=round(time.monotonic() - self._started_mono, 1),
            render_p95_ms=self._render.p95_ms(),
            empty_wait_ms=self._render.empty_wait_ms(),
            second_looks=self._render.second_looks,
            found_on_second_look=self._render.found_on_second_look,
        )

    def _summary(self) -> RunSummary:
        snap = self._run_snapshot()
        return RunSummary(
            state=self._state,
            counts=snap.counts,
            total=snap.total,
            processed_this_run=self._processed,
            elapsed_s=snap.elapsed_s,
            rate_per_min=snap.rate_per_min,
            output_dir=str(self.output_dir),
            results_files=self._results_files,
            stopped_early=self._stopped_early and (bool(self._pending) or self._forced),
            message=self._message,
            render=self._render.figures(),
        )
