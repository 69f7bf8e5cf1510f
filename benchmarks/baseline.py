"""The designs popool replaces or is compared with, built from the very same session and page code.

- `per_po_worker_main`: a drop-in `worker_target` for `PoolController` that starts a fresh browser with a fresh
  profile for every PO and quits it afterwards (sign-in included, as the old tool did). Same protocol, same
  controller, same `BrowserSession.process`: the only difference measured is the browser's life span.
- `run_sequential`: one persistent browser in this process, no pool, no worker processes.
"""

from __future__ import annotations

import queue
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from pathlib import Path

from popool_gui import logs
from popool_gui.batch.model import Batch, PoResult, PoStatus, TabState
from popool_gui.browser.errors import BrowserDeadError, BrowserStartError
from popool_gui.browser.portal import load_portal
from popool_gui.browser.session import BrowserSession
from popool_gui.pool import worker as pool_worker
from popool_gui.pool.protocol import (
    EventSender,
    PoDone,
    ProcessPo,
    Shutdown,
    TabUpdate,
    WorkerConfig,
    WorkerExited,
    WorkerReady,
)
from popool_gui.settings import Settings


def per_po_worker_main(config: WorkerConfig, commands: Queue, events: EventSender) -> None:
    """Worker process of the per-PO design: no browser between POs, a new browser and profile for each."""
    logs.configure(f"perpo-worker-{config.worker}", level=config.settings.log_level)
    stop = threading.Event()
    beat = threading.Thread(target=pool_worker._heartbeat, args=(config, events, stop), daemon=True)
    beat.start()
    ident = (config.worker, config.generation)

    def on_tab(state: TabState, detail: str, open_tabs: int) -> None:
        events.put(TabUpdate(*ident, state=state, detail=detail, open_tabs=open_tabs))

    events.put(WorkerReady(*ident, driver_pid=None, browser_pid=None, start_seconds=0.0))
    try:
        while True:
            try:
                command = commands.get(timeout=config.settings.heartbeat_timeout_s)
            except queue.Empty:
                continue
            if isinstance(command, Shutdown):
                break
            if isinstance(command, ProcessPo):
                events.put(PoDone(*ident, result=_one_browser_one_po(config, command, on_tab)))
    finally:
        stop.set()
    events.put(WorkerExited(*ident))


def _one_browser_one_po(
    config: WorkerConfig, command: ProcessPo, on_tab: Callable[[TabState, str, int], None]
) -> PoResult:
    started = time.time()
    # user_data_dir=None: the session makes (and removes) a fresh temporary profile, as the old tool did.
    session = BrowserSession(
        config.settings, config.portal, worker=config.worker, staging_dir=config.staging_dir, on_tab=on_tab
    )
    try:
        session.start()
        record, attempt = command.record, command.attempt
        processed = session.process(record, config.output_dir, attempt, empty_wait_ms=command.empty_wait_ms)
        result = pool_worker.finish_result(processed, config, command.attempt)
    except (BrowserStartError, BrowserDeadError) as exc:
        result = PoResult(
            key=command.record.key,
            status=PoStatus.FAILED,
            error=str(exc),
            transient=True,
            worker=config.worker,
            attempts=command.attempt,
            finished_at=time.time(),
        )
    finally:
        session.quit()
    result.started_at = started  # the browser's start and sign-in are part of this design's cost per PO
    return result


@dataclass(slots=True)
class SequentialRun:
    results: list[PoResult] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    first_result_s: float = 0.0
    elapsed_s: float = 0.0
    mem_at_mark: float = 0.0
    mem_last: float = 0.0


def run_sequential(
    settings: Settings,
    batch: Batch,
    *,
    mark_after: int = 10,
    tree_mb: Callable[[int | None], float],
) -> SequentialRun:
    """One browser, every PO in turn in this process: the pool's per-PO work without processes or IPC."""
    portal = load_portal(settings.portal, settings.base_url)
    out = SequentialRun()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="popool-seq-") as tmp:
        session = BrowserSession(
            settings, portal, worker=1, staging_dir=Path(tmp) / "staging", user_data_dir=Path(tmp) / "profile"
        )
        try:
            session.start()
            for number, record in enumerate(batch.records, start=1):
                began = time.monotonic()
                result = session.process(record, Path(settings.output_dir), 1)
                now = time.monotonic()
                out.durations.append(now - began)
                out.results.append(result)
                if number == 1:
                    out.first_result_s = now - t0
                if number == mark_after:
                    out.mem_at_mark = tree_mb(session.driver_pid)
            out.elapsed_s = time.monotonic() - t0
            out.mem_last = tree_mb(session.driver_pid)
        finally:
            session.quit()
    return out
