"""The worker process: one browser session for its whole life, one PO at a time in a new tab.

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
from collections.abc import Iterator
from multiprocessing.queues import Queue

import psutil
import structlog

from popool_gui import logs
from popool_gui.batch import layout
from popool_gui.batch.model import PoResult, PoStatus, TabState
from popool_gui.browser.errors import BrowserDeadError, BrowserStartError
from popool_gui.browser.session import BrowserSession
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

STOP_POLL_S = 0.05  # how often a stopping worker checks whether its PO is still loading a page
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
    tabs = _Tabs(events, ident)
    session = BrowserSession(
        config.settings,
        config.portal,
        worker=config.worker,
        staging_dir=config.staging_dir,
        user_data_dir=config.user_data_dir,
        on_tab=tabs.on_tab,
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
    watch = _StopWatch(commands, session, tabs.loading)
    try:
        farewell = _work(session, config, events, watch, tabs)
    finally:
        watch.close()
    _leave(session, events, *farewell)


def _leave(session: BrowserSession, events: EventSender, *farewell: WorkerEvent) -> None:
    """Quit the browser, then tell the controller why this process ends: it reaps the process on that word."""
    session.quit()
    for event in farewell:
        events.put(event)


def _work(
    session: BrowserSession, config: WorkerConfig, events: EventSender, watch: _StopWatch, tabs: _Tabs
) -> list[WorkerEvent]:
    """Handle commands until a Shutdown, a Stop after a PO, or the browser's death; returns the farewell events."""
    ident = (config.worker, config.generation)
    # Commands already received but not yet handled: with tab pipelining the controller may queue several POs
    # for this worker; those behind the current one load in background tabs while it is processed.
    backlog: deque[Command] = deque()
    command: Command | None = None
    try:
        for command in _commands(watch, backlog, config.settings.heartbeat_timeout_s):
            if isinstance(command, Shutdown):
                break
            if isinstance(command, SignInAgain):
                ok, message = session.sign_in_again()
                events.put(SignedIn(*ident, ok=ok, message=message))
            elif isinstance(command, ProcessPo):
                result = _run_po(session, config, command, watch, tabs, backlog)
                events.put(PoDone(*ident, result=result))
                if watch.stopping.is_set():
                    # Stop or restart: POs queued behind this one (tab pipelining) are not started; the
                    # controller takes back what a worker still held when it exits.
                    break
    except BrowserDeadError as exc:
        if watch.aborted.is_set() and isinstance(command, ProcessPo):
            # Our own Stop killed the browser during a page load: the PO goes back, the worker ends normally.
            log.info("page_load_abandoned_for_stop", po=command.record.key)
            reason = "its worker stopped or restarted while its page was loading"
            return [PoReturned(*ident, key=command.record.key, reason=reason), WorkerExited(*ident)]
        log.error("browser_died", error=str(exc))
        return [WorkerFailed(*ident, error=str(exc), during_start=False)]
    log.info("worker_exited")
    return [WorkerExited(*ident)]


def _commands(watch: _StopWatch, backlog: deque[Command], timeout: float) -> Iterator[Command]:
    """The backlog first, then what the stop watch passes on."""
    while True:
        if backlog:
            yield backlog.popleft()
            continue
        try:
            yield watch.local.get(timeout=timeout)
        except queue.Empty:
            continue


def _run_po(
    session: BrowserSession,
    config: WorkerConfig,
    command: ProcessPo,
    watch: _StopWatch,
    tabs: _Tabs,
    backlog: deque[Command],
) -> PoResult:
    watch.busy.set()
    try:
        if config.settings.tabs_per_worker > 1:
            _absorb(watch.local, backlog)
            # Opening a background tab returns only once its page started to load (20 s on a slow portal): a Stop
            # abandons that wait like any page load, nothing is downloaded yet.
            tabs.mark(TabState.OPENING)
            _preload(session, backlog)
        return _process(session, config, command)
    finally:
        watch.busy.clear()


class _Tabs:
    """The session's tab changes: passed on to the controller, and whether a page is opening or loading now
    (what a Stop may cut short)."""

    def __init__(self, events: EventSender, ident: tuple[int, int]) -> None:
        self.loading = threading.Event()
        self._events = events
        self._ident = ident

    def on_tab(self, state: TabState, detail: str, open_tabs: int) -> None:
        self.mark(state)
        self._events.put(TabUpdate(*self._ident, state=state, detail=detail, open_tabs=open_tabs))

    def mark(self, state: TabState) -> None:
        if state in (TabState.OPENING, TabState.LOADING):
            self.loading.set()
        else:
            self.loading.clear()


class _StopWatch:
    """Reads the command queue on its own thread, so a Stop is seen while the main thread waits in a driver call.

    When Shutdown arrives while the current PO is still opening or loading its page (nothing downloaded yet), that
    load is abandoned: this thread kills the browser's processes (psutil only; the WebDriver stays with the main
    thread), the main thread's driver call fails, and the PO goes back to the controller. A page can take up to
    `page_timeout_s` to load, so without this a Stop waits that long; downloads in progress are always finished.
    """

    def __init__(self, commands: Queue, session: BrowserSession, loading: threading.Event) -> None:
        self.local: queue.Queue[Command] = queue.Queue()
        self.busy = threading.Event()  # the main thread is processing a PO
        self.loading = loading  # ... and its page (or a preloaded one) is opening or loading
        self.aborted = threading.Event()
        self.stopping = threading.Event()  # a Shutdown has arrived
        self._done = threading.Event()
        self._commands = commands
        self._session = session
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
            self.local.put(command)
            if isinstance(command, Shutdown):
                self.stopping.set()
                break
        # Stopping: wait (a condition, not a fixed sleep) until the current PO is past its page load or done.
        while not self._done.wait(STOP_POLL_S):
            if self.busy.is_set() and self.loading.is_set():
                self.aborted.set()
                self._session.kill()
                return


def _absorb(commands: Queue, backlog: deque[Command]) -> None:
    """Move every command already waiting on the queue to the backlog, without blocking."""
    while True:
        try:
            backlog.append(commands.get_nowait())
        except queue.Empty:
            return


def _preload(session: BrowserSession, backlog: deque[Command]) -> None:
    """Start loading the POs queued behind the current one in background tabs (up to tabs_per_worker - 1).

    Nothing is preloaded once a Shutdown or SignInAgain is queued: a stop must not start new page loads, and a
    sign-in changes what those pages would show. POs queued behind a Shutdown are never started; the controller
    requeues what a worker held when it exits.
    """
    for command in backlog:
        if not isinstance(command, ProcessPo):
            return
        if command.attempt == 1 and not command.second_look:  # a retry or second look loads fresh in its own tab
            session.preload(command.record)


def _process(session: BrowserSession, config: WorkerConfig, command: ProcessPo) -> PoResult:
    record = command.record
    with structlog.contextvars.bound_contextvars(po=record.key, attempt=command.attempt):
        try:
            result = session.process(record, config.output_dir, command.attempt, empty_wait_ms=command.empty_wait_ms)
        except BrowserDeadError:
            # The controller learns of it from WorkerFailed and sends the PO back through its retry rule.
            raise
        except Exception as exc:  # a bug on one PO must not take the worker down
            if not session.is_alive():
                # Whatever the error's type, a session that no longer answers means a dead browser or driver.
                raise BrowserDeadError(f"the browser stopped answering: {type(exc).__name__}: {exc}") from exc
            log.exception("po_crashed")
            result = PoResult(
                key=record.key,
                status=PoStatus.FAILED,
                # An OSError names its paths in their plain form, not the extended one popool gave Windows.
                error=f"{type(exc).__name__}: {layout.os_error_text(exc) if isinstance(exc, OSError) else exc}",
                transient=True,
                started_at=time.time(),
                finished_at=time.time(),
            )
        result.worker = config.worker
        result.attempts = command.attempt
        result.error = redact_urls(result.error)  # portal URLs may carry tokens; the window shows this text
        log.info(
            "po_done",
            status=str(result.status),
            found=result.attachments_found,
            downloaded=result.attachments_downloaded,
        )
        return result
