"""Browser start-up and the long-lived session of one worker: a home tab that keeps the sign-in, one tab per PO.

One session is used by one thread only (WebDriver is not thread-safe); `quit()` is the one exception: it may
run while nothing else uses the driver, and it bounds `driver.quit()` and then kills this session's own
process tree, never any other browser on the machine.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import psutil
import structlog
import urllib3.exceptions
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchDriverException,
    NoSuchWindowException,
    WebDriverException,
)
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.batch.model import PoRecord, PoResult, TabState
from popool_gui.browser import grid, grid_downloads, named_tabs, page_wait, po_page
from popool_gui.browser.cdp import execute_cdp, performance_log
from popool_gui.browser.cookie_transfer import PortalCookie, install_cookies
from popool_gui.browser.downloads import DownloadEvents, clear_staging
from popool_gui.browser.errors import BrowserDeadError, BrowserStartError, first_line, is_dead_browser_error
from popool_gui.browser.js import load
from popool_gui.browser.page_activity import install_early
from popool_gui.browser.portal import PortalProfile
from popool_gui.settings import BrowserKind, Settings

log = structlog.get_logger()

DRIVER_NAMES: dict[BrowserKind, str] = {
    BrowserKind.EDGE: "msedgedriver",
    BrowserKind.CHROME: "chromedriver",
    BrowserKind.CHROMIUM: "chromedriver",
    BrowserKind.FIREFOX: "geckodriver",
}
CHROMIUM_KINDS = frozenset({BrowserKind.EDGE, BrowserKind.CHROME, BrowserKind.CHROMIUM})
DEFAULT_BINARIES: dict[BrowserKind, tuple[str, ...]] = {
    BrowserKind.CHROMIUM: ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium"),
}
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,DownloadBubble",
    "--disable-popup-blocking",
    # Background tabs (tab pipelining) must load and run their list-rendering scripts at full speed; Chromium
    # otherwise throttles timers and renderers of hidden tabs.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)
QUIT_TIMEOUT_S = 10.0
TAB_APPEAR_S = 2.0  # how long a script-opened background tab may take to show up in the driver's list
TAB_POLL_S = 0.02
# A background tab navigates this long after the script that asks it to, so the driver need not wait for it.
NAVIGATE_DELAY_MS = 100
_NAVIGATE_SOON_JS = load("navigate_soon.js")
KILL_WAIT_S = 5.0
# What a driver call raises when the driver's HTTP connection is gone (driver or browser killed), not a
# WebDriverException: the browser counts as dead.
LOST_DRIVER = (ConnectionError, urllib3.exceptions.HTTPError, http.client.HTTPException)


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


def find_driver(settings: Settings) -> str | None:
    """The driver executable: the setting, else PATH; None leaves it to Selenium Manager."""
    if settings.driver_path:
        return settings.driver_path
    return shutil.which(DRIVER_NAMES[settings.browser])


def find_binary(settings: Settings) -> str | None:
    if settings.browser_binary:
        return settings.browser_binary
    return next((p for p in DEFAULT_BINARIES.get(settings.browser, ()) if Path(p).is_file()), None)


def download_prefs(staging_dir: Path | None, *, block_images: bool) -> dict[str, Any]:
    """Chromium preferences: silent downloads and a blank first tab; `staging_dir` None leaves the folder to a
    Grid node, whose managed downloads need their own."""
    prefs: dict[str, Any] = {
        "download.prompt_for_download": False,
        "download.directory_upgrade": True,
        "profile.default_content_setting_values.automatic_downloads": 1,
        "plugins.always_open_pdf_externally": True,
        # Safe Browsing holds back or blocks downloads it cannot verify (and it needs the network).
        "safebrowsing.enabled": False,
        "safebrowsing.disable_download_protection": True,
        "download_restrictions": 0,
        "credentials_enable_service": False,
        "profile.password_manager_enabled": False,
        # A blank first tab instead of the new-tab page: the driver's first command waits for that page's
        # navigation, which took 0.1-5 s (and 5 s with two browsers starting together) on 2 cores.
        "session.restore_on_startup": 4,
        "session.startup_urls": ["about:blank"],
    }
    if staging_dir is not None:
        prefs["download.default_directory"] = str(staging_dir)
    if block_images:
        prefs["profile.managed_default_content_settings.images"] = 2
    return prefs


def _chromium_options(settings: Settings, staging_dir: Path | None, user_data_dir: Path | None) -> ArgOptions:
    """Options of a local browser, or with `staging_dir` None of a Grid session: then nothing that names a path
    of this machine (binary, profile, download folder, sandbox as root) goes to the node."""
    options: webdriver.ChromeOptions | webdriver.EdgeOptions
    if settings.browser is BrowserKind.EDGE:
        options = webdriver.EdgeOptions()
        logging_key = "ms:loggingPrefs"
    else:
        options = webdriver.ChromeOptions()
        logging_key = "goog:loggingPrefs"
    local = staging_dir is not None
    binary = find_binary(settings) if local else None
    if binary:
        options.binary_location = binary
    if settings.headless:
        options.add_argument("--headless=new")
        options.add_argument("--disable-gpu")
    if local and sys.platform.startswith("linux"):
        if os.geteuid() == 0:
            options.add_argument("--no-sandbox")  # Chromium refuses to start as root with its sandbox
        # A fixed cookie key instead of the desktop keyring, which a worker cannot reach; clones made by
        # popool on Linux stay readable this way.
        options.add_argument("--password-store=basic")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    if user_data_dir is not None:
        options.add_argument(f"--user-data-dir={user_data_dir}")
    options.add_experimental_option("prefs", download_prefs(staging_dir, block_images=settings.block_resources))
    # Download progress arrives as DevTools events in the performance log: failed downloads are seen at once.
    options.set_capability(logging_key, {"performance": "ALL"})
    options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": False, "enablePage": True})
    options.page_load_strategy = "eager"  # popool waits for its own page conditions
    return options


def _firefox_options(settings: Settings, staging_dir: Path | None) -> webdriver.FirefoxOptions:
    options = webdriver.FirefoxOptions()
    binary = find_binary(settings) if staging_dir is not None else None
    if binary:
        options.binary_location = binary
    if settings.headless:
        options.add_argument("-headless")
    if staging_dir is not None:
        options.set_preference("browser.download.folderList", 2)
        options.set_preference("browser.download.dir", str(staging_dir))
    preferences: dict[str, str | bool] = {
        "browser.download.useDownloadDir": True,
        "browser.download.always_ask_before_handling_new_types": False,
        "browser.download.alwaysOpenPanel": False,
        "browser.helperApps.neverAsk.saveToDisk": "application/octet-stream,application/pdf,text/plain",
        "pdfjs.disabled": True,
    }
    for key, value in preferences.items():
        options.set_preference(key, value)
    if settings.block_resources:
        options.set_preference("permissions.default.image", 2)
    options.page_load_strategy = "eager"
    return options


def build_driver(settings: Settings, *, staging_dir: Path, user_data_dir: Path | None) -> WebDriver:
    """Start the browser of `settings` with downloads going to `staging_dir`; raise BrowserStartError.

    With a `grid_url` the browser starts on a Grid node with managed downloads; `staging_dir` and
    `user_data_dir` are this machine's and stay out of its options."""
    kind = settings.browser
    if settings.grid_url:
        return _build_remote(settings)
    options: ArgOptions
    if kind in CHROMIUM_KINDS:
        options = _chromium_options(settings, staging_dir, user_data_dir)
    else:
        options = _firefox_options(settings, staging_dir)
        if user_data_dir is not None:
            options.add_argument("-profile")
            options.add_argument(str(user_data_dir))
    driver_path = find_driver(settings)
    # The casts name the options class the branches above made for `kind`; `options` is typed as their base.
    try:
        if kind is BrowserKind.EDGE:
            edge_options = cast(webdriver.EdgeOptions, options)
            return webdriver.Edge(options=edge_options, service=webdriver.EdgeService(executable_path=driver_path))
        if kind is BrowserKind.FIREFOX:
            firefox_options = cast(webdriver.FirefoxOptions, options)
            return webdriver.Firefox(
                options=firefox_options, service=webdriver.FirefoxService(executable_path=driver_path)
            )
        chrome_options = cast(webdriver.ChromeOptions, options)
        return webdriver.Chrome(options=chrome_options, service=webdriver.ChromeService(executable_path=driver_path))
    except NoSuchDriverException as exc:
        raise BrowserStartError(
            f"{DRIVER_NAMES[kind]} not found and it could not be downloaded: install {DRIVER_NAMES[kind]} matching "
            f"your {kind.value} version and put its path in the 'Driver path' setting (driver_path)"
        ) from exc
    except (WebDriverException, OSError) as exc:
        raise BrowserStartError(_start_hint(settings, driver_path, exc)) from exc


def _build_remote(settings: Settings) -> WebDriver:
    kind = settings.browser
    options = _chromium_options(settings, None, None) if kind in CHROMIUM_KINDS else _firefox_options(settings, None)
    options.enable_downloads = True
    try:
        return webdriver.Remote(command_executor=settings.grid_url, options=options)
    except (WebDriverException, *LOST_DRIVER) as exc:  # an unreachable Grid raises urllib3's MaxRetryError
        raise BrowserStartError(
            f"cannot start a {kind.value} session on the Selenium Grid at {settings.grid_url}: {first_line(exc)}"
        ) from exc


def _start_hint(settings: Settings, driver_path: str | None, exc: BaseException) -> str:
    text = first_line(exc)
    lowered = text.lower()
    driver = driver_path or DRIVER_NAMES[settings.browser]
    if "user data directory is already in use" in lowered:
        return (
            f"the browser profile is in use by another browser: close {settings.browser.value} or use a clone ({text})"
        )
    binary_missing = "cannot find" in lowered and "binary" in lowered
    if binary_missing or ("no such file" in lowered and not settings.browser_binary):
        return (
            f"{settings.browser.value} was not found: install it or put its path in the 'Browser binary' setting "
            f"(browser_binary) ({text})"
        )
    if "only supports" in lowered and "version" in lowered:
        return f"{driver} does not match the installed {settings.browser.value}: install the matching driver ({text})"
    return f"cannot start {settings.browser.value} with {driver}: {text}"


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
        self._owned_profile: Path | None = None
        self._driver_pid: int | None = None
        self._browser_pid: int | None = None
        self._session_id = ""  # the Grid's id of this session; "" for a local browser
        self._node = ""  # the Grid node it runs on
        self._log = log.bind(worker=worker)

    # -- life cycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the browser and open the home tab at the portal's base URL (the SSO chain runs there)."""
        self.portal.require_base_url()
        started = time.monotonic()
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        clear_staging(self.staging_dir)
        profile = self.user_data_dir
        if profile is None and self.settings.browser in CHROMIUM_KINDS and not self.settings.grid_url:
            # Our own folder rather than chromedriver's, so it is removed even when the browser has to be killed.
            self._owned_profile = Path(tempfile.mkdtemp(prefix="popool-browser-"))
            profile = self._owned_profile
        self.driver = build_driver(self.settings, staging_dir=self.staging_dir, user_data_dir=profile)
        self._remember_pids()
        driver = self.driver
        try:
            if self.remote:
                self._remember_grid_session()
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
            browser_pid=self._browser_pid,
            driver_pid=self._driver_pid,
            grid_node=self._node,
            download_events=self.events is not None,
            seconds=round(time.monotonic() - started, 2),
        )

    def _enable_download_events(self) -> None:
        assert self.driver is not None
        if self.settings.browser not in CHROMIUM_KINDS:
            return
        if self.remote:
            # The node keeps its own download folder for the Grid's managed downloads: it stays as the node set it.
            grid_downloads.clear_node_files(self.driver)
        else:
            # New tabs do not always inherit the download folder preference; the browser-wide behaviour does.
            execute_cdp(
                self.driver,
                "Browser.setDownloadBehavior",
                # Every file under its download's guid: tabs downloading at once never meet (tab_downloads.py).
                {"behavior": "allowAndName", "downloadPath": str(self.staging_dir), "eventsEnabled": True},
            )
        try:
            performance_log(self.driver)
        except (WebDriverException, KeyError):
            self._log.info("download_events_unavailable")
            return
        self.events = DownloadEvents()

    def _remember_grid_session(self) -> None:
        assert self.driver is not None
        self._session_id = str(self.driver.session_id or "")
        try:
            self._node = grid.read_status(self.settings.grid_url).node_of(self._session_id)
        except grid.GridPreflightError as exc:  # the node is shown for information only
            self._log.info("grid_node_unknown", error=str(exc))

    @property
    def remote(self) -> bool:
        """The browser runs on a Selenium Grid node."""
        return bool(self.settings.grid_url)

    @property
    def session_id(self) -> str:
        """The Grid's id of this session ("" for a local browser): what deletes it when the worker is killed."""
        return self._session_id

    @property
    def node(self) -> str:
        """The address of the Grid node the browser runs on ("" for a local browser or when the Grid did not say)."""
        return self._node

    def _remember_pids(self) -> None:
        assert self.driver is not None
        service = getattr(self.driver, "service", None)
        process = getattr(service, "process", None)
        if process is None:
            return
        self._driver_pid = process.pid
        with contextlib.suppress(psutil.Error):
            children = psutil.Process(process.pid).children()
            browsers = [c for c in children if "driver" not in c.name().lower()]
            if browsers:
                self._browser_pid = browsers[0].pid

    @property
    def driver_pid(self) -> int | None:
        return self._driver_pid

    @property
    def browser_pid(self) -> int | None:
        """The browser's main process (a child of the driver service); None for a Grid session."""
        return self._browser_pid

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
        """Close the browser: `driver.quit()` within QUIT_TIMEOUT_S, then kill what is left of this session's tree."""
        driver, self.driver = self.driver, None
        if self._fetches is not None:
            # A fetch still running ends at its own timeout; its file goes with the staging folder below.
            self._fetches.shutdown(wait=False, cancel_futures=True)
            self._fetches = None
        tree = self._process_tree()
        quit_ok = threading.Event()
        if driver is not None:
            done = threading.Event()

            def close() -> None:
                with contextlib.suppress(Exception):  # a dead browser cannot be closed politely
                    driver.quit()
                    quit_ok.set()
                done.set()

            threading.Thread(target=close, name=f"quit-browser-{self.worker}", daemon=True).start()
            if not done.wait(QUIT_TIMEOUT_S):
                self._log.warning("browser_quit_timeout", seconds=QUIT_TIMEOUT_S)
        if self._session_id and not quit_ok.is_set():
            # A session that would not quit, or one already killed, must not keep its Grid slot.
            grid.delete_session(self.settings.grid_url, self._session_id)
        _, alive = psutil.wait_procs(tree, timeout=KILL_WAIT_S if driver is not None else 0)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                process.kill()
        if alive:
            psutil.wait_procs(alive, timeout=KILL_WAIT_S)
            self._log.warning("browser_killed", pids=[p.pid for p in alive])
        if self._owned_profile is not None:
            shutil.rmtree(self._owned_profile, ignore_errors=True)
            self._owned_profile = None
        clear_staging(self.staging_dir)

    def kill(self) -> None:
        """Kill this session's driver and browser processes now. Safe from any thread: it makes no WebDriver call.

        The thread using the driver then sees its call fail and must still call `quit()` to clean up. A Grid
        session is deleted through the Grid's HTTP API instead.
        """
        if self._session_id:
            grid.delete_session(self.settings.grid_url, self._session_id)
            return
        tree = self._process_tree()
        for process in tree:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(tree, timeout=KILL_WAIT_S)

    def _process_tree(self) -> list[psutil.Process]:
        if self._driver_pid is None:
            return []
        try:
            root = psutil.Process(self._driver_pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

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
            managed_downloads=self.remote,
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
        home = self.home()
        for handle in driver.window_handles:
            if handle != home:
                with contextlib.suppress(NoSuchWindowException):
                    driver.switch_to.window(handle)
                    driver.close()
        driver.switch_to.window(home)

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
