"""The requisition page watched alongside an empty PO page (browser/requisition_ahead.py), in real headless
Chromium, against hand-made pages in the Coupa profile's markup: the two floors overlap, each page keeps its own
floor, a list that shows late closes the second tab unread, and nothing of the second tab is left behind.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from popool_gui.batch.model import AttachmentSource, PoRecord, PoResult, PoStatus
from popool_gui.browser.portal import PortalProfile, load_portal
from popool_gui.browser.session import BrowserSession
from popool_gui.browser.tab_runner import TabRunner
from popool_gui.settings import Settings
from tests.conftest import CHROMEDRIVER, CHROMIUM, quit_leaving_nothing
from tests.loopback_server import Reply, file_reply, serve

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("requisition-ahead")]

FLOOR_MS = 2000
SLOW_REQUISITION_S = 4.0
FILES = {name: f"%PDF-1.4 {name} ".encode() * 200 for name in ("req-a", "req-b", "req-c", "late-0", "late-1")}


def po_html(links: tuple[str, ...] = (), requisition: str = "", script: str = "") -> bytes:
    items = "".join(f'<li><a href="/files/{n}/attachment_file">{n}.pdf</a></li>' for n in links)
    link = f'<a href="/requisition_headers/{requisition}">Requisition</a>' if requisition else ""
    return f"""<!doctype html><html><head><title>PO</title></head><body>
<div class="supplier-name"><span data-supplier-name="Acme">Acme</span></div><ul id="docs">{items}</ul>{link}
<script>
function add(n) {{ for (let i = 0; i < n; i++) {{ const li = document.createElement('li');
  li.innerHTML = '<a href="/files/late-' + i + '/attachment_file">late-' + i + '.pdf</a>';
  document.getElementById('docs').appendChild(li); }} }}
{script}
</script></body></html>""".encode()


PAGES = {
    "/home": po_html(),
    "/po/1": po_html(requisition="1"),  # nothing on the PO, two files on its requisition
    "/requisition_headers/1": po_html(("req-a", "req-b")),
    "/po/2": po_html(requisition="2"),  # nothing on either
    "/requisition_headers/2": po_html(),
    # Empty and at rest at load; its list comes from a timer set as a string, which the page instrument does not see
    # (it wraps function timers only): by then the requisition page is loading in the second tab.
    "/po/3": po_html(requisition="3", script="setTimeout('add(2)', 1200);"),
    "/requisition_headers/3": po_html(("req-c",)),
    "/po/4": po_html(requisition="4"),  # its requisition page answers after SLOW_REQUISITION_S
}


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve() as server:
        for path, body in PAGES.items():
            server.routes[path] = lambda _p, body=body: Reply(200, body, (("Content-Type", "text/html"),))
        for name, data in FILES.items():
            server.routes[f"/files/{name}/attachment_file"] = file_reply(data, f"{name}.pdf")

        def slow(_path: str) -> Reply:
            time.sleep(SLOW_REQUISITION_S)
            return Reply(200, po_html(), (("Content-Type", "text/html"),))

        server.routes["/requisition_headers/4"] = slow
        yield server.url


@pytest.fixture(scope="module")
def portal(site: str) -> PortalProfile:
    coupa = load_portal("coupa", site + "/home")
    return dataclasses.replace(coupa, po_url=site + "/po/{po_id}")


@pytest.fixture(scope="module", params=[False, True], ids=["clicks", "direct"])
def session(
    request: pytest.FixtureRequest, portal: PortalProfile, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserSession]:
    settings = Settings().replace(
        browser="chromium",
        driver_path=str(CHROMEDRIVER),
        browser_binary=str(CHROMIUM),
        headless=True,
        page_timeout_s=15.0,
        tabs_per_worker=2,
        direct_download=request.param,
    )
    browser = BrowserSession(settings, portal, worker=1, staging_dir=tmp_path_factory.mktemp("staging"))
    try:
        browser.start()
        yield browser
    finally:
        quit_leaving_nothing(browser)


def record(po_id: str) -> PoRecord:
    return PoRecord(key=f"PO{po_id}", po_id=po_id, row_number=1, row={"PO_NUMBER": f"PO{po_id}"})


def run_one(runner: TabRunner, po_id: str) -> tuple[PoResult, list[dict[str, object]]]:
    """One PO alone in the runner, its result and its log entries; afterwards only the home tab and spares are open."""
    with structlog.testing.capture_logs() as logs:
        tab = runner.open(record(po_id), 1, FLOOR_MS)
        deadline = time.monotonic() + 30
        finished = []
        while runner.tabs:
            assert time.monotonic() < deadline, "the PO did not finish"
            finished += runner.step_due()
            time.sleep(0.01)
    result = finished[0].result
    assert result is not None and finished[0].tab is tab
    assert runner.session.open_tabs() == runner.open_tabs == 1 + len(runner.spares), "no second tab is left open"
    return result, logs


def verdicts(logs: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {e["page"]: e for e in logs if e["event"] == "page_verdict"}


def test_an_empty_po_takes_its_requisition_files_from_the_page_watched_alongside(
    session: BrowserSession, tmp_path: Path
) -> None:
    runner = TabRunner(session, tmp_path)
    result, logs = run_one(runner, "1")
    assert result.status is PoStatus.COMPLETED, result
    files = sorted(Path(result.folder).iterdir())
    assert sorted(p.read_bytes() for p in files) == [FILES["req-a"], FILES["req-b"]]
    assert set(result.attachment_sources) == {AttachmentSource.REQUISITION.value}, result.attachment_sources
    assert any(e["event"] == "requisition_ahead" for e in logs), "the requisition page was opened early"
    seen = verdicts(logs)
    assert seen["po"]["since_load_ms"] >= FLOOR_MS, "the PO page's empty list kept its floor"
    runner.close_spares()
    assert session.open_tabs() == 1


def test_both_pages_empty_each_keeps_its_own_floor_and_the_floors_overlap(
    session: BrowserSession, tmp_path: Path
) -> None:
    runner = TabRunner(session, tmp_path)
    started = time.monotonic()
    result, logs = run_one(runner, "2")
    took = time.monotonic() - started
    assert result.status is PoStatus.NO_ATTACHMENTS, result
    seen = verdicts(logs)
    assert seen["po"]["since_load_ms"] >= FLOOR_MS and seen["requisition"]["since_load_ms"] >= FLOOR_MS
    # One after the other the two floors alone would take 4 s: watched together, well under that.
    assert took < 2 * FLOOR_MS / 1000, f"the PO took {took:.1f} s"
    runner.close_spares()
    assert session.open_tabs() == 1


def test_a_list_that_shows_after_the_requisition_was_opened_closes_that_tab_unread(
    session: BrowserSession, tmp_path: Path
) -> None:
    runner = TabRunner(session, tmp_path)
    result, logs = run_one(runner, "3")
    assert any(e["event"] == "requisition_ahead" for e in logs), "the page was empty and at rest at first"
    assert result.status is PoStatus.COMPLETED, result
    assert sorted(p.read_bytes() for p in Path(result.folder).iterdir()) == [FILES["late-0"], FILES["late-1"]]
    assert "requisition" not in verdicts(logs), "the PO has attachments: its requisition is not wanted"
    runner.close_spares()
    assert session.open_tabs() == 1


def test_a_stop_closes_a_requisition_tab_still_loading_without_waiting_for_it(
    session: BrowserSession, tmp_path: Path
) -> None:
    runner = TabRunner(session, tmp_path)
    tab = runner.open(record("4"), 1, FLOOR_MS)
    deadline = time.monotonic() + 10
    while not tab.side_tabs:
        assert time.monotonic() < deadline, "the requisition page was never opened alongside"
        runner.step_due()
        time.sleep(0.01)
    asked = time.monotonic()
    returned = runner.give_back()
    took = time.monotonic() - asked
    assert [f.tab for f in returned] == [tab] and returned[0].result is None
    assert took < SLOW_REQUISITION_S / 2, f"the Stop waited {took:.1f} s for a page still loading"
    runner.close_spares()
    assert session.open_tabs() == 1, "the PO's tab and its requisition tab are both closed"
