"""Pages that are not the portal's answer are never lists: real Chromium, on the first look, in either tab.

A connection reset, a refused connection and a failed DNS look-up show the browser's own error page
(`chrome-error://chromewebdata/`); a document served with an HTTP error status that no profile text explains is
not a PO page either. Each must end as a transient FAILED, never NO_ATTACHMENTS, whether the PO was opened in the
foreground or in a background tab the tab runner looks into: each is one look, as with `second_look = false`.

One browser serves the module. It resolves `*.invalid` to "not found" itself (`--host-resolver-rules`), so the
DNS case sends no query anywhere: the only traffic is to loopback.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from popool_gui.batch.model import PoRecord, PoResult, PoStatus
from popool_gui.browser import browser_options
from popool_gui.browser.portal import PortalProfile, load_portal
from popool_gui.browser.session import BrowserSession
from popool_gui.browser.tab_runner import TabRunner
from popool_gui.demo.server import DemoPortal, demo_portal
from popool_gui.settings import Settings
from tests.conftest import CHROMEDRIVER, CHROMIUM, LEAK_GRACE_S
from tests.helpers import wait_for
from tests.loopback_server import Reply, serve

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("error-pages-browser")]

NO_DNS = "--host-resolver-rules=MAP *.invalid ~NOTFOUND"
PO = "100007"  # the demo's PO with ten attachments: on the real portal it is never empty


class ResettingServer:
    """Accepts each connection, reads the request and resets the connection (RST, not FIN)."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen()
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(65536)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._socket.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def portal() -> Iterator[DemoPortal]:
    with demo_portal(js_render_delay_ms=100) as running:
        yield running


@pytest.fixture(scope="module")
def session(portal: DemoPortal, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserSession]:
    settings = Settings().replace(
        browser="chromium",
        driver_path=str(CHROMEDRIVER),
        browser_binary=str(CHROMIUM),
        headless=True,
        output_dir=str(tmp_path_factory.mktemp("unused")),
        page_timeout_s=10.0,
        download_timeout_s=20.0,
        start_timeout_s=60.0,
        portal="demo",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(browser_options, "CHROMIUM_FLAGS", (*browser_options.CHROMIUM_FLAGS, NO_DNS))
        browser = BrowserSession(
            settings, load_portal("demo", portal.url), worker=1, staging_dir=tmp_path_factory.mktemp("staging")
        )
        try:
            browser.start()
        except BaseException:
            browser.quit()
            raise
    tree = [psutil.Process(browser.driver_pid)] if browser.driver_pid else []
    tree += [child for p in tree for child in p.children(recursive=True)]
    try:
        yield browser
    finally:
        browser.quit()
        _, alive = psutil.wait_procs(tree, timeout=LEAK_GRACE_S)
        assert not alive, f"the module's browser left processes behind: {[p.pid for p in alive]}"


@pytest.fixture(scope="module")
def resetting() -> Iterator[ResettingServer]:
    server = ResettingServer()
    yield server
    server.close()


def record(po_id: str = PO) -> PoRecord:
    return PoRecord(key=f"PO{po_id}", po_id=po_id, row_number=1, row={"PO_NUMBER": f"PO{po_id}"})


def look(session: BrowserSession, base_url: str, output: Path, *, background: bool) -> PoResult:
    """One look at PO 100007 on a portal at `base_url`: in a tab of its own the driver is on (foreground), or in a
    tab the tab runner opened and looks into from the home tab (background)."""
    demo_profile = session.portal
    session.portal = load_portal("demo", base_url)
    try:
        if background:
            runner = TabRunner(session, output)
            runner.open(record(), 1, None)
            finished = []
            deadline = time.monotonic() + 30
            while runner.tabs:
                assert time.monotonic() < deadline, "the tab never finished"
                finished += runner.step_due()
                time.sleep(0.01)
            [done] = finished
            assert done.result is not None
            result = done.result
            assert session.open_tabs() == runner.open_tabs
            runner.close_spares()
        else:
            result = session.process(record(), output, 1)
    finally:
        session.portal = demo_profile
    assert session.open_tabs() == 1
    return result


def assert_transient_failure(result: PoResult, output: Path, *words: str) -> None:
    assert result.status is PoStatus.FAILED and result.transient, result
    assert result.attachments_found == 0
    for word in words:
        assert word in result.error, result.error
    assert not any(output.rglob("*")), "a failed look leaves nothing on disk"


NETWORK_ERRORS = {
    "reset": ("ERR_CONNECTION_RESET", lambda reset: f"http://127.0.0.1:{reset.port}"),
    "refused": ("ERR_CONNECTION_REFUSED", lambda reset: f"http://127.0.0.1:{closed_port()}"),
    "dns": ("ERR_NAME_NOT_RESOLVED", lambda reset: "http://popool-portal.invalid"),
}


@pytest.mark.parametrize("background", [False, True], ids=["foreground", "background"])
@pytest.mark.parametrize("case", list(NETWORK_ERRORS))
def test_a_network_error_page_is_a_transient_failure_on_the_first_look(
    case: str, background: bool, session: BrowserSession, resetting: ResettingServer, tmp_path: Path
) -> None:
    code, base_url = NETWORK_ERRORS[case]
    result = look(session, base_url(resetting), tmp_path, background=background)
    assert_transient_failure(result, tmp_path, code)


@pytest.mark.parametrize("background", [False, True], ids=["foreground", "background"])
@pytest.mark.parametrize(
    ("status", "words"),
    [(404, ("HTTP 404",)), (410, ("HTTP 410",)), (502, ("server error", "HTTP 502"))],
)
def test_an_http_error_status_no_profile_text_explains_is_a_transient_failure(
    status: int, words: tuple[str, ...], background: bool, session: BrowserSession, tmp_path: Path
) -> None:
    with serve() as server:
        # A bare error document, served at the PO's address, with none of the profile's not-found or denied texts.
        body = b"<html><head><title>Upstream</title></head><body><p>Please try later.</p></body></html>"
        server.routes[f"/order_headers/{PO}"] = lambda path: Reply(status, body, (("Content-Type", "text/html"),))
        result = look(session, server.url, tmp_path, background=background)
        wait_for(lambda: server.seen, 5, "the request reaching the server")
    assert_transient_failure(result, tmp_path, *words)


def test_the_same_session_still_reads_the_real_portal(
    session: BrowserSession, portal: DemoPortal, tmp_path: Path
) -> None:
    """After every error page the browser is still fine: the real PO ends COMPLETED with all its files."""
    result = session.process(record(), tmp_path, 1)
    assert result.status is PoStatus.COMPLETED, result
    assert result.attachments_downloaded == len(portal.po_spec(PO).attachments)


def test_the_demo_profile_texts_still_win_over_the_status(session: BrowserSession, tmp_path: Path) -> None:
    """A 404 page that says what the profile knows ("couldn't find") is still the portal's verdict."""
    profile: PortalProfile = session.portal
    text = profile.detect.not_found_text[0]
    with serve() as server:
        body = f"<html><body><h1>{text}</h1></body></html>".encode()
        server.routes[f"/order_headers/{PO}"] = lambda path: Reply(404, body, (("Content-Type", "text/html"),))
        result = look(session, server.url, tmp_path, background=False)
    assert result.status is PoStatus.PO_NOT_FOUND, result
