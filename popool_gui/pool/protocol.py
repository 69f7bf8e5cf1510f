"""Messages between the controller and its worker processes.

Every message is a small picklable dataclass. Each worker process has its own command queue and its own
event pipe back (see `EventSender`). Each carries a generation number so that messages from a process
the controller already killed are recognised and dropped.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from popool_gui.batch.model import PoRecord, PoResult, TabState
from popool_gui.browser.cookie_transfer import PortalCookie
from popool_gui.browser.portal import PortalProfile
from popool_gui.settings import Settings


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Everything a worker process needs to start; sent once as the process argument."""

    worker: int
    generation: int
    settings: Settings
    portal: PortalProfile
    output_dir: Path
    staging_dir: Path
    user_data_dir: Path | None
    heartbeat_s: float = 1.0
    # A Grid run: the portal session read from a signed-in local browser (pool/grid_sessions.sign_in_locally).
    cookies: tuple[PortalCookie, ...] = ()


# Commands: controller -> worker


@dataclass(frozen=True, slots=True)
class ProcessPo:
    record: PoRecord
    attempt: int
    empty_wait_ms: int  # the floor since load before an empty list is believed (pool/render_timing.py)
    second_look: bool = False  # an empty list seen before: look again in a fresh tab, with the longer floor


@dataclass(frozen=True, slots=True)
class SignInAgain:
    """Reopen the portal's home page so the SSO chain runs again after a person signed in."""


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Finish nothing new: quit the browser and exit. Queued behind a PO in progress, so it is graceful."""


Command = ProcessPo | SignInAgain | Shutdown


# Events: worker -> controller


@dataclass(frozen=True, slots=True)
class WorkerEvent:
    worker: int
    generation: int


@dataclass(frozen=True, slots=True)
class Heartbeat(WorkerEvent):
    """Sent from its own thread: the process answers even while a driver call hangs."""


@dataclass(frozen=True, slots=True)
class WorkerReady(WorkerEvent):
    driver_pid: int | None
    browser_pid: int | None
    start_seconds: float
    session_id: str = ""  # the Grid's id of the session; "" for a local browser
    node: str = ""  # the Grid node it runs on


@dataclass(frozen=True, slots=True)
class TabUpdate(WorkerEvent):
    state: TabState
    detail: str
    open_tabs: int


@dataclass(frozen=True, slots=True)
class PoDone(WorkerEvent):
    result: PoResult


@dataclass(frozen=True, slots=True)
class PoReturned(WorkerEvent):
    """A PO handed back unfinished and through no fault of its own (a Stop cut its page load short): the
    attempt does not count."""

    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class SignedIn(WorkerEvent):
    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class WorkerFailed(WorkerEvent):
    """The browser could not start or died; the process exits right after sending this."""

    error: str
    during_start: bool


@dataclass(frozen=True, slots=True)
class WorkerExited(WorkerEvent):
    """Sent after a graceful Shutdown, once the browser has quit."""


class EventSender:
    """A worker's end of its own event pipe to the controller (`put` from any thread of the worker).

    One pipe per worker process, not one queue shared by all: a process killed in the middle of a write keeps a
    shared multiprocessing.Queue's write lock forever and silences every other worker; a pipe of its own breaks
    only with it, and the controller replaces it with the worker.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def __getstate__(self) -> Connection:
        return self._conn

    def __setstate__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def put(self, event: Any) -> None:
        # OSError: the controller is gone; the heartbeat thread notices and ends this worker.
        with self._lock, contextlib.suppress(OSError):
            self._conn.send(event)
