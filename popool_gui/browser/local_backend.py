"""A browser on this machine: started through its driver service, downloading into the local staging folder, ended
by `driver.quit()` and then by killing what is left of its own process tree (never any other browser)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import cast

import psutil
from selenium import webdriver
from selenium.common.exceptions import NoSuchDriverException, WebDriverException
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.browser.backend import BackendKind, BrowserBackend, DownloadClick
from popool_gui.browser.browser_options import (
    CHROMIUM_KINDS,
    DRIVER_NAMES,
    chromium_options,
    find_driver,
    firefox_options,
    local_chromium,
    local_firefox,
)
from popool_gui.browser.cdp import execute_cdp
from popool_gui.browser.downloads import DownloadOutcome, staged_names, wait_for_download
from popool_gui.browser.errors import BrowserStartError, first_line
from popool_gui.browser.steps import Steps, finished
from popool_gui.browser.tab_downloads import watch_download
from popool_gui.settings import BrowserKind, Settings

KILL_WAIT_S = 5.0


class LocalBackend(BrowserBackend):
    kind = BackendKind.LOCAL
    attributes_downloads = True
    direct_fetch = True

    def __init__(self, settings: Settings, worker: int) -> None:
        super().__init__(settings, worker)
        self._owned_profile: Path | None = None

    def build_driver(self, staging_dir: Path, user_data_dir: Path | None) -> WebDriver:
        settings = self.settings
        kind = settings.browser
        options: ArgOptions
        if kind in CHROMIUM_KINDS:
            options = chromium = chromium_options(settings)
            local_chromium(chromium, settings, staging_dir, user_data_dir)
        else:
            options = firefox = firefox_options(settings)
            local_firefox(firefox, settings, staging_dir)
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
                firefox = cast(webdriver.FirefoxOptions, options)
                return webdriver.Firefox(options=firefox, service=webdriver.FirefoxService(executable_path=driver_path))
            chrome_options = cast(webdriver.ChromeOptions, options)
            return webdriver.Chrome(
                options=chrome_options, service=webdriver.ChromeService(executable_path=driver_path)
            )
        except NoSuchDriverException as exc:
            raise BrowserStartError(
                f"{DRIVER_NAMES[kind]} not found and it could not be downloaded: install {DRIVER_NAMES[kind]} "
                f"matching your {kind.value} version and put its path in the 'Driver path' setting (driver_path)"
            ) from exc
        except (WebDriverException, OSError) as exc:
            raise BrowserStartError(_start_hint(settings, driver_path, exc)) from exc

    def start(self, staging_dir: Path, user_data_dir: Path | None) -> WebDriver:
        profile = user_data_dir
        if profile is None and self.settings.browser in CHROMIUM_KINDS:
            # Our own folder rather than chromedriver's, so it is removed even when the browser has to be killed.
            self._owned_profile = Path(tempfile.mkdtemp(prefix="popool-browser-"))
            profile = self._owned_profile
        driver = self.build_driver(staging_dir, profile)
        self._remember_pids(driver)
        return driver

    def _remember_pids(self, driver: WebDriver) -> None:
        service = getattr(driver, "service", None)
        process = getattr(service, "process", None)
        if process is None:
            return
        self.driver_pid = process.pid
        with contextlib.suppress(psutil.Error):
            children = psutil.Process(process.pid).children()
            browsers = [c for c in children if "driver" not in c.name().lower()]
            if browsers:
                self.browser_pid = browsers[0].pid

    def route_downloads(self, driver: WebDriver, staging_dir: Path) -> None:
        # New tabs do not always inherit the download folder preference; the browser-wide behaviour does.
        execute_cdp(
            driver,
            "Browser.setDownloadBehavior",
            # Every file under its download's guid: tabs downloading at once never meet (tab_downloads.py).
            {"behavior": "allowAndName", "downloadPath": str(staging_dir), "eventsEnabled": True},
        )

    def tidy_before_po(self, driver: WebDriver) -> None:
        """Nothing here: the staging folder is this machine's, and the PO page clears it when it must."""

    def files_before_click(self, driver: WebDriver, staging: Path) -> set[str]:
        return staged_names(staging)

    def wait_for(self, click: DownloadClick) -> Steps[DownloadOutcome]:
        """With the browser's download reports, each tab's download is told apart and waited for one look per step;
        without them, the one new file in the staging folder is waited for at once."""
        if click.events is not None and click.fetch is not None:
            return watch_download(
                click.events,
                click.fetch,
                click.staging,
                tab=click.tab,
                po_tabs=click.po_tabs,
                known=click.known,
                deadline=click.deadline,
                start_deadline=click.start_deadline,
            )
        return finished(wait_for_download(click.staging, click.before, click.deadline, **click.reports()))

    def end(self, driver: WebDriver | None) -> None:
        """`driver.quit()` within its time, then kill what is left of this session's tree and remove its profile."""
        tree = self._process_tree()  # read first: the tree's children are gone from it once the driver quits
        self.quit_within(driver)
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

    def kill(self) -> None:
        tree = self._process_tree()
        for process in tree:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(tree, timeout=KILL_WAIT_S)

    def _process_tree(self) -> list[psutil.Process]:
        if self.driver_pid is None:
            return []
        try:
            root = psutil.Process(self.driver_pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []


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
