"""Several POs in progress in one real headless Chromium at once (browser/tab_runner.py), against the demo portal.

One browser serves the module; each test gets its own output folder. Downloads are slowed down so that tabs
really download at the same time.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from popool_gui.batch.model import PoRecord, PoResult, PoStatus
from popool_gui.browser.portal import load_portal
from popool_gui.browser.session import BrowserSession
from popool_gui.browser.tab_runner import Finished, TabRunner
from popool_gui.browser.tab_state import TabPhase
from popool_gui.demo.server import DemoPortal, FaultTarget, demo_portal
from popool_gui.settings import Settings
from tests.conftest import CHROMEDRIVER, CHROMIUM, quit_leaving_nothing

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("tabs-browser")]

SLOW_BYTES_PER_S = 40_000  # a 15-20 KB invoice takes about half a second: long enough to overlap


@pytest.fixture(scope="module")
def portal() -> Iterator[DemoPortal]:
    with demo_portal(js_render_delay_ms=150, download_bytes_per_s=SLOW_BYTES_PER_S) as running:
        yield running


@pytest.fixture(scope="module")
def session(portal: DemoPortal, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserSession]:
    settings = Settings().replace(
        browser="chromium",
        driver_path=str(CHROMEDRIVER),
        browser_binary=str(CHROMIUM),
        headless=True,
        page_timeout_s=15.0,
        download_timeout_s=30.0,
        portal="demo",
        tabs_per_worker=3,
        direct_download=False,  # the browser's own downloads, told apart by its reports; direct_fetches turns it on
    )
    browser = BrowserSession(
        settings, load_portal("demo", portal.url), worker=1, staging_dir=tmp_path_factory.mktemp("staging")
    )
    try:
        browser.start()
        yield browser
    finally:
        quit_leaving_nothing(browser)


@pytest.fixture
def direct_fetches(session: BrowserSession) -> Iterator[None]:
    """The default way: plain links fetched over HTTP on the session's fetch threads, clicks as the fallback."""
    plain = session.settings
    session.settings = plain.replace(direct_download=True)
    try:
        yield
    finally:
        session.settings = plain


def record(po_id: str) -> PoRecord:
    return PoRecord(key=f"PO{po_id}", po_id=po_id, row_number=1, row={"PO_NUMBER": f"PO{po_id}"})


def run_all(runner: TabRunner, watch: list[set[str]] | None = None, limit_s: float = 60) -> dict[str, Finished]:
    """Step every tab until none is left; `watch` collects which tabs waited for a download at each turn."""
    done: dict[str, Finished] = {}
    deadline = time.monotonic() + limit_s
    while runner.tabs:
        assert time.monotonic() < deadline, f"tabs still busy: {[t.machine.phase for t in runner.tabs]}"
        for finished in runner.step_due():
            done[finished.tab.key] = finished
        if watch is not None and runner.session.events is not None:
            watch.append(set(runner.session.events.awaiting))
        time.sleep(0.01)
    return done


def files_of(result: PoResult) -> Counter[bytes]:
    return Counter(p.read_bytes() for p in Path(result.folder).iterdir())


def expected(portal: DemoPortal, po_id: str) -> Counter[bytes]:
    return Counter(portal.file_bytes(po_id, a.file_id) for a in portal.po_spec(po_id).attachments)


def test_two_tabs_download_files_of_the_same_name_at_once_each_to_its_own_po(
    session: BrowserSession, portal: DemoPortal, tmp_path: Path
) -> None:
    # 100001 has two invoice.pdf (different bytes) and a price list; 100014 an invoice.pdf and a quote.
    runner = TabRunner(session, tmp_path)
    for po_id in ("100001", "100014"):
        runner.open(record(po_id), 1, None)
    awaiting: list[set[str]] = []
    done = run_all(runner, awaiting)
    assert max(len(a) for a in awaiting) == 2, "both tabs were waiting for a file of theirs at the same time"
    for po_id in ("100001", "100014"):
        result = done[f"PO{po_id}"].result
        assert result is not None and result.status is PoStatus.COMPLETED, result
        assert files_of(result) == expected(portal, po_id), f"PO{po_id} holds exactly its own files"
    assert session.open_tabs() == runner.open_tabs == 3, "the home tab and the two finished tabs, spare for new POs"
    runner.close_spares()
    assert session.open_tabs() == 1, "only the home tab is left"
    assert not any(session.staging_dir.iterdir()), "nothing is left in staging"


def test_a_tab_waiting_for_an_empty_list_holds_no_other_tab_back(
    session: BrowserSession, portal: DemoPortal, tmp_path: Path
) -> None:
    runner = TabRunner(session, tmp_path)
    floor_ms = 5000
    started = time.monotonic()  # the floor counts from the page's load, which may come while the others open
    empty = runner.open(record("100006"), 1, floor_ms)  # no attachments: believed only after the floor
    runner.open(record("100014"), 1, floor_ms)
    runner.open(record("100011"), 1, floor_ms)
    order: list[tuple[str, float]] = []
    while runner.tabs:
        order += [(f.tab.key, time.monotonic() - started) for f in runner.step_due()]
        time.sleep(0.01)
    keys = [key for key, _ in order]
    assert keys[-1] == empty.key, order
    others_done = max(t for key, t in order if key != empty.key)
    assert others_done < floor_ms / 1000, f"the other tabs finished within the empty tab's floor: {order}"
    assert order[-1][1] >= floor_ms / 1000, "the empty list kept its floor"


def test_a_stop_gives_back_the_tabs_that_downloaded_nothing_and_finishes_the_rest(
    session: BrowserSession, portal: DemoPortal, tmp_path: Path
) -> None:
    runner = TabRunner(session, tmp_path)
    downloading = runner.open(record("100015"), 1, None)  # twelve files at a slow rate: it downloads for a while
    deadline = time.monotonic() + 30
    while downloading.machine.phase is not TabPhase.DOWNLOADING:
        assert time.monotonic() < deadline
        runner.step_due()
        time.sleep(0.01)
    waiting = [runner.open(record(po_id), 1, 4000) for po_id in ("100006", "100009")]  # empty lists: long floors
    runner.step_due()
    returned = runner.give_back()
    assert {f.tab.key for f in returned} == {t.key for t in waiting}
    assert all(f.result is None and f.tab.machine.phase is TabPhase.RETURNED for f in returned)
    done = run_all(runner)
    result = done[downloading.key].result
    assert result is not None and result.status is PoStatus.COMPLETED
    assert files_of(result) == expected(portal, "100015")
    assert session.open_tabs() == runner.open_tabs == 2, "the home tab and the finished PO's spare tab"
    runner.close_spares()
    assert session.open_tabs() == 1


def run_one(runner: TabRunner, po_id: str, floor_ms: int | None = None) -> tuple[str, PoResult]:
    """One PO alone in the runner: the handle of the tab it ran in, and its result."""
    tab = runner.open(record(po_id), 1, floor_ms)
    result = run_all(runner)[tab.key].result
    assert result is not None
    return tab.handle, result


@pytest.mark.usefixtures("direct_fetches")
def test_a_finished_tab_takes_the_next_po_and_earns_that_pos_own_verdict(
    session: BrowserSession, portal: DemoPortal, tmp_path: Path
) -> None:
    runner = TabRunner(session, tmp_path)
    first, files = run_one(runner, "100001")  # three attachments
    assert files.status is PoStatus.COMPLETED and files_of(files) == expected(portal, "100001")
    assert [s.handle for s in runner.spares] == [first], "the clean tab waits for the next PO"
    # The next PO in that tab has none: the last PO's list, still on screen when it starts, must not count.
    again, empty = run_one(runner, "100006", 1500)
    assert again == first, "the spare tab was reused"
    assert empty.status is PoStatus.NO_ATTACHMENTS and empty.attachments_found == 0, empty
    driver = session.require_driver()
    name = runner.spares[0].name
    early = driver.execute_script("return window.__popoolTabs[arguments[0]].__popoolActivity.early", name)
    assert early is True, "the page instrument is in every document of a reused tab, from its first script"
    third, own = run_one(runner, "100014")
    assert third == first
    assert own.status is PoStatus.COMPLETED and files_of(own) == expected(portal, "100014")
    assert session.open_tabs() == runner.open_tabs == 2
    runner.close_spares()
    assert session.open_tabs() == 1


@pytest.mark.usefixtures("direct_fetches")
def test_a_tab_whose_files_did_not_all_arrive_is_closed_not_reused(
    session: BrowserSession, portal: DemoPortal, tmp_path: Path
) -> None:
    runner = TabRunner(session, tmp_path)
    portal.set_knobs(truncated_share=1.0, faults_on=("file",))
    try:
        handle, broken = run_one(runner, "100014")
    finally:
        portal.set_knobs(truncated_share=0.0, faults_on=tuple(FaultTarget))
    assert broken.status is PoStatus.FAILED and broken.transient, broken
    assert runner.spares == [], "a download that never completed could still start later, in that tab"
    assert handle not in session.require_driver().window_handles
    assert session.open_tabs() == 1


@pytest.mark.usefixtures("direct_fetches")
def test_direct_fetches_leave_the_driver_to_the_other_tabs(
    session: BrowserSession, portal: DemoPortal, tmp_path: Path
) -> None:
    """While one PO's files come over HTTP (slowly), other tabs are opened, looked at and finished."""
    runner = TabRunner(session, tmp_path)
    slow = runner.open(record("100015"), 1, None)  # twelve files at a slow rate: seconds over HTTP
    deadline = time.monotonic() + 30
    while slow.machine.phase is not TabPhase.DOWNLOADING:
        assert time.monotonic() < deadline
        assert not runner.step_due(), "the slow PO is still downloading"
        time.sleep(0.01)
    quick = [runner.open(record(po_id), 1, None) for po_id in ("100014", "100003")]  # two small files; not found
    done = run_all(runner)
    order = list(done)  # in the order they finished
    assert order[-1] == slow.key, f"the quick POs finished while the slow one's files were coming: {order}"
    assert set(order[:-1]) == {t.key for t in quick}
    for tab, status in ((slow, PoStatus.COMPLETED), (quick[0], PoStatus.COMPLETED), (quick[1], PoStatus.PO_NOT_FOUND)):
        result = done[tab.key].result
        assert result is not None and result.status is status, result
        if status is PoStatus.COMPLETED:
            assert files_of(result) == expected(portal, tab.record.po_id)
    runner.close_spares()
    assert session.open_tabs() == 1


@pytest.mark.usefixtures("direct_fetches")
def test_a_spare_tab_is_not_sent_where_only_the_fragment_changes(
    session: BrowserSession, portal: DemoPortal, tmp_path: Path
) -> None:
    """A fragment-only move keeps the document, so the page marked as the last PO's would never be replaced."""
    runner = TabRunner(session, tmp_path)
    run_one(runner, "100014")
    [spare] = runner.spares
    url = session.portal.po_url_for("100014")
    assert not session.navigate_named(spare.name, url + "#documents")
    assert session.navigate_named(spare.name, session.portal.po_url_for("100001"))
    runner.close_spares()
    assert session.open_tabs() == 1


@pytest.mark.usefixtures("direct_fetches")
@pytest.mark.parametrize("reused", [True, False], ids=["spare tab", "new tab"])
def test_a_tab_whose_next_page_is_slow_to_answer_never_holds_the_driver(
    session: BrowserSession, portal: DemoPortal, tmp_path: Path, reused: bool
) -> None:
    """Until its page answers, a tab shows a page that says nothing (its blank first document, or a spare tab's last
    PO's page): it is looked at from the home tab, and no step switches to it, which would wait for the answer."""
    runner = TabRunner(session, tmp_path)
    if reused:
        run_one(runner, "100014")
    portal.set_knobs(page_latency_ms=3000)
    try:
        tab = runner.open(record("100001"), 1, None)
        assert (tab.uses == 2) is reused
        longest = 0.0
        deadline = time.monotonic() + 30
        while runner.tabs:
            assert time.monotonic() < deadline
            started = time.monotonic()
            done = runner.step_due()
            if not done:
                longest = max(longest, time.monotonic() - started)
            time.sleep(0.01)
    finally:
        portal.set_knobs(page_latency_ms=0)
    assert longest < 1.0, f"a step held the driver {longest:.1f} s while the page took 3 s to answer"
    runner.close_spares()
    assert session.open_tabs() == 1


@pytest.mark.usefixtures("direct_fetches")
def test_a_tab_over_the_count_is_closed_not_kept_as_a_spare(session: BrowserSession, tmp_path: Path) -> None:
    # A second look starts one tab over the count (pool/worker.py): afterwards no more spares than tabs are kept.
    runner = TabRunner(session, tmp_path)
    for po_id in ("100001", "100011", "100014", "100002"):
        runner.open(record(po_id), 1, None)
    assert len(runner.tabs) == runner.capacity + 1
    done = run_all(runner)
    assert all(f.result is not None and f.result.status is PoStatus.COMPLETED for f in done.values()), done
    assert len(runner.spares) == runner.capacity
    assert session.open_tabs() == runner.open_tabs == 1 + runner.capacity
    runner.close_spares()
    assert session.open_tabs() == 1
