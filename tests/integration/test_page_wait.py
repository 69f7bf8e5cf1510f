"""When a page has said what it has to say, against hand-made pages in real Chromium (not the demo portal).

Each page is a way a real tenant can defeat a naive wait: a list fetched after a script timer, a list that grows in
two steps, a page that never stops polling, a spinner that never goes away, and a background tab.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest

from popool_gui.browser.page_activity import install_early
from popool_gui.browser.page_wait import QUICK_SETTLE_MS, Instrument, Verdict, wait_for_page
from popool_gui.browser.portal import PortalProfile, load_portal
from popool_gui.browser.session import BrowserSession
from popool_gui.settings import Settings
from tests.loopback_server import Reply, serve

pytestmark = pytest.mark.browser

FLOOR_MS = 1500


def page(script: str, body: str = "") -> bytes:
    return f"""<!doctype html><html><head><title>PO</title></head><body>
<div class="supplier-name"><span data-supplier-name="Acme">Acme</span></div><ul id="docs"></ul>{body}
<script>
function add(n) {{ for (let i = 0; i < n; i++) {{ const a = document.createElement('a');
  a.href = '/files/' + Math.random() + '/attachment_file'; a.textContent = 'doc.pdf';
  document.getElementById('docs').appendChild(a); }} }}
{script}
</script></body></html>""".encode()


PAGES = {
    "/home": page(""),
    "/empty": page(""),
    "/timer-then-fetch": page("setTimeout(() => fetch('/slow-json').then(r => r.json()).then(n => add(n)), 2200);"),
    "/two-steps": page("setTimeout(() => { add(2); setTimeout(() => add(3), 1400); }, 300);"),
    "/polls-forever": page("setInterval(() => fetch('/slow-json'), 250);"),
    "/spinner": page("", '<div class="spinner">Loading...</div>'),
    "/at-rest": page("setTimeout(() => add(3), 300);"),
    # The rest of the list comes after twice the floor (3 s), from a timer set at load.
    "/second-batch-late": page("setTimeout(() => add(2), 300); setTimeout(() => add(3), 3600);"),
    "/animated": page("setTimeout(() => add(3), 300); (function spin() { requestAnimationFrame(spin); })();"),
}


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve() as server:
        for path, body in PAGES.items():
            server.routes[path] = lambda _p, body=body: Reply(200, body, (("Content-Type", "text/html"),))

        def slow_json(_path: str) -> Reply:
            time.sleep(0.4)
            return Reply(200, b"3", (("Content-Type", "application/json"),))

        server.routes["/slow-json"] = slow_json
        yield server.url


@pytest.fixture(scope="module")
def portal(site: str) -> PortalProfile:
    coupa = load_portal("coupa", site)
    return dataclasses.replace(coupa, po_url="{base_url}/{po_id}")


@pytest.fixture(scope="module")
def session(portal: PortalProfile, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserSession]:
    from tests.conftest import CHROMEDRIVER, CHROMIUM

    settings = Settings().replace(
        browser="chromium", driver_path=str(CHROMEDRIVER), browser_binary=str(CHROMIUM), headless=True
    )
    home = dataclasses.replace(portal, base_url=portal.base_url + "/home")
    browser = BrowserSession(settings, home, worker=1, staging_dir=tmp_path_factory.mktemp("staging"))
    browser.start()
    try:
        yield browser
    finally:
        browser.quit()


def look(session: BrowserSession, portal: PortalProfile, path: str, timeout_s: float = 20.0):
    driver = session.driver
    assert driver is not None
    driver.switch_to.new_window("tab")
    try:
        install_early(driver)
        started = time.monotonic()
        driver.get(portal.base_url + path)
        evidence = wait_for_page(driver, portal, time.monotonic() + timeout_s, FLOOR_MS)
        return evidence, time.monotonic() - started
    finally:
        driver.close()
        driver.switch_to.window(session.home_handle)


def test_a_list_fetched_after_a_timer_beyond_the_floor_is_still_seen(session, portal) -> None:
    # The timer fires after 2.2 s, past the 1.5 s floor: the pending timer holds the verdict back.
    evidence, _ = look(session, portal, "/timer-then-fetch")
    assert evidence.verdict is Verdict.READY and evidence.attachments == 3
    assert evidence.instrument is Instrument.EARLY
    assert evidence.first_attachment_ms is not None and evidence.first_attachment_ms >= 2200


def test_a_list_growing_in_two_steps_is_believed_only_when_whole(session, portal) -> None:
    evidence, _ = look(session, portal, "/two-steps")
    assert evidence.verdict is Verdict.READY and evidence.attachments == 5


def test_a_list_with_nothing_pending_is_believed_well_under_settle_ms(session, portal) -> None:
    evidence, _ = look(session, portal, "/at-rest")
    assert evidence.verdict is Verdict.READY and evidence.attachments == 3
    assert evidence.first_attachment_ms is not None
    believed_after_ms = evidence.since_load_ms - evidence.first_attachment_ms
    assert QUICK_SETTLE_MS <= believed_after_ms < portal.attachments.settle_ms, believed_after_ms


def test_a_page_with_animation_frames_pending_gets_the_whole_settle_time(session, portal) -> None:
    evidence, _ = look(session, portal, "/animated")
    assert evidence.verdict is Verdict.READY and evidence.attachments == 3
    assert evidence.first_attachment_ms is not None
    assert evidence.since_load_ms - evidence.first_attachment_ms >= portal.attachments.settle_ms


def test_a_second_batch_due_after_the_busy_cap_is_still_waited_for(session, portal) -> None:
    evidence, _ = look(session, portal, "/second-batch-late")
    assert evidence.verdict is Verdict.READY and evidence.attachments == 5


def test_an_empty_list_waits_for_the_floor(session, portal) -> None:
    evidence, seconds = look(session, portal, "/empty")
    assert evidence.verdict is Verdict.READY and evidence.attachments == 0
    assert evidence.since_load_ms >= FLOOR_MS and seconds >= FLOOR_MS / 1000


def test_a_page_that_never_stops_polling_gets_a_verdict_within_twice_the_floor(session, portal) -> None:
    evidence, seconds = look(session, portal, "/polls-forever")
    assert evidence.verdict is Verdict.READY and evidence.attachments == 0
    assert seconds < 2 * FLOOR_MS / 1000 + 3


def test_a_spinner_that_stays_holds_the_verdict_back_and_says_so(session, portal) -> None:
    evidence, _ = look(session, portal, "/spinner", timeout_s=4.0)
    assert evidence.verdict is Verdict.TIMEOUT
    assert evidence.waiting_for == "a loading indicator is visible"


def test_a_background_tab_gets_the_instrument_before_its_page_scripts(session, portal) -> None:
    driver = session.driver
    assert driver is not None
    handle = session._open_background_tab(driver, portal.base_url + "/timer-then-fetch")
    assert driver.current_window_handle == session.home_handle
    driver.switch_to.window(handle)
    try:
        evidence = wait_for_page(driver, portal, time.monotonic() + 20, FLOOR_MS)
        assert evidence.instrument is Instrument.EARLY
        assert evidence.verdict is Verdict.READY and evidence.attachments == 3
    finally:
        driver.close()
        driver.switch_to.window(session.home_handle)
