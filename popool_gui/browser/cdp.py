"""DevTools commands and the performance log, the same way on a local Chromium driver and a Grid session.

`webdriver.Remote` has neither `execute_cdp_cmd` nor `get_log`, but a Chromium session on a Grid answers both
commands (the Grid passes them to the node's chromedriver), so popool sends them by command name.
"""

from __future__ import annotations

from typing import Any

from selenium.webdriver.remote.command import Command
from selenium.webdriver.remote.webdriver import WebDriver

EXECUTE_CDP = "executeCdpCommand"  # chromedriver's /goog/cdp/execute, as Selenium's Chromium connection names it


def execute_cdp(driver: WebDriver, cmd: str, params: dict[str, Any] | None = None) -> Any:
    """Run a DevTools command; raises WebDriverException (or KeyError for a browser without DevTools)."""
    return driver.execute(EXECUTE_CDP, {"cmd": cmd, "params": params or {}})["value"]


def performance_log(driver: WebDriver) -> list[dict[str, Any]]:
    """The entries of Chromium's performance log since the last read."""
    return list(driver.execute(Command.GET_LOG, {"type": "performance"})["value"])
