"""What the controller does for a run on a Selenium Grid: ask the Grid first, carry the sign-in, free slots.

- `preflight` before the first worker starts: a Grid that cannot run the batch gets one message naming the fix
  (GridPreflightError), instead of every worker waiting in the Grid's queue.
- `sign_in_locally` once per run: the portal's cookies from a signed-in local browser, for the workers' Grid
  sessions (a profile clone cannot reach a remote node).
- `GridSessions`: each worker's session id (from WorkerReady), deleted through the Grid when the controller kills
  or restarts that worker and at Stop, so its slot frees at once. If popool itself dies, the Grid's
  `--session-timeout` ends the sessions it left (docs/grid.md).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import structlog

from popool_gui.browser import grid
from popool_gui.browser.backend import BackendKind, backend_kind
from popool_gui.browser.cookie_transfer import PortalCookie, read_portal_cookies
from popool_gui.browser.errors import BrowserStartError
from popool_gui.browser.page_wait import wait_for_login_state
from popool_gui.browser.portal import PortalProfile
from popool_gui.browser.session import BrowserSession
from popool_gui.settings import Settings

log = structlog.get_logger()

SIGN_IN_POLL_S = 1.0
RELEASE_JOIN_S = grid.DELETE_TIMEOUT_S + 1.0


def preflight(settings: Settings) -> grid.GridStatus | None:
    """Before the first worker: raise GridPreflightError when the Grid cannot give every worker a browser with
    managed downloads. None for a local run."""
    if backend_kind(settings) is not BackendKind.GRID:
        return None
    return grid.preflight(settings.grid_url, settings.browser, settings.workers)


def sign_in_locally(
    settings: Settings,
    portal: PortalProfile,
    *,
    staging_dir: Path,
    user_data_dir: Path | None = None,
    wait_s: float = 300.0,
) -> tuple[PortalCookie, ...]:
    """Start a local browser (with `user_data_dir`, e.g. a clone of the signed-in profile), wait until the portal
    no longer shows its sign-in page, and return the portal's cookies. A visible browser gives a person `wait_s`
    to sign in; a headless one only the time its SSO chain needs. Raises GridSignInError."""
    local = settings.replace(grid_url="")
    session = BrowserSession(local, portal, worker=0, staging_dir=staging_dir, user_data_dir=user_data_dir)
    try:
        try:
            session.start()
        except BrowserStartError as exc:
            raise GridSignInError(f"the local browser for the portal sign-in did not start: {exc}") from exc
        driver = session.driver
        assert driver is not None
        deadline = time.monotonic() + (local.page_timeout_s if local.headless else wait_s)
        while wait_for_login_state(driver, portal, local.page_timeout_s):
            if time.monotonic() >= deadline:
                raise GridSignInError(
                    f"the portal at {portal.base_url} still shows its sign-in page: sign in in the browser window "
                    "(turn 'Headless' off to see it) so that the Grid's browsers can use the session"
                )
            time.sleep(SIGN_IN_POLL_S)
        cookies = read_portal_cookies(driver, portal.base_url)
    finally:
        session.quit()
    log.info("portal_cookies_read", count=len(cookies))
    return cookies


class GridSignInError(grid.GridPreflightError):
    """The local sign-in the Grid's browsers need did not complete; the message names what to do."""


class GridSessions:
    """Each worker's current Grid session and node (a local run's workers report none, so it stays empty). Used
    from the controller's thread only."""

    def __init__(self, grid_url: str) -> None:
        self.grid_url = grid_url
        self._sessions: dict[int, str] = {}
        self._nodes: dict[int, str] = {}
        self._deleting: list[threading.Thread] = []
        self.cookies: tuple[PortalCookie, ...] = ()  # what every worker's Grid session starts with

    def remember(self, worker: int, session_id: str, node: str) -> None:
        """On WorkerReady: the session the worker's new browser runs in."""
        if session_id:
            self._sessions[worker] = session_id
            self._nodes[worker] = node

    def node(self, worker: int) -> str:
        """The Grid node of the worker's session, for the worker table ("" when unknown or local)."""
        return self._nodes.get(worker, "")

    def forget(self, worker: int) -> None:
        """The worker quit its browser itself (WorkerExited): its session is gone already."""
        self._sessions.pop(worker, None)
        self._nodes.pop(worker, None)

    def release(self, worker: int) -> None:
        """The controller killed or restarts the worker: delete its session now, on a helper thread (an
        unresponsive Grid must not hold up the controller)."""
        session_id = self._sessions.pop(worker, None)
        self._nodes.pop(worker, None)
        if session_id is None:
            return
        thread = threading.Thread(
            target=self._delete, args=(worker, session_id), name=f"grid-delete-{worker}", daemon=True
        )
        self._deleting = [t for t in self._deleting if t.is_alive()]
        self._deleting.append(thread)
        thread.start()

    def release_all(self) -> None:
        """At Stop and at the end of the run: delete every session still known and wait for the deletions."""
        for worker in list(self._sessions):
            self.release(worker)
        deadline = time.monotonic() + RELEASE_JOIN_S
        for thread in self._deleting:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._deleting = [t for t in self._deleting if t.is_alive()]

    def _delete(self, worker: int, session_id: str) -> None:
        deleted = grid.delete_session(self.grid_url, session_id)
        log.info("grid_session_deleted" if deleted else "grid_session_not_deleted", worker=worker)
