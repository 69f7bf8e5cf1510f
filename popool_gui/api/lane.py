"""The API lane: a worker process that speaks the pool's protocol (`pool/protocol.py`) with no browser.

The controller runs it like a browser worker (`PoolController(worker_target=...)`, see `api/engine.py`): it
sends `ProcessPo` commands, the lane answers `PoDone` for each, with heartbeats, readiness, `WorkerExited`. What
differs is inside: one asyncio loop works on every PO the controller has sent it at once (the controller sends up
to `api_concurrency`), all of them through one `ApiClient`, so one token and one pace serve every request.

Its "sign-in" is getting the first token: a refused client is `WorkerFailed` during start. A Shutdown lets the
POs in flight finish (the supervisor's shutdown deadline bounds them) and takes no new one. A status line in
the worker table tells requests in flight, requests/s and the token's age.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import queue
import threading
import time
from multiprocessing.queues import Queue

import structlog

from popool_gui import logs
from popool_gui.api.access import ApiAccess, ApiSetupError
from popool_gui.api.client import ApiClient, ApiFailure
from popool_gui.api.files import Fetcher
from popool_gui.api.po_job import PoJob, process_po
from popool_gui.batch.model import PoResult, PoStatus, TabState
from popool_gui.duration import format_duration
from popool_gui.pool import run_folder
from popool_gui.pool.protocol import (
    Command,
    EventSender,
    Heartbeat,
    PoDone,
    ProcessPo,
    Shutdown,
    SignedIn,
    TabUpdate,
    WorkerConfig,
    WorkerExited,
    WorkerFailed,
    WorkerReady,
)
from popool_gui.redact import redact_urls

log = structlog.get_logger()

STATUS_EVERY_S = 1.0
# The lane's own PO deadline comes this much before the supervisor's, so a slow PO is a result, not a kill.
TIMEOUT_MARGIN_S = 2.0


def lane_main(access: ApiAccess, config: WorkerConfig, commands: Queue, events: EventSender) -> None:
    """Entry point of an API lane process (multiprocessing spawn target, with `access` bound by partial)."""
    logs.configure(f"api-lane-{config.worker}", level=config.settings.log_level)
    logs.bind_context(worker=config.worker)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(config, events, stop), name="heartbeat", daemon=True)
    beat.start()
    try:
        asyncio.run(_serve(access, config, commands, events))
    finally:
        stop.set()


def _heartbeat(config: WorkerConfig, events: EventSender, stop: threading.Event) -> None:
    while not stop.wait(config.heartbeat_s):
        parent = multiprocessing.parent_process()
        if parent is not None and not parent.is_alive():
            # Nobody will clear this lane's staging folder: do it, and end at once.
            run_folder.remove_entry(config.staging_dir)
            os._exit(3)
        events.put(Heartbeat(config.worker, config.generation))


async def _serve(access: ApiAccess, config: WorkerConfig, commands: Queue, events: EventSender) -> None:
    ident = (config.worker, config.generation)
    client = ApiClient(access)
    try:
        started = time.monotonic()
        try:
            await client.sign_in()
        except (ApiSetupError, ApiFailure) as exc:
            log.error("api_sign_in_failed", error=str(exc))
            events.put(WorkerFailed(*ident, error=str(exc), during_start=True))
            return
        seconds = time.monotonic() - started
        events.put(WorkerReady(*ident, driver_pid=None, browser_pid=None, start_seconds=seconds))
        log.info("api_lane_ready", seconds=round(seconds, 2), rate_per_s=access.rate_per_s)
        config.staging_dir.mkdir(parents=True, exist_ok=True)
        job = PoJob(Fetcher(client, config.staging_dir), config.portal, config.output_dir)
        await _work(job, config, commands, events)
    finally:
        await client.aclose()
    events.put(WorkerExited(*ident))


async def _work(job: PoJob, config: WorkerConfig, commands: Queue, events: EventSender) -> None:
    ident = (config.worker, config.generation)
    inbox: asyncio.Queue[Command | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    threading.Thread(target=_read_commands, args=(commands, loop, inbox), name="commands", daemon=True).start()
    running: set[asyncio.Task[None]] = set()
    status = asyncio.create_task(_report_status(job, running, events, ident))
    timeout = max(1.0, config.settings.po_timeout_s - TIMEOUT_MARGIN_S)
    while True:
        command = await inbox.get()
        if command is None or isinstance(command, Shutdown):
            break
        if isinstance(command, ProcessPo):
            task = asyncio.create_task(_one(job, command, events, ident, timeout))
            running.add(task)
            task.add_done_callback(running.discard)
        else:  # SignInAgain: a token is not a person's sign-in; the client renews its own
            events.put(SignedIn(*ident, ok=True, message="API mode: the token renews itself"))
    if running:
        log.info("api_lane_finishing", in_flight=len(running))
        await asyncio.gather(*running, return_exceptions=True)
    status.cancel()
    log.info("worker_exited")


def _read_commands(commands: Queue, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[Command | None]) -> None:
    """The blocking command queue, read on its own thread and handed to the loop; None: it closed."""
    while True:
        try:
            command = commands.get(timeout=1.0)
        except queue.Empty:
            continue
        except (EOFError, OSError):
            command = None
        with contextlib.suppress(RuntimeError):  # the loop already ended
            loop.call_soon_threadsafe(inbox.put_nowait, command)
        if command is None or isinstance(command, Shutdown):
            return


async def _one(job: PoJob, command: ProcessPo, events: EventSender, ident: tuple[int, int], timeout: float) -> None:
    record = command.record
    structlog.contextvars.bind_contextvars(po=record.key, attempt=command.attempt)  # this task's own context
    started = time.time()
    try:
        result = await asyncio.wait_for(process_po(job, record, command.attempt), timeout)
    except TimeoutError:
        result = _failed(record.key, f"PO {record.key} took longer than {timeout:.0f} s", started)
    except Exception as exc:  # a bug on one PO must not take the lane down
        log.exception("po_crashed")
        result = _failed(record.key, f"{type(exc).__name__}: {exc}", started)
    result.worker = ident[0]
    result.attempts = command.attempt
    result.error = redact_urls(result.error)
    log.info("po_done", status=str(result.status), found=result.attachments_found, error=result.error)
    events.put(PoDone(*ident, result=result))


def _failed(key: str, error: str, started: float) -> PoResult:
    return PoResult(
        key=key, status=PoStatus.FAILED, error=error, transient=True, started_at=started, finished_at=time.time()
    )


async def _report_status(
    job: PoJob, running: set[asyncio.Task[None]], events: EventSender, ident: tuple[int, int]
) -> None:
    """The worker table's line for this lane: POs and requests in flight, the pace kept, the token's age."""
    client = job.fetcher.client
    last_sent, last_mono = client.limiter.sent, time.monotonic()
    while True:
        await asyncio.sleep(STATUS_EVERY_S)
        now, sent = time.monotonic(), client.limiter.sent
        rate = (sent - last_sent) / (now - last_mono)
        last_sent, last_mono = sent, now
        age = client.token_age_s or 0.0
        detail = f"{client.in_flight} requests in flight, {rate:.1f} req/s, token {format_duration(age)} old"
        state = TabState.DOWNLOADING if running else TabState.NONE
        events.put(TabUpdate(*ident, state=state, detail=detail, open_tabs=len(running)))
