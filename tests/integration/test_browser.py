"""One worker's BrowserSession with real headless Chromium against the embedded demo portal: no mocks.

A single browser (module scope) processes a 26-PO batch that meets every status of docs/domain.md, and the other
tests reuse it, because starting Chromium is the slow part. The conftest leak check passes over that browser (it
starts before any test's environment mark is set, so it carries none); the module's teardown checks that its whole
tree is gone.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By

from popool_gui.batch import layout
from popool_gui.batch.model import PoRecord, PoResult, PoStatus, TabState
from popool_gui.browser import po_page
from popool_gui.browser.downloads import staged_names
from popool_gui.browser.errors import BrowserDeadError
from popool_gui.browser.portal import PortalProfile, load_portal
from popool_gui.browser.session import BrowserSession
from popool_gui.demo.data import SPECIAL, PoKind
from popool_gui.demo.sample import expected_status
from popool_gui.demo.server import DemoPortal, FaultTarget, SignIn, demo_portal
from popool_gui.settings import Settings
from tests.conftest import LEAK_GRACE_S

# One worker runs the whole module under pytest-xdist (--dist loadgroup): its tests share one browser.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("shared-browser")]

WINDOWS_BAD = set('<>:"/\\|?*')
# Plain numeric POs of each kind beside the specials (which already cover every kind in its variants).
RANDOM_QUOTAS = {PoKind.OK: 6, PoKind.REQUISITION_ONLY: 2, PoKind.NOT_FOUND: 1, PoKind.DENIED: 1}


# -- the shared browser -------------------------------------------------------------------------------------


def _tree(pid: int) -> set[int]:
    try:
        root = psutil.Process(pid)
        return {pid, *(child.pid for child in root.children(recursive=True))}
    except psutil.Error:
        return set()


BATCH_JS_DELAY_MS = 150  # shorter than the default to keep the module fast; one test makes it much longer


@pytest.fixture(scope="module")
def portal() -> Iterator[DemoPortal]:
    with demo_portal(js_render_delay_ms=BATCH_JS_DELAY_MS) as running:
        yield running


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # The conftest's chromium_settings is function-scoped; these are the same values for the module.
    from tests.conftest import CHROMEDRIVER, CHROMIUM

    return Settings().replace(
        browser="chromium",
        driver_path=str(CHROMEDRIVER),
        browser_binary=str(CHROMIUM),
        headless=True,
        output_dir=str(tmp_path_factory.mktemp("unused")),
        page_timeout_s=15.0,
        download_timeout_s=30.0,
        start_timeout_s=60.0,
        portal="demo",
    )


@pytest.fixture(scope="module")
def profile(portal: DemoPortal) -> PortalProfile:
    return load_portal("demo", portal.url)


@dataclass
class Shared:
    session: BrowserSession
    tabs: list[tuple[TabState, str, int]]


@pytest.fixture(scope="module")
def shared(settings: Settings, profile: PortalProfile, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    tabs: list[tuple[TabState, str, int]] = []
    session = BrowserSession(
        settings,
        profile,
        worker=1,
        staging_dir=tmp_path_factory.mktemp("staging"),
        on_tab=lambda state, detail, count: tabs.append((state, detail, count)),
    )
    try:
        session.start()
        assert session.driver_pid is not None and session.browser_pid is not None
        yield Shared(session, tabs)
    finally:
        tree = [psutil.Process(pid) for pid in _tree(session.driver_pid or -1)]
        session.quit()
        _, alive = psutil.wait_procs(tree, timeout=LEAK_GRACE_S)
        assert not alive, f"the shared browser left processes behind: {[p.pid for p in alive]}"


# -- helpers -------------------------------------------------------------------------------------------------


def record(po_id: str, key: str | None = None, supplier: str = "") -> PoRecord:
    key = key or f"PO{po_id}"
    return PoRecord(
        key=key, po_id=po_id, row_number=1, row={"PO_NUMBER": key, "SUPPLIER": supplier}, input_supplier=supplier
    )


def expected_files(portal: DemoPortal, po_id: str) -> list[tuple[str, bytes]]:
    """(name, bytes) popool must save, in page order: the PO's own files (header, lines, comments), else its
    requisition's."""
    spec = portal.po_spec(po_id)
    attachments = (*spec.attachments, *spec.line_attachments, *spec.comment_attachments) or spec.requisition_attachments
    return [(a.name, portal.file_bytes(po_id, a.file_id)) for a in attachments if not a.truncated]


def run_po(shared: Shared, rec: PoRecord, output: Path, attempt: int = 1) -> PoResult:
    session = shared.session
    result = session.process(rec, output, attempt)
    # After every PO: only the home tab, an empty staging folder, and no work folder left behind.
    assert session.open_tabs() == 1, rec.key
    assert staged_names(session.staging_dir) == set(), rec.key
    assert not list(output.rglob(f"*{layout.PO_FOLDER_WORK_SUFFIX}")), rec.key
    assert shared.tabs[-1] == (TabState.NONE, "", 1)
    return result


def check_files(portal: DemoPortal, rec: PoRecord, result: PoResult, output: Path) -> None:
    """The PO's folder holds exactly the portal's bytes, under safe names, inside the output folder."""
    want = expected_files(portal, rec.po_id)
    folder = Path(result.folder)
    assert folder.is_dir(), (rec.key, result)
    assert folder.resolve().is_relative_to(output.resolve())
    assert folder.name == layout.po_folder_name(rec.key, result.status)
    files = sorted(p for p in folder.iterdir())
    assert all(p.is_file() for p in files)
    assert Counter(p.read_bytes() for p in files) == Counter(data for _, data in want), rec.key
    assert sorted(result.attachment_names) == [p.name for p in files]
    for path in files:
        assert path.name.startswith(f"{rec.key}_"), path.name
        assert not WINDOWS_BAD & set(path.name), path.name
        assert path.stat().st_size > 0
        assert len(path.name) <= layout.DEFAULT_MAX_LEN
    assert result.attachments_downloaded == len(want)


def random_ids(portal: DemoPortal) -> list[str]:
    """Plain numeric POs, picked deterministically so that every random kind appears."""
    left = dict(RANDOM_QUOTAS)
    out: list[str] = []
    number = 15_262_984
    while any(left.values()):
        po_id = str(number)
        number += 1
        kind = portal.po_spec(po_id).kind
        if left.get(kind):
            left[kind] -= 1
            out.append(po_id)
    return out


# -- the batch -----------------------------------------------------------------------------------------------


def test_a_batch_reaches_every_status_with_exact_bytes(shared: Shared, portal: DemoPortal, tmp_path: Path) -> None:
    output = tmp_path / "output"
    ids = [*sorted(SPECIAL), *random_ids(portal)]
    assert len(ids) == 28  # 18 special POs (100017 and 100018 have line and comment files)
    # A mid-batch session expiry after the 20th PO: that PO meets the login wall, then a re-sign-in fixes it.
    expire_before = ids[20]
    results: dict[str, PoResult] = {}
    auth: PoResult | None = None
    started = time.monotonic()
    for po_id in ids:
        key = f"PM{po_id}" if po_id.endswith("3") else f"PO{po_id}"
        rec = record(po_id, key)
        if po_id == expire_before:
            portal.expire_sessions()
            auth = run_po(shared, rec, output)
            assert auth.status is PoStatus.AUTH_REQUIRED, auth
            assert "sign-in required" in auth.error and not auth.folder
            assert shared.session.sign_in_again() == (True, "signed in")
        result = run_po(shared, rec, output)
        results[po_id] = result
        want = expected_status(po_id)
        assert result.status == want, (po_id, result)
        spec = portal.po_spec(po_id)
        assert result.url == portal.po_url(po_id)
        if result.status in (PoStatus.COMPLETED, PoStatus.PARTIAL):
            assert result.supplier == spec.supplier
            check_files(portal, rec, result, output)
        else:
            assert not result.folder and not result.attachment_names
            assert not result.transient  # final outcomes are not retried
        if result.status is PoStatus.COMPLETED:
            assert result.attachments_found == result.attachments_downloaded and not result.error
    elapsed = time.monotonic() - started

    statuses = Counter(r.status for r in results.values())
    assert auth is not None
    statuses[auth.status] += 1
    for status in (
        PoStatus.COMPLETED,
        PoStatus.PARTIAL,
        PoStatus.NO_ATTACHMENTS,
        PoStatus.PO_NOT_FOUND,
        PoStatus.ACCESS_DENIED,
        PoStatus.AUTH_REQUIRED,
    ):
        assert statuses[status] >= 1, (status, statuses)

    # Duplicates: two different invoice.pdf kept as _2, in page order.
    dup = Path(results["100001"].folder)
    first, second, _ = portal.po_spec("100001").attachments
    assert (dup / "PO100001_invoice.pdf").read_bytes() == portal.file_bytes("100001", first.file_id)
    assert (dup / "PO100001_invoice_2.pdf").read_bytes() == portal.file_bytes("100001", second.file_id)
    assert (dup / "PO100001_price list.xlsx").is_file()

    # Hostile names: made safe, all inside the PO folder, unicode kept.
    hostile = Path(results["100002"].folder)
    names = {p.name for p in hostile.iterdir()}
    assert len(names) == 8
    assert "PO100002_Relatório de preços – São Paulo.xlsx" in names
    assert "PO100002_.._.._evil.txt" in names and "PO100002_CON.txt" in names
    assert not (tmp_path / "evil.txt").exists() and not (output / "evil.txt").exists()
    assert all(p.resolve().parent == hostile.resolve() for p in output.rglob("*evil*"))
    assert hostile.parent.name == "São Paulo Suprimentos Ltda"

    # Requisition fallback taken when the PO has none; not taken when the PO has its own files.
    assert results["100005"].attachments_found == 3
    assert len(list(Path(results["100010"].folder).iterdir())) == 1

    # Twelve attachments rendered in two steps, several of them under the floating toolbar.
    assert results["100015"].attachments_downloaded == 12

    # Every markup (span in a link, a[download], a span whose click navigates) downloaded once each.
    assert results["100011"].attachments_found == results["100011"].attachments_downloaded == 3

    # A supplier name Windows forbids in a folder.
    assert Path(results["100014"].folder).parent.name == "Smith & Sons _ Partners_ A.B.C"  # no trailing dot

    # The truncated file is named and left out; the others are kept.
    partial = results["100016"]
    assert partial.attachments_found == 3 and partial.attachments_downloaded == 2
    assert "broken scan.pdf" in partial.error

    # Line and comment attachments are taken too; a name met on a line and on a comment is kept twice, the
    # comment's as _2 (header, lines, comments: the API's order), and the requisition is not wanted.
    assert results["100017"].attachments_downloaded == 3
    levels = Path(results["100018"].folder)
    line, comment, _ = (*portal.po_spec("100018").line_attachments, *portal.po_spec("100018").comment_attachments)
    assert (levels / "PO100018_invoice.pdf").read_bytes() == portal.file_bytes("100018", line.file_id)
    assert (levels / "PO100018_invoice_2.pdf").read_bytes() == portal.file_bytes("100018", comment.file_id)

    # Nothing escaped the output folder and nothing is left half-done in it.
    assert not list(output.rglob("*.crdownload"))
    # About 25 s on an idle 2-CPU machine; the bound only catches fixed waits creeping back in.
    assert elapsed < 160, f"the batch took {elapsed:.0f} s"


# -- one PO at a time ----------------------------------------------------------------------------------------


def test_a_slow_script_rendered_list_is_waited_for(shared: Shared, portal: DemoPortal, tmp_path: Path) -> None:
    driver = shared.session.driver
    assert driver is not None
    portal.set_knobs(js_render_delay_ms=1500)
    try:
        # The delay is real: the document is complete while the list is still empty.
        driver.get(portal.po_url("100007"))
        deadline = time.monotonic() + 10
        while driver.execute_script("return document.readyState") != "complete" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert driver.find_elements(By.CSS_SELECTOR, "span[aria-label$='file attachment']") == []
        driver.get(portal.url)

        rec = record("100007")
        result = run_po(shared, rec, tmp_path)
        assert result.status is PoStatus.COMPLETED and result.attachments_downloaded == 10
        check_files(portal, rec, result, tmp_path)
    finally:
        portal.set_knobs(js_render_delay_ms=BATCH_JS_DELAY_MS)


def test_the_floating_toolbar_intercepts_clicks_and_downloads_still_work(
    shared: Shared, portal: DemoPortal, tmp_path: Path
) -> None:
    driver = shared.session.driver
    assert driver is not None
    driver.get(portal.po_url("100015"))
    try:
        last = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            # The last item's clickable element: a link, or a span whose click handler navigates.
            items = driver.find_elements(By.CSS_SELECTOR, "#attachments[data-ready='true'] li > :first-child")
            if len(items) == 12:
                last = items[-1]
                break
            time.sleep(0.05)
        assert last is not None
        driver.execute_script("arguments[0].scrollIntoView(false);", last)  # bottom edge: under the toolbar
        with pytest.raises(ElementClickInterceptedException):
            last.click()
    finally:
        driver.get(portal.url)
    rec = record("100015")
    result = run_po(shared, rec, tmp_path)
    assert result.status is PoStatus.COMPLETED
    check_files(portal, rec, result, tmp_path)


def test_a_covered_element_is_clicked_by_script(shared: Shared, portal: DemoPortal) -> None:
    """The click fallback itself: a plain click hits the cover, the script click reaches the element."""
    driver = shared.session.driver
    assert driver is not None
    try:
        driver.get(portal.url)
        target = driver.execute_script(
            """
            const button = document.createElement('button');
            button.textContent = 'target';
            button.onclick = () => { window.clicked = (window.clicked || 0) + 1; };
            document.body.appendChild(button);
            const cover = document.createElement('div');
            cover.style.cssText = 'position:fixed;inset:0;z-index:99999;background:rgba(0,0,0,.2)';
            document.body.appendChild(cover);
            return button;
            """
        )
        with pytest.raises(ElementClickInterceptedException):
            target.click()
        po_page._click(driver, target)
        assert driver.execute_script("return window.clicked") == 1
    finally:
        driver.get(portal.url)


def test_sso_wall_gives_auth_required_and_the_session_recovers(
    shared: Shared, portal: DemoPortal, tmp_path: Path
) -> None:
    session = shared.session
    portal.set_knobs(sign_in=SignIn.SSO)
    try:
        portal.expire_sessions()
        walled = run_po(shared, record("100001"), tmp_path)
        assert walled.status is PoStatus.AUTH_REQUIRED and "/sso/login" in walled.error
        assert not walled.transient and not any(tmp_path.iterdir())
        ok, message = session.sign_in_again()
        assert not ok and "sign in" in message
        # A person clicks through the SSO page in the home tab.
        assert session.driver is not None
        session.driver.find_element(By.ID, "sso_continue").click()
        assert session.sign_in_again() == (True, "signed in")
        rec = record("100001")
        result = run_po(shared, rec, tmp_path)
        assert result.status is PoStatus.COMPLETED
        check_files(portal, rec, result, tmp_path)
    finally:
        portal.set_knobs(sign_in=SignIn.AUTO)


def test_500_pages_give_a_retryable_failure(shared: Shared, portal: DemoPortal, tmp_path: Path) -> None:
    portal.set_knobs(error_500_share=1.0)
    try:
        started = time.monotonic()
        result = run_po(shared, record("100007"), tmp_path)
        assert time.monotonic() - started < 10
    finally:
        portal.set_knobs(error_500_share=0.0)
    assert result.status is PoStatus.FAILED and result.transient, result
    assert "server error" in result.error
    assert not any(tmp_path.iterdir())
    assert run_po(shared, record("100007"), tmp_path, attempt=2).status is PoStatus.COMPLETED


def test_a_hanging_page_gives_a_bounded_retryable_failure(shared: Shared, portal: DemoPortal, tmp_path: Path) -> None:
    session = shared.session
    assert session.driver is not None
    timeout = 3.0
    session.driver.set_page_load_timeout(timeout)
    session.settings = session.settings.replace(page_timeout_s=timeout)
    portal.set_knobs(hang_share=1.0, hang_s=30.0)
    try:
        started = time.monotonic()
        result = run_po(shared, record("100001"), tmp_path)
        elapsed = time.monotonic() - started
    finally:
        portal.set_knobs(hang_share=0.0)
        session.settings = session.settings.replace(page_timeout_s=15.0)
        session.driver.set_page_load_timeout(15.0)
    assert result.status is PoStatus.FAILED and result.transient, result
    assert elapsed < timeout + 8
    assert run_po(shared, record("100001"), tmp_path, attempt=2).status is PoStatus.COMPLETED


def test_downloads_that_all_fail_give_a_retryable_failure_naming_the_files(
    shared: Shared, portal: DemoPortal, tmp_path: Path
) -> None:
    """0 of 3 files on disk is no PARTIAL ("some downloaded"): the PO is tried again, and nothing stays on disk."""
    portal.set_knobs(truncated_share=1.0)
    try:
        result = run_po(shared, record("100001"), tmp_path)
    finally:
        portal.set_knobs(truncated_share=0.0)
    assert result.status is PoStatus.FAILED and result.transient, result
    assert result.attachments_found == 3 and result.attachments_downloaded == 0
    assert "none of the 3 attachments" in result.error
    assert "invoice.pdf" in result.error and "price list.xlsx" in result.error
    assert not any(tmp_path.iterdir())


def test_500s_on_every_file_give_a_retryable_failure(shared: Shared, portal: DemoPortal, tmp_path: Path) -> None:
    portal.set_knobs(error_500_share=1.0, faults_on=("file",))
    try:
        result = run_po(shared, record("100001"), tmp_path)
    finally:
        portal.set_knobs(error_500_share=0.0, faults_on=tuple(FaultTarget))
    assert result.status is PoStatus.FAILED and result.transient, result
    assert result.attachments_found == 3 and "none of the 3 attachments" in result.error
    assert not any(tmp_path.iterdir())
    assert run_po(shared, record("100001"), tmp_path, attempt=2).status is PoStatus.COMPLETED


def test_some_files_missing_give_a_partial_worth_another_attempt(
    shared: Shared, portal: DemoPortal, tmp_path: Path
) -> None:
    """PO 100016's "broken scan.pdf" always arrives truncated: the other two are on disk, and the PO is retried."""
    rec = record("100016")
    result = run_po(shared, rec, tmp_path)
    assert result.status is PoStatus.PARTIAL and result.transient, result
    assert result.attachments_found == 3 and result.attachments_downloaded == 2
    assert "broken scan.pdf" in result.error
    assert sorted(p.name for p in Path(result.folder).iterdir()) == sorted(result.attachment_names)


@pytest.mark.parametrize(("po_id", "verdict"), [("100009", PoStatus.NO_ATTACHMENTS), ("100005", PoStatus.COMPLETED)])
def test_a_requisition_page_that_fails_gives_no_verdict_on_the_po(
    po_id: str, verdict: PoStatus, shared: Shared, portal: DemoPortal, tmp_path: Path
) -> None:
    """The PO page lists nothing and its requisition page answers 500: its documents were never seen, so the PO
    is not NO_ATTACHMENTS (a final verdict) but a transient failure; once the page answers, the real verdict."""
    portal.set_knobs(error_500_share=1.0, faults_on=("requisition",))
    try:
        result = run_po(shared, record(po_id), tmp_path)
    finally:
        portal.set_knobs(error_500_share=0.0, faults_on=tuple(FaultTarget))
    assert result.status is PoStatus.FAILED and result.transient, result
    assert "requisition page" in result.error and "server error" in result.error, result.error
    assert not any(tmp_path.iterdir())
    assert run_po(shared, record(po_id), tmp_path, attempt=2).status is verdict


# -- a browser of its own ------------------------------------------------------------------------------------


def test_a_browser_killed_mid_session_raises_the_dead_browser_error(
    chromium_settings: Settings, demo: DemoPortal, tmp_path: Path
) -> None:
    demo.set_knobs(page_latency_ms=3000)
    session = BrowserSession(
        chromium_settings, load_portal("demo", demo.url), worker=2, staging_dir=tmp_path / "staging"
    )
    try:
        session.start()
        assert session.is_alive() and session.browser_pid is not None
        browser = psutil.Process(session.browser_pid)

        def kill() -> None:
            for process in [browser, *browser.children(recursive=True)]:
                try:
                    process.kill()
                except psutil.Error:
                    continue

        timer = threading.Timer(1.0, kill)
        timer.start()
        started = time.monotonic()
        with pytest.raises(BrowserDeadError):
            session.process(record("100007"), tmp_path / "out", 1)
        timer.join()
        assert time.monotonic() - started < 30
        assert not session.is_alive()
    finally:
        session.quit()
    assert session.driver is None
    assert not (tmp_path / "staging").exists() or not any((tmp_path / "staging").iterdir())
