"""The worker process: one browser session for its whole life, one PO at a time in a new tab.

The main thread owns the WebDriver; a heartbeat thread only puts timestamps on the event queue, so a
hung driver call shows up at the controller as a PO timeout while the process itself still answers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import threading
import time
from multiprocessing.queues import Queue

import psutil
import structlog

from popool_gui import logs
from popool_gui.batch.model import PoResult, PoStatus, TabState
from popool_gui.browser.errors import BrowserDeadError, BrowserStartError
from popool_gui.browser.session import BrowserSession
from popool_gui.pool.protocol import (
    Command,
    Heartbeat,
    PoDone,
    ProcessPo,
    Shutdown,
    SignedIn,
    SignInAgain,
    TabUpdate,
    WorkerConfig,
    WorkerExited,
    WorkerFailed,
    WorkerReady,
)

log = structlog.get_logger()


def _heartbeat(config: WorkerConfig, events: Queue, stop: threading.Event) -> None:
    parent = multiprocessing.parent_process()
    while not stop.wait(config.heartbeat_s):
        if parent is not None and not parent.is_alive():
            _orphaned()
        events.put(Heartbeat(config.worker, config.generation, time.time()))


def _orphaned() -> None:
    """The controller died (killed, crashed): take the driver and browser down with us, at once.

    This runs on the heartbeat thread, so it must not use the WebDriver; killing processes is safe.
    """
    log.error("controller_gone")
    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(children, timeout=5)
    os._exit(3)


def worker_main(config: WorkerConfig, commands: Queue, events: Queue) -> None:
    """Entry point of a worker process (multiprocessing spawn target)."""
    logs.configure(f"worker-{config.worker}", level=config.settings.log_level)
    logs.bind_context(worker=config.worker)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(config, events, stop), name="heartbeat", daemon=True)
    beat.start()
    try:
        _serve(config, commands, events)
    finally:
        stop.set()


def _serve(config: WorkerConfig, commands: Queue, events: Queue) -> None:
    ident = (config.worker, config.generation)

    def on_tab(state: TabState, detail: str, open_tabs: int) -> None:
        events.put(TabUpdate(*ident, state=state, detail=detail, open_tabs=open_tabs))

    session = BrowserSession(
        config.settings,
        config.portal,
        worker=config.worker,
        staging_dir=config.staging_dir,
        user_data_dir=config.user_data_dir,
        on_tab=on_tab,
    )
    started = time.monotonic()
    try:
        session.start()
    except BrowserStartError as exc:
        log.error("browser_start_failed", error=str(exc))
        session.quit()
        events.put(WorkerFailed(*ident, error=str(exc), during_start=True))
        return
    events.put(
        WorkerReady(
            *ident,
            pid=os.getpid(),
            driver_pid=session.driver_pid,
            browser_pid=session.browser_pid,
            start_seconds=time.monotonic() - started,
        )
    )
    log.info("worker_ready", browser_pid=session.browser_pid, seconds=round(time.monotonic() - started, 2))
    try:
        while True:
            try:
                command: Command = commands.get(timeout=config.settings.heartbeat_timeout_s)
            except queue.Empty:
                continue
            if isinstance(command, Shutdown):
                break
            if isinstance(command, SignInAgain):
                ok, message = session.sign_in_again()
                events.put(SignedIn(*ident, ok=ok, message=message))
            elif isinstance(command, ProcessPo):
                events.put(PoDone(*ident, result=_process(session, config, command)))
    except BrowserDeadError as exc:
        log.error("browser_died", error=str(exc))
        session.quit()
        events.put(WorkerFailed(*ident, error=str(exc), during_start=False))
        return
    session.quit()
    events.put(WorkerExited(*ident))
    log.info("worker_exited")


def _process(session: BrowserSession, config: WorkerConfig, command: ProcessPo) -> PoResult:
    record = command.record
    with structlog.contextvars.bound_contextvars(po=record.key, attempt=command.attempt):
        try:
            result = session.process(record, config.output_dir, command.attempt)
        except BrowserDeadError:
            # The controller learns of it from WorkerFailed and sends the PO back through its retry rule.
            raise
        except Exception as exc:  # a bug on one PO must not take the worker down
            log.exception("po_crashed")
            result = PoResult(
                key=record.key,
                status=PoStatus.FAILED,
                error=f"{type(exc).__name__}: {exc}",
                transient=True,
                started_at=time.time(),
                finished_at=time.time(),
            )
        result.worker = config.worker
        result.attempts = command.attempt
        log.info(
            "po_done",
            status=str(result.status),
            found=result.attachments_found,
            downloaded=result.attachments_downloaded,
        )
        return result
