"""The worker process: one browser session for its whole life, up to tabs_per_worker POs at once, a tab each.

The main thread owns the WebDriver; a heartbeat thread only sends heartbeats on the event pipe, so a
hung driver call shows up at the controller as a PO timeout while the process itself still answers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import threading
import time
from collections import deque
from multiprocessing.queues import Queue

import psutil
import structlog

from popool_gui import logs
from popool_gui.batch.model import PoResult, TabState
from popool_gui.browser.errors import BrowserDeadError, BrowserStartError
from popool_gui.browser.session import BrowserSession
from popool_gui.browser.tab_runner import TabRunner
from popool_gui.pool import run_folder
from popool_gui.pool.priority import run_below_the_window
from popool_gui.pool.protocol import (
    Command,
    EventSender,
    Heartbeat,
    PoDone,
    PoReturned,
    ProcessPo,
    Shutdown,
    SignedIn,
    SignInAgain,
    TabUpdate,
    WorkerConfig,
    WorkerEvent,
    WorkerExited,
    WorkerFailed,
    WorkerReady,
)
from popool_gui.redact import redact_urls

log = structlog.get_logger()

STOP_POLL_S = 0.05  # how often a stopping worker checks whether its driver call may be cut short
_orphan_exit = threading.Lock()


def _heartbeat(config: WorkerConfig, events: EventSender, stop: threading.Event) -> None:
    while not stop.wait(config.heartbeat_s):
        if _controller_gone():
            _orphaned(config)
        events.put(Heartbeat(config.worker, config.generation))


def _controller_gone() -> bool:
    parent = multiprocessing.parent_process()
    return parent is not None and not parent.is_alive()


def _orphaned(config: WorkerConfig) -> None:
    """The controller died (killed, crashed): take the driver and browser down with us, at once, and remove
    this worker's profile clone and staging folder, which nobody else will (they hold session cookies).

    This runs on the heartbeat thread, so it must not use the WebDriver; killing processes is safe. The main
    thread comes here too when the killed browser ends its work first: the lock keeps it waiting until the
    clean-up is done and `os._exit` ends both.
    """
    _orphan_exit.acquire()
    log.error("controller_gone")
    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(children, timeout=5)
    for path in (config.user_data_dir, config.staging_dir):
        if path is not None:
            run_folder.remove_entry(path)
    run_folder.remove_if_empty(config.staging_dir.parent)
    os._exit(3)


def worker_main(config: WorkerConfig, commands: Queue, events: EventSender) -> None:
    """Entry point of a worker process (multiprocessing spawn target)."""
    logs.configure(f"worker-{config.worker}", level=config.settings.log_level)
    logs.bind_context(worker=config.worker)
    run_below_the_window()
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(config, events, stop), name="heartbeat", daemon=True)
    beat.start()
    try:
        _serve(config, commands, events)
    finally:
        stop.set()
        if _controller_gone():
            _orphaned(config)


def _serve(config: WorkerConfig, commands: Queue, events: EventSender) -> None:
    ident = (config.worker, config.generation)
    session = BrowserSession(
        config.settings,
        config.portal,
        worker=config.worker,
        staging_dir=config.staging_dir,
        user_data_dir=config.user_data_dir,
        cookies=config.cookies,
    )
    started = time.monotonic()
    try:
        session.start()
    except BrowserStartError as exc:
        log.error("browser_start_failed", error=str(exc))
        _leave(session, events, WorkerFailed(*ident, error=str(exc), during_start=True))
        return
    seconds = time.monotonic() - started
    events.put(
        WorkerReady(
            *ident,
            driver_pid=session.driver_pid,
            browser_pid=session.browser_pid,
            start_seconds=seconds,
            session_id=session.session_id,
            node=session.node,
        )
    )
    log.info("worker_ready", browser_pid=session.browser_pid, seconds=round(seconds, 2))
    runner = TabRunner(session, config.output_dir)
    watch = _StopWatch(commands, session, runner)
    try:
        farewell = _work(session, config, events, watch, runner)
    finally:
        watch.close()
    _leave(session, events, *farewell)


def _leave(session: BrowserSession, events: EventSender, *farewell: WorkerEvent) -> None:
    """Quit the browser, then tell the controller why this process ends: it reaps the process on that word."""
    session.quit()
    for event in farewell:
        events.put(event)


def _work(
    session: BrowserSession, config: WorkerConfig, events: EventSender, watch: _StopWatch, runner: TabRunner
) -> list[WorkerEvent]:
    """Keep up to tabs_per_worker POs in progress, one tab each, until a Shutdown with nothing left to finish or
    the browser's death; returns the farewell events."""
    ident = (config.worker, config.generation)
    # Commands received but not acted on yet: POs the controller sent ahead while every tab was busy, and a
    # sign-in waiting for the tabs in progress to end.
    backlog: deque[Command] = deque()
    shown = _TabsShown(events, ident)
    try:
        while True:
            # Once stopping, no command is worth waiting for: the Shutdown is in, and the tabs decide when to leave.
            idle_s = 0.0 if watch.stopping.is_set() else config.settings.heartbeat_timeout_s
            _receive(watch.local, backlog, _wait_s(runner, idle_s))
            if watch.stopping.is_set():
                # Stop or restart: POs not started stay unstarted (the controller takes back what a worker held
                # when it exits); tabs that have downloaded nothing go back now, the others finish.
                backlog.clear()
                for gone in runner.give_back():
                    events.put(PoReturned(*ident, key=gone.tab.key, reason=STOPPED_REASON))
                if not runner.tabs:
                    break
            else:
                _act_on(backlog, session, runner, events, ident)
            shown.update(runner)  # before the steps: a step may wait for a page load
            finished = runner.step_due()
            shown.update(runner)  # before the results: the controller sees a worker without tabs as idle
            for done in finished:
                assert done.result is not None
                events.put(PoDone(*ident, result=finish_result(done.result, config, done.tab.attempt)))
    except BrowserDeadError as exc:
        runner.abandon()
        if watch.aborted.is_set():
            # Our own Stop killed the browser while no tab had downloaded anything: every PO goes back.
            log.info("page_load_abandoned_for_stop", pos=[t.key for t in runner.tabs])
            returned = [PoReturned(*ident, key=t.key, reason=STOPPED_REASON) for t in runner.tabs]
            return [*returned, WorkerExited(*ident)]
        log.error("browser_died", error=str(exc))
        return [WorkerFailed(*ident, error=str(exc), during_start=False)]
    log.info("worker_exited")
    return [WorkerExited(*ident)]


STOPPED_REASON = "its worker stopped or restarted before it downloaded anything"


def _wait_s(runner: TabRunner, idle_s: float) -> float:
    """How long the worker may wait for a command: until its next tab's turn, or a while when it has none."""
    due = runner.next_due()
    return idle_s if due is None else max(0.0, due - time.monotonic())


def _receive(commands: queue.Queue[Command], backlog: deque[Command], timeout: float) -> None:
    """Wait up to `timeout` for a command, then take every command already there, without blocking."""
    if timeout > 0 and not backlog:
        try:
            backlog.append(commands.get(timeout=timeout))
        except queue.Empty:
            return
    while True:
        try:
            backlog.append(commands.get_nowait())
        except queue.Empty:
            return


def _act_on(
    backlog: deque[Command], session: BrowserSession, runner: TabRunner, events: EventSender, ident: tuple[int, int]
) -> None:
    """Start queued POs while a tab is free; a sign-in waits for the tabs in progress (it reloads the home tab, and
    their pages were opened before it)."""
    while backlog:
        command = backlog[0]
        if isinstance(command, SignInAgain):
            if runner.tabs:
                return
            backlog.popleft()
            runner.close_spares()
            ok, message = session.sign_in_again()
            events.put(SignedIn(*ident, ok=ok, message=message))
        elif isinstance(command, ProcessPo):
            if not runner.has_room:
                _start_second_look(backlog, runner)
                return
            backlog.popleft()
            runner.open(command.record, command.attempt, command.empty_wait_ms, second_look=command.second_look)
        else:  # a Shutdown: the stop watch has seen it too
            return


def _start_second_look(backlog: deque[Command], runner: TabRunner) -> None:
    """Every tab is busy: start a second look queued among the next POs (before any other command) in one tab over
    the count."""
    if not runner.has_room_for_second_look:
        return
    for command in backlog:
        if not isinstance(command, ProcessPo):
            return
        if command.second_look:
            backlog.remove(command)
            runner.open(command.record, command.attempt, command.empty_wait_ms, second_look=True)
            return


class _TabsShown:
    """Tells the controller what the worker's tabs are doing, when that changes."""

    def __init__(self, events: EventSender, ident: tuple[int, int]) -> None:
        self._events = events
        self._ident = ident
        self._last: tuple[TabState, str, int] = (TabState.NONE, "", 0)

    def update(self, runner: TabRunner) -> None:
        now = (*runner.summary(), runner.open_tabs)
        if now != self._last:
            self._last = now
            state, detail, open_tabs = now
            self._events.put(TabUpdate(*self._ident, state=state, detail=detail, open_tabs=open_tabs))


class _StopWatch:
    """Reads the command queue on its own thread, so a Stop is seen while the main thread waits in a driver call.

    When Shutdown arrives while the main thread is in a driver call for a tab and no tab has downloaded anything
    (pages opening, loading or waiting for their lists), that call is abandoned: this thread kills the browser's
    processes (psutil only; the WebDriver stays with the main thread), the main thread's driver call fails, and
    every PO goes back to the controller. A page can take up to `page_timeout_s` to load, so without this a Stop
    waits that long; downloads in progress are always finished.
    """

    def __init__(self, commands: Queue, session: BrowserSession, runner: TabRunner) -> None:
        self.local: queue.Queue[Command] = queue.Queue()
        self.aborted = threading.Event()
        self.stopping = threading.Event()  # a Shutdown has arrived
        self._done = threading.Event()
        self._commands = commands
        self._session = session
        self._runner = runner
        threading.Thread(target=self._run, name="commands", daemon=True).start()

    def close(self) -> None:
        self._done.set()

    def _run(self) -> None:
        while not self._done.is_set():
            try:
                command = self._commands.get(timeout=1.0)
            except queue.Empty:
                continue
            except (EOFError, OSError):  # the controller closed the queue: nothing more will come
                return
            if isinstance(command, Shutdown):
                self.stopping.set()  # before the main thread can see the command itself
            self.local.put(command)
            if self.stopping.is_set():
                break
        # Stopping: wait (a condition, not a fixed sleep) until no driver call for a tab that lost nothing is on.
        while not self._done.wait(STOP_POLL_S):
            if self._runner.stepping_before_downloads:
                self.aborted.set()
                self._session.kill()
                return


def finish_result(result: PoResult, config: WorkerConfig, attempt: int) -> PoResult:
    """The worker's part of a result: who did it, which attempt, and an error text fit for the window."""
    result.worker = config.worker
    result.attempts = attempt
    result.error = redact_urls(result.error)  # portal URLs may carry tokens; the window shows this text
    log.info(
        "po_done",
        po=result.key,
        attempt=attempt,
        status=str(result.status),
        found=result.attachments_found,
        downloaded=result.attachments_downloaded,
    )
    return result
