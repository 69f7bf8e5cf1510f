"""Browser start-up and the long-lived session of one worker: a home tab that keeps the sign-in, one tab per PO.

One session is used by one thread only (WebDriver is not thread-safe); `quit()` is the one exception: it may
run while nothing else uses the driver. Where the browser runs, local or on a Grid node, is its backend's
business (backend.py): how it starts, where its downloads appear and how the session ends.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import structlog
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.batch.model import PoRecord, PoResult, TabState
from popool_gui.browser import named_tabs, page_wait, po_page
from popool_gui.browser.backend import BrowserBackend
from popool_gui.browser.backend_choice import backend_for
from popool_gui.browser.browser_options import CHROMIUM_KINDS
from popool_gui.browser.cdp import performance_log
from popool_gui.browser.cookie_transfer import PortalCookie, install_cookies
from popool_gui.browser.downloads import DownloadEvents, clear_staging
from popool_gui.browser.errors import (
    LOST_DRIVER,
    BrowserDeadError,
    BrowserStartError,
    first_line,
    is_dead_browser_error,
)
from popool_gui.browser.js import load
from popool_gui.browser.page_activity import install_early
from popool_gui.browser.portal import PortalProfile
from popool_gui.browser.tab_closing import close_tabs_but
from popool_gui.settings import Settings

log = structlog.get_logger()

TAB_APPEAR_S = 2.0  # how long a script-opened background tab may take to show up in the driver's list
TAB_POLL_S = 0.02
# A background tab navigates this long after the script that asks it to, so the driver need not wait for it.
NAVIGATE_DELAY_MS = 100
_NAVIGATE_SOON_JS = load("navigate_soon.js")


@contextlib.contextmanager
def dead_browser_errors() -> Iterator[None]:
    """Driver errors that mean the browser or its driver is gone become BrowserDeadError; others pass."""
    try:
        yield
    except WebDriverException as exc:
        if is_dead_browser_error(exc):
            raise BrowserDeadError(first_line(exc)) from exc
        raise
    except LOST_DRIVER as exc:
        raise BrowserDeadError(f"lost the connection to the driver: {exc}") from exc


class BrowserSession:
    """One browser for the whole life of a worker: start, process POs one at a time, quit."""

    def __init__(
        self,
        settings: Settings,
        portal: PortalProfile,
        *,
        worker: int,
        staging_dir: Path,
        user_data_dir: Path | None = None,
        on_tab: Callable[[TabState, str, int], None] | None = None,
        cookies: tuple[PortalCookie, ...] = (),
    ) -> None:
        self.settings = settings
        self.portal = portal
        self.worker = worker
        self.staging_dir = staging_dir
        self.user_data_dir = user_data_dir
        self.on_tab = on_tab
        # The portal session read from a signed-in local browser: a Grid session starts with it (cookie_transfer).
        self.cookies = cookies
        self.driver: WebDriver | None = None
        self.home_handle: str | None = None
        self.events: DownloadEvents | None = None  # None when the browser gives no download events
        # Direct fetches of every tab of this browser (po_page.DIRECT_PARALLEL at once); made on first use.
        self._fetches: ThreadPoolExecutor | None = None
        self._user_agent = ""  # read once at start, for direct fetches
        # Local or Grid, chosen once from the settings: everything that differs between the two asks it.
        self.backend: BrowserBackend = backend_for(settings, worker)
        self._log = log.bind(worker=worker)

    # -- life cycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the browser and open the home tab at the portal's base URL (the SSO chain runs there)."""
        self.portal.require_base_url()
        started = time.monotonic()
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        clear_staging(self.staging_dir)
        self.driver = driver = self.backend.start(self.staging_dir, self.user_data_dir)
        try:
            driver.set_page_load_timeout(self.settings.page_timeout_s)
            driver.set_script_timeout(self.settings.page_timeout_s)
            self._enable_download_events()
            self.home_handle = driver.current_window_handle
            if self.cookies:
                install_cookies(driver, self.cookies, self.portal.base_url)
            driver.get(self.portal.base_url)
            self._user_agent = str(driver.execute_script("return navigator.userAgent"))
        except WebDriverException as exc:
            raise BrowserStartError(
                f"the browser started but could not open {self.portal.base_url}: {first_line(exc)}"
            ) from exc
        self._log.info(
            "browser_started",
            browser=self.settings.browser.value,
            browser_pid=self.browser_pid,
            driver_pid=self.driver_pid,
            grid_node=self.node,
            download_events=self.events is not None,
            seconds=round(time.monotonic() - started, 2),
        )

    def _enable_download_events(self) -> None:
        assert self.driver is not None
        if self.settings.browser not in CHROMIUM_KINDS:
            return
        self.backend.route_downloads(self.driver, self.staging_dir)
        try:
            performance_log(self.driver)
        except (WebDriverException, KeyError):
            self._log.info("download_events_unavailable")
            return
        self.events = DownloadEvents()

    @property
    def session_id(self) -> str:
        """The Grid's id of this session ("" for a local browser): what deletes it when the worker is killed."""
        return self.backend.session_id

    @property
    def node(self) -> str:
        """The address of the Grid node the browser runs on ("" for a local browser or when the Grid did not say)."""
        return self.backend.node

    @property
    def driver_pid(self) -> int | None:
        return self.backend.driver_pid

    @property
    def browser_pid(self) -> int | None:
        """The browser's main process (a child of the driver service); None for a Grid session."""
        return self.backend.browser_pid

    def is_alive(self) -> bool:
        if self.driver is None:
            return False
        try:
            self.driver.window_handles  # noqa: B018 - a cheap round trip to driver and browser
        except Exception:  # any failure of this probe means the session cannot be used
            return False
        return True

    def open_tabs(self) -> int:
        if self.driver is None:
            return 0
        try:
            return len(self.driver.window_handles)
        except WebDriverException as exc:
            if is_dead_browser_error(exc):
                raise BrowserDeadError(first_line(exc)) from exc
            raise

    def quit(self) -> None:
        """Close the browser the backend's way: a local one by `driver.quit()` within its time and then by killing
        what is left of this session's own process tree (never any other browser); a Grid session by
        `driver.quit()`, else by deleting it through the Grid."""
        driver, self.driver = self.driver, None
        if self._fetches is not None:
            # A fetch still running ends at its own timeout; its file goes with the staging folder below.
            self._fetches.shutdown(wait=False, cancel_futures=True)
            self._fetches = None
        self.backend.end(driver)
        clear_staging(self.staging_dir)

    def kill(self) -> None:
        """End this session now: a local browser's processes are killed, a Grid session is deleted through the
        Grid. Safe from any thread: it makes no WebDriver call. The thread using the driver then sees its call fail
        and must still call `quit()` to clean up."""
        self.backend.kill()

    # -- work -------------------------------------------------------------------------------------------------

    def sign_in_again(self) -> tuple[bool, str]:
        """Reopen the portal's home page in the home tab so the SSO chain runs; report whether it is signed in."""
        driver = self.require_driver()
        try:
            self._back_home()
            driver.get(self.portal.base_url)
            on_login = page_wait.wait_for_login_state(driver, self.portal, self.settings.page_timeout_s)
        except WebDriverException as exc:
            if is_dead_browser_error(exc):
                raise BrowserDeadError(first_line(exc)) from exc
            return False, f"could not open {self.portal.base_url}: {first_line(exc)}"
        if on_login:
            return False, "the portal still shows its sign-in page: sign in in the browser window"
        return True, "signed in"

    def process(
        self, record: PoRecord, output_dir: Path, attempt: int, *, empty_wait_ms: int | None = None
    ) -> PoResult:
        """Process one PO in a new tab; raise BrowserDeadError when the browser is gone, else return a result.

        `empty_wait_ms`: the floor before an empty list is believed; None is the portal profile's."""
        job = self.po_job(self._tab, preloaded_tab=None, background_tabs=frozenset(), empty_wait_ms=empty_wait_ms)
        try:
            with dead_browser_errors():
                return po_page.process_po(job, record, output_dir, attempt)
        finally:
            self._restore_home_tab()

    def po_job(
        self,
        on_tab: Callable[[TabState, str], None],
        *,
        preloaded_tab: str | None,
        background_tabs: Collection[str],
        empty_wait_ms: int | None,
        tab_name: str = "",
    ) -> po_page.PoJob:
        """What one PO needs from this session; `background_tabs`: the other POs' tabs it must leave open."""
        return po_page.PoJob(
            driver=self.require_driver(),
            portal=self.portal,
            settings=self.settings,
            staging_dir=self.staging_dir,
            home_handle=self.home(),
            events=self.events,
            on_tab=on_tab,
            worker=self.worker,
            preloaded_tab=preloaded_tab,
            background_tabs=background_tabs,
            empty_wait_ms=empty_wait_ms,
            backend=self.backend,
            fetches=self._direct_fetches(),
            tab_name=tab_name,
            user_agent=self._user_agent,
        )

    def _direct_fetches(self) -> ThreadPoolExecutor | None:
        if not self.settings.direct_download:
            return None
        if self._fetches is None:
            self._fetches = ThreadPoolExecutor(max_workers=po_page.DIRECT_PARALLEL, thread_name_prefix="direct")
        return self._fetches

    def close_named(self, names: list[str]) -> None:
        """From the home tab (current): close the tabs it opened under these names, without switching to them (a
        tab whose page is still loading would hold the driver until it has loaded)."""
        with dead_browser_errors():
            named_tabs.close(self.require_driver(), names)

    def navigate_named(self, name: str, url: str) -> bool:
        """From the home tab (current): send the tab it opened under `name` to `url` without switching to it or
        waiting for its page; False when that tab is gone or out of the home tab's sight."""
        with dead_browser_errors():
            return named_tabs.navigate(self.require_driver(), name, url)

    def open_tab(self, url: str, name: str) -> str:
        """Open `url` in a new tab without waiting for its page; the current tab stays current and keeps the new
        tab's window under `name`. From the home tab, page_wait.probe_tabs can then look into it from there."""
        with dead_browser_errors():
            return self._open_background_tab(self.require_driver(), url, name)

    @staticmethod
    def _open_background_tab(driver: WebDriver, url: str, name: str = "") -> str:
        """Open `url` in a new tab without waiting for it; return the tab's handle. The current tab stays current.

        The driver waits for a tab's pending navigation before the next command that involves it, so opening a
        tab, navigating it and switching back waited for the portal's answer (about 0.4 s a PO on the demo's
        realistic portal, 20 s on a slow one). So a script in the current tab opens a blank tab, which returns at
        once; the page instrument goes into that tab before its document exists, and the tab navigates a moment
        after the script that asks it to has returned, when the driver is back on the current tab.
        """
        current = driver.current_window_handle
        before = set(driver.window_handles)
        if named_tabs.open_blank(driver, name):
            # The browser opened it, but the driver may list the new tab a moment later.
            deadline = time.monotonic() + TAB_APPEAR_S
            while True:
                opened = [h for h in driver.window_handles if h not in before]
                if opened:
                    handle = opened[0]
                    break
                if time.monotonic() >= deadline:
                    # Not the driver's way now: that would load the PO in a second tab. This PO opens its own tab
                    # when its turn comes; the late one is closed with the PO's other extra tabs.
                    raise WebDriverException(f"the background tab did not appear within {TAB_APPEAR_S:g} s")
                time.sleep(TAB_POLL_S)
            driver.switch_to.window(handle)
        else:
            # A browser that blocks script-opened tabs (popup blocker): open one the driver's way.
            driver.switch_to.new_window("tab")
            handle = driver.current_window_handle
        install_early(driver)
        driver.execute_script(_NAVIGATE_SOON_JS, url, NAVIGATE_DELAY_MS)
        driver.switch_to.window(current)
        return handle

    def _restore_home_tab(self) -> None:
        """After every PO exactly the home tab is open; a browser that cannot get there is dead."""
        try:
            self._back_home()
        except WebDriverException as exc:
            raise BrowserDeadError(f"the home tab is gone: {first_line(exc)}") from exc
        self._tab(TabState.NONE, "")

    def _back_home(self) -> None:
        driver = self.require_driver()
        close_tabs_but(driver, driver.window_handles, {self.home()})
        driver.switch_to.window(self.home())

    def home(self) -> str:
        if self.home_handle is None:
            raise BrowserDeadError("the session was not started")
        return self.home_handle

    def require_driver(self) -> WebDriver:
        if self.driver is None:
            raise BrowserDeadError("the browser is not running")
        return self.driver

    def _tab(self, state: TabState, detail: str) -> None:
        if self.on_tab is None:
            return
        tabs = 0
        if self.driver is not None:
            with contextlib.suppress(Exception):  # the count is informative; a failure here must not fail a PO
                tabs = len(self.driver.window_handles)
        self.on_tab(state, detail, tabs)
