"""An instrument in the page that tells when it has come to rest, so an empty or short list is believed only then.

Installed before any page script runs (Chromium: CDP `Page.addScriptToEvaluateOnNewDocument`, per tab), it
counts pending `fetch`/XHR requests and short one-shot timers, and records when the DOM last changed and when
each node was inserted. Where it cannot be installed early (Firefox, a tab opened by a script), the page probe
installs it on first look: it then sees only what happens from that moment, and `early` says so.
"""

from __future__ import annotations

import contextlib

import structlog
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.browser.js import load

log = structlog.get_logger()

# Timers further out than this are keep-alives or session countdowns, not a list about to be rendered.
TIMER_HORIZON_MS = 10_000

# The instrument (js/activity_instrument.js), with its placeholders __HORIZON__ and __EARLY__ filled in below.
INSTRUMENT_JS = load("activity_instrument.js")


def instrument_source(*, early: bool) -> str:
    return INSTRUMENT_JS.replace("__HORIZON__", str(TIMER_HORIZON_MS)).replace(
        "__EARLY__", "true" if early else "false"
    )


def install_early(driver: WebDriver) -> bool:
    """Install the instrument for the next documents of the current tab; False where the browser has no CDP."""
    execute_cdp = getattr(driver, "execute_cdp_cmd", None)
    if execute_cdp is None:
        return False
    try:
        execute_cdp("Page.addScriptToEvaluateOnNewDocument", {"source": instrument_source(early=True)})
    except WebDriverException as exc:
        log.info("page_instrument_unavailable", error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return False
    return True


def install_late(driver: WebDriver) -> None:
    """Install into the current document now (Firefox, script-opened tabs); a page that forbids it is left alone."""
    with contextlib.suppress(WebDriverException):
        driver.execute_script(instrument_source(early=False))
