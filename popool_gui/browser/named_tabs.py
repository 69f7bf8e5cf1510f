"""The home tab's hold on the PO tabs it opened: their windows, kept by name in the home document
(`window.__popoolTabs`). Through them the home tab looks into those tabs (page_wait.probe_tabs), reads them
(po_page), sends them to their next page and closes them, each in one round trip and without switching the driver,
which would wait for a tab's page to load. A tab that has gone to another origin (a sign-in redirect) is out of
the home tab's sight.
"""

from __future__ import annotations

from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.browser.js import load

_OPEN_JS = load("named_tab_open.js")
_NAVIGATE_JS = load("named_tab_navigate.js")
_CLOSE_JS = load("named_tabs_close.js")


def open_blank(driver: WebDriver, name: str) -> bool:
    """From the current tab: open a blank tab and keep its window under `name`; False when the browser refused."""
    return bool(driver.execute_script(_OPEN_JS, name))


def navigate(driver: WebDriver, name: str, url: str) -> bool:
    """From the home tab (current): send the tab kept under `name` to `url` without waiting for its page; False
    when that tab is gone or out of sight."""
    return bool(driver.execute_script(_NAVIGATE_JS, name, url))


def close(driver: WebDriver, names: list[str]) -> None:
    """From the home tab (current): close the tabs kept under these names."""
    driver.execute_script(_CLOSE_JS, names)
