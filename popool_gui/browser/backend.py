"""Where a worker's browser runs: one small interface, a local browser or a Selenium Grid session behind it.

Local and Grid differ in how a session starts, where its downloads appear, how a download is waited for and
fetched, and how the session ends. Each answer lives in its backend (`local_backend.LocalBackend`,
`grid_backend.GridBackend`); the session and the PO page ask their backend and never the settings whether they
are remote. `backend_kind` is the one place that reads the decision from the settings.
"""

from __future__ import annotations

import contextlib
import enum
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import structlog
from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.browser.downloads import DownloadEvents, DownloadOutcome
from popool_gui.browser.steps import Steps
from popool_gui.settings import Settings

log = structlog.get_logger()

QUIT_TIMEOUT_S = 10.0


class BackendKind(enum.StrEnum):
    LOCAL = "local"
    GRID = "grid"

    @property
    def browsers_here(self) -> bool:
        """The workers' browsers run on this machine: each has a local profile folder, and their memory is this
        machine's. A Grid's browsers run on its nodes, which no local profile reaches."""
        return self is BackendKind.LOCAL


def backend_kind(settings: Settings) -> BackendKind:
    """The one reading of the settings that decides where browsers run: a Grid URL sends them to the Grid."""
    return BackendKind.GRID if settings.grid_url else BackendKind.LOCAL


@dataclass(frozen=True, slots=True)
class DownloadClick:
    """One attachment click whose download is waited for: what each backend's wait needs."""

    driver: WebDriver
    staging: Path  # where the file is to be found (or fetched to) on this machine
    before: set[str]  # `BrowserBackend.files_before_click`
    deadline: float
    start_deadline: float  # by when the download must have started
    poll_s: float
    events: DownloadEvents | None  # the browser's download reports, when it gives them
    fetch: Callable[[], list[dict[str, Any]]] | None  # reads new reports; None without reports
    known: set[str]  # the download ids seen before the click
    tab: str  # the clicked tab
    po_tabs: Collection[str]  # every tab of a PO in this browser: a download from one of them is not this click's

    def reports(self) -> dict[str, Any]:
        """The keyword arguments the waits without steps share (downloads.wait_for_download and the Grid's)."""
        return {
            "poll_s": self.poll_s,
            "events": self.events,
            "fetch": self.fetch,
            "known": self.known,
            "start_deadline": self.start_deadline,
        }


class BrowserBackend(ABC):
    """How one worker's browser session starts, downloads and ends; one instance per session."""

    kind: ClassVar[BackendKind]
    # Each download is told apart by the browser's report of it (tab_downloads.py), given download events: several
    # tabs may then download into the one staging folder at once, and no PO clears that folder for itself.
    attributes_downloads: ClassVar[bool]
    # Plain same-origin links may be fetched over HTTP from this machine with the browser's cookies. Not from a
    # Grid session: the fetch would come from this machine, not from the node the portal knows.
    direct_fetch: ClassVar[bool]

    def __init__(self, settings: Settings, worker: int) -> None:
        self.settings = settings
        self.worker = worker
        self.session_id = ""  # the Grid's id of the session: what deletes it when the worker is killed
        self.node = ""  # the Grid node it runs on, when the Grid said
        self.driver_pid: int | None = None  # the local driver service's process
        self.browser_pid: int | None = None  # the local browser's main process (a child of the driver service)
        self._log = log.bind(worker=worker)

    @abstractmethod
    def build_driver(self, staging_dir: Path, user_data_dir: Path | None) -> WebDriver:
        """Start the browser with downloads going to `staging_dir`; raise BrowserStartError."""

    @abstractmethod
    def start(self, staging_dir: Path, user_data_dir: Path | None) -> WebDriver:
        """`build_driver` for a worker's session, remembering what ends it later."""

    @abstractmethod
    def route_downloads(self, driver: WebDriver, staging_dir: Path) -> None:
        """Once at start, for a Chromium browser: make its downloads appear where `wait_for` looks."""

    @abstractmethod
    def tidy_before_po(self, driver: WebDriver) -> None:
        """Before a PO: nothing of an earlier PO's downloads may be taken for this one's."""

    @abstractmethod
    def files_before_click(self, driver: WebDriver, staging: Path) -> set[str]:
        """The downloaded files' names before a click, to tell the click's file apart without reports."""

    @abstractmethod
    def wait_for(self, click: DownloadClick) -> Steps[DownloadOutcome]:
        """Wait for the click's download; the outcome's path is the file in the local staging folder."""

    @abstractmethod
    def end(self, driver: WebDriver | None) -> None:
        """Close the session (`driver` None: it is gone already) and whatever it leaves behind."""

    @abstractmethod
    def kill(self) -> None:
        """End the session now, from any thread, without a WebDriver call."""

    def quit_within(self, driver: WebDriver | None) -> bool:
        """`driver.quit()` on a helper thread, waited for at most QUIT_TIMEOUT_S; whether it quit."""
        if driver is None:
            return False
        done, quit_ok = threading.Event(), threading.Event()

        def close() -> None:
            with contextlib.suppress(Exception):  # a dead browser cannot be closed politely
                driver.quit()
                quit_ok.set()
            done.set()

        threading.Thread(target=close, name=f"quit-browser-{self.worker}", daemon=True).start()
        if not done.wait(QUIT_TIMEOUT_S):
            self._log.warning("browser_quit_timeout", seconds=QUIT_TIMEOUT_S)
        return quit_ok.is_set()
