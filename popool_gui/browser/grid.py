"""Talking to a Selenium Grid 4 over its HTTP API: `/status` before a run, and deleting a session by id.

A run on a Grid asks `/status` first, so the three problems that otherwise show up as every worker waiting 60 s
in the Grid's queue get one clear message within seconds: the Grid is unreachable, no node offers the browser
with managed downloads, or there are fewer free slots than workers. A session is deleted through the Grid (not
the driver object) when its worker is killed, so its slot frees at once.

A Grid URL may carry `user:password@` (Grid's basic authentication): the credentials go into the request's
authorization through urllib's own handler, and every message shows the URL only through `redact_urls`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from popool_gui.browser.errors import BrowserError
from popool_gui.settings import BrowserKind

STATUS_TIMEOUT_S = 5.0
DELETE_TIMEOUT_S = 10.0
DOWNLOADS_CAPABILITY = "se:downloadsEnabled"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# The W3C browserName a Grid node advertises for each browser setting.
GRID_BROWSER_NAMES: dict[BrowserKind, str] = {
    BrowserKind.EDGE: "MicrosoftEdge",
    BrowserKind.CHROME: "chrome",
    BrowserKind.CHROMIUM: "chrome",
    BrowserKind.FIREFOX: "firefox",
}
_FIX_URL = "start the Grid (docs/grid.md) or correct the 'Selenium Grid URL' setting (grid_url)"


class GridPreflightError(BrowserError):
    """The Grid cannot run this batch as configured; the message names the fix. The CLI exits 2 on it."""


@dataclass(frozen=True, slots=True)
class GridSlot:
    browser_name: str
    downloads: bool  # the slot's stereotype has se:downloadsEnabled (node started with managed downloads)
    session_id: str  # "" when free


@dataclass(frozen=True, slots=True)
class GridNode:
    uri: str
    available: bool  # availability UP
    slots: tuple[GridSlot, ...] = ()


@dataclass(frozen=True, slots=True)
class GridStatus:
    ready: bool
    message: str
    nodes: tuple[GridNode, ...] = field(default_factory=tuple)

    @property
    def sessions(self) -> int:
        """Sessions the Grid runs now, on every node."""
        return sum(1 for node in self.nodes for slot in node.slots if slot.session_id)

    def node_of(self, session_id: str) -> str:
        """The URI of the node running `session_id`; "" when the Grid does not list it."""
        for node in self.nodes:
            if any(slot.session_id == session_id for slot in node.slots):
                return node.uri
        return ""


def endpoint(grid_url: str, path: str) -> str:
    """`path` under the Grid's address (which may end in /wd/hub), without credentials, query or fragment."""
    parts = urlsplit(grid_url.strip())
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + path, "", ""))


def _opener(grid_url: str) -> urllib.request.OpenerDirector:
    parts = urlsplit(grid_url.strip())
    handlers: list[urllib.request.BaseHandler] = []
    if parts.username is not None:
        passwords = urllib.request.HTTPPasswordMgrWithPriorAuth()
        passwords.add_password(
            None, endpoint(grid_url, "/"), parts.username or "", parts.password or "", is_authenticated=True
        )
        handlers.append(urllib.request.HTTPBasicAuthHandler(passwords))
    if parts.hostname in LOOPBACK_HOSTS:
        handlers.append(urllib.request.ProxyHandler({}))  # loopback never goes through a proxy from the environment
    return urllib.request.build_opener(*handlers)


def _request(grid_url: str, method: str, path: str, timeout_s: float) -> Any:
    request = urllib.request.Request(endpoint(grid_url, path), method=method, headers={"Accept": "application/json"})
    with _opener(grid_url).open(request, timeout=timeout_s) as response:
        body = response.read()
    return json.loads(body) if body else {}


def read_status(grid_url: str, timeout_s: float = STATUS_TIMEOUT_S) -> GridStatus:
    """The Grid's `/status`; raises GridPreflightError when the Grid cannot be reached or does not answer JSON."""
    try:
        payload = _request(grid_url, "GET", "/status", timeout_s)
    except urllib.error.HTTPError as exc:
        raise GridPreflightError(
            f"the Selenium Grid at {grid_url} answered HTTP {exc.code} to /status: {_FIX_URL}"
        ) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise GridPreflightError(f"cannot reach the Selenium Grid at {grid_url} ({reason}): {_FIX_URL}") from exc
    return parse_status(payload)


def parse_status(payload: Any) -> GridStatus:
    value = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(value, dict):
        value = {}
    nodes = []
    for node in value.get("nodes", ()) or ():
        slots = []
        for slot in node.get("slots", ()) or ():
            stereotype = slot.get("stereotype") or {}
            session = slot.get("session") or {}
            slots.append(
                GridSlot(
                    browser_name=str(stereotype.get("browserName", "")),
                    downloads=stereotype.get(DOWNLOADS_CAPABILITY) is True,
                    session_id=str(session.get("sessionId", "")) if isinstance(session, dict) else "",
                )
            )
        nodes.append(
            GridNode(uri=str(node.get("uri", "")), available=node.get("availability") == "UP", slots=tuple(slots))
        )
    return GridStatus(ready=bool(value.get("ready")), message=str(value.get("message", "")), nodes=tuple(nodes))


def preflight(grid_url: str, browser: BrowserKind, workers: int, timeout_s: float = STATUS_TIMEOUT_S) -> GridStatus:
    """Check before the first worker starts that the Grid can give every worker a browser with managed downloads.

    Raises GridPreflightError naming the fix; returns the status read.
    """
    status = read_status(grid_url, timeout_s)
    name = GRID_BROWSER_NAMES[browser]
    up = [slot for node in status.nodes if node.available for slot in node.slots]
    offered = [slot for slot in up if slot.browser_name.lower() == name.lower()]
    if not offered:
        raise GridPreflightError(
            f"no node of the Selenium Grid at {grid_url} offers {name} (the 'Browser' setting is {browser.value}): "
            f"start a node with {name} and its driver (docs/grid.md), or choose a browser the Grid offers"
        )
    usable = [slot for slot in offered if slot.downloads]
    if not usable:
        raise GridPreflightError(
            f"the Selenium Grid at {grid_url} offers {name} without managed downloads, so no file would reach this "
            f"machine: start the Grid's nodes with --enable-managed-downloads true (docs/grid.md)"
        )
    free = sum(1 for slot in usable if not slot.session_id)
    if free < workers:
        raise GridPreflightError(
            f"the Selenium Grid at {grid_url} has {free} free {name} slot(s) with managed downloads for {workers} "
            f"workers: set 'Workers' to {max(free, 1)} or fewer, or add nodes or raise their max-sessions "
            f"(docs/grid.md); sessions left by a crashed run end after the Grid's --session-timeout"
        )
    return status


def delete_session(grid_url: str, session_id: str, timeout_s: float = DELETE_TIMEOUT_S) -> bool:
    """Delete `session_id` on the Grid (its browser quits, its slot frees); True when the Grid confirmed it.

    A session the Grid no longer knows counts as deleted. Makes no call on any WebDriver object, so it is safe
    from any thread, also while another thread waits in a driver call of that session.
    """
    if not session_id:
        return False
    try:
        _request(grid_url, "DELETE", f"/session/{quote(session_id, safe='')}", timeout_s)
    except urllib.error.HTTPError as exc:
        with contextlib.suppress(Exception):
            exc.close()
        return exc.code == 404
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError):
        return False
    return True
