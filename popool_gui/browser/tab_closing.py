"""Closing a browser's tabs the driver's way: a switch to each, then close. For tabs the home tab has no hold on
(named_tabs.py closes those it has without a switch)."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable

from selenium.common.exceptions import NoSuchWindowException
from selenium.webdriver.remote.webdriver import WebDriver


def close_tabs_but(driver: WebDriver, handles: Iterable[str], keep: Collection[str]) -> bool:
    """Close each of `handles` not in `keep`; True when there was one to close. The driver is then on no open tab:
    the caller switches to the one it wants."""
    closed = False
    for handle in handles:
        if handle in keep:
            continue
        closed = True
        with contextlib.suppress(NoSuchWindowException):  # it closed itself meanwhile
            driver.switch_to.window(handle)
            driver.close()
    return closed
