"""Errors of the browser layer that callers act on; everything else becomes a PoResult."""

from __future__ import annotations

import http.client

import urllib3.exceptions
from selenium.common.exceptions import InvalidSessionIdException, WebDriverException

from popool_gui.redact import redact_urls


class BrowserError(RuntimeError):
    """Base of the browser layer's errors. Their messages reach dialogs, the CLI and the logs, and often quote a
    URL (the portal's, the Grid's with its `user:password@`): its secret parts are redacted here, once."""

    def __init__(self, message: str = "") -> None:
        super().__init__(redact_urls(message))


class BrowserStartError(BrowserError):
    """The browser or its driver could not start; the message says what to install or which setting to fill."""


class BrowserDeadError(BrowserError):
    """The browser or driver is gone: the worker restarts the browser and requeues the PO."""


class ProfileCloneError(BrowserError):
    """A browser profile could not be cloned completely; the message names the file that failed."""


# What a driver call raises when the driver's HTTP connection is gone (driver or browser killed, a Grid out of
# reach), not a WebDriverException: the browser counts as dead.
LOST_DRIVER = (ConnectionError, urllib3.exceptions.HTTPError, http.client.HTTPException)

# Messages of WebDriverException that mean the browser or driver is gone, not that one page misbehaved.
_DEAD_MARKERS: tuple[str, ...] = (
    "invalid session id",
    "session deleted",
    "disconnected",
    "not connected to devtools",
    "chrome not reachable",
    "browser has closed",
    "no such session",
    "tried to run command without establishing a connection",
    "failed to establish a new connection",
    "connection refused",
)


def is_dead_browser_error(exc: BaseException) -> bool:
    """True when `exc` says the browser or its driver is gone (the worker must restart the browser)."""
    if isinstance(exc, InvalidSessionIdException):
        return True
    if isinstance(exc, LOST_DRIVER):
        return True
    if isinstance(exc, WebDriverException):
        text = (exc.msg or str(exc)).lower()
        return any(marker in text for marker in _DEAD_MARKERS)
    return False


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message: Selenium messages carry long stack traces after it."""
    text = (getattr(exc, "msg", None) or str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__
