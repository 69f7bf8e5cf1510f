"""A browser on a Selenium Grid node: started through the Grid with managed downloads, its files brought to this
machine through the Grid (grid_downloads.py), its session deleted through the Grid when it cannot quit or when the
worker is killed, so its slot frees at once."""

from __future__ import annotations

from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.browser import grid
from popool_gui.browser.backend import BackendKind, BrowserBackend, DownloadClick
from popool_gui.browser.browser_options import CHROMIUM_KINDS, chromium_options, firefox_options
from popool_gui.browser.downloads import DownloadOutcome
from popool_gui.browser.errors import LOST_DRIVER, BrowserStartError, first_line
from popool_gui.browser.grid_downloads import clear_node_files, node_files, wait_for_managed_download
from popool_gui.browser.steps import Steps, finished


class GridBackend(BrowserBackend):
    kind = BackendKind.GRID
    # The node's files are told apart by their names before and after a click, one file at a time.
    attributes_downloads = False
    direct_fetch = False

    def build_driver(self, staging_dir: Path, user_data_dir: Path | None) -> WebDriver:
        """`staging_dir` and `user_data_dir` are this machine's: they stay out of the node's options."""
        settings = self.settings
        kind = settings.browser
        options = chromium_options(settings) if kind in CHROMIUM_KINDS else firefox_options(settings)
        options.enable_downloads = True
        try:
            return webdriver.Remote(command_executor=settings.grid_url, options=options)
        except (WebDriverException, *LOST_DRIVER) as exc:  # an unreachable Grid raises urllib3's MaxRetryError
            raise BrowserStartError(
                f"cannot start a {kind.value} session on the Selenium Grid at {settings.grid_url}: {first_line(exc)}"
            ) from exc

    def start(self, staging_dir: Path, user_data_dir: Path | None) -> WebDriver:
        driver = self.build_driver(staging_dir, user_data_dir)
        self.session_id = str(driver.session_id or "")
        try:
            self.node = grid.read_status(self.settings.grid_url).node_of(self.session_id)
        except grid.GridPreflightError as exc:  # the node is shown for information only
            self._log.info("grid_node_unknown", error=str(exc))
        return driver

    def route_downloads(self, driver: WebDriver, staging_dir: Path) -> None:
        # The node keeps its own download folder for the Grid's managed downloads: it stays as the node set it.
        clear_node_files(driver)

    def tidy_before_po(self, driver: WebDriver) -> None:
        clear_node_files(driver)

    def files_before_click(self, driver: WebDriver, staging: Path) -> set[str]:
        return node_files(driver)

    def wait_for(self, click: DownloadClick) -> Steps[DownloadOutcome]:
        outcome = wait_for_managed_download(
            click.driver, click.staging, click.before, click.deadline, **click.reports()
        )
        return finished(outcome)

    def end(self, driver: WebDriver | None) -> None:
        if not self.quit_within(driver) and self.session_id:
            # A session that would not quit, or one already killed, must not keep its Grid slot.
            grid.delete_session(self.settings.grid_url, self.session_id)

    def kill(self) -> None:
        if self.session_id:
            grid.delete_session(self.settings.grid_url, self.session_id)
