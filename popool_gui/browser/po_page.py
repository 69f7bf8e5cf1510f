"""One PO in one tab: open it, read what the page says, download every attachment, verify, file it.

Every wait is a condition polled against a deadline (page: `page_timeout_s`, each file: `download_timeout_s`);
nothing sleeps for a fixed time. Each poll of the page is a single script round trip that reports every
marker of the portal profile at once, so the first condition to hold decides.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from selenium.common.exceptions import (
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from popool_gui.batch import layout
from popool_gui.batch.filing import FILED, Tally, conclude, fail, shown_name
from popool_gui.batch.model import AttachmentSource, DiskNeed, PoRecord, PoResult, PoStatus, TabState
from popool_gui.browser import named_tabs
from popool_gui.browser.backend import BrowserBackend, DownloadClick
from popool_gui.browser.cdp import execute_cdp, performance_log
from popool_gui.browser.downloads import (
    DirectOutcome,
    DiskFullError,
    DownloadEvents,
    IncompleteDownloadError,
    clear_staging,
    fetch_direct,
    move_verified,
    same_origin,
)
from popool_gui.browser.errors import first_line, is_dead_browser_error
from popool_gui.browser.js import load
from popool_gui.browser.page_activity import install_early
from popool_gui.browser.page_wait import BUSY_CAP_FACTOR, PageEvidence, Verdict, watch_page
from popool_gui.browser.portal import PortalProfile
from popool_gui.browser.requisition_ahead import OpenSide, RequisitionAhead, SideTab
from popool_gui.browser.steps import Steps, Waiting, run_steps
from popool_gui.browser.tab_closing import close_tabs_but
from popool_gui.browser.tab_downloads import forget
from popool_gui.settings import Settings

log = structlog.get_logger()

POLL_S = 0.1
NET_ERROR = "net::ERR_"  # how Chromium's driver reports a page that could not be reached at all
DIRECT_PARALLEL = 4  # concurrent HTTP fetches per browser with direct_download, all its tabs together: polite
PAGES_WAITED = 2  # the PO's page and, for an empty list, its requisition's: each holds an empty list to the floor
# Web fonts only: images are switched off by a content setting instead (see browser_options.download_prefs), because
# a URL pattern such as *.png would also block attachments that are images.
BLOCKED_URL_PATTERNS: tuple[str, ...] = ("*.woff", "*.woff2")
_SOURCE_ORDER: tuple[AttachmentSource, ...] = tuple(AttachmentSource)

# One read of a PO page once its verdict is in (js/po_read.js), on the driver's own tab or on a named tab.
_READ_FN = load("po_read.js")
_READ_JS = _READ_FN + "return read(window, ...arguments, true);"
_READ_FROM_HOME_JS = (
    _READ_FN + "const [name, ...rest] = arguments; return read(window.__popoolTabs[name], ...rest, false);"
)


@dataclass(slots=True)
class PoJob:
    """What one PO needs from its session."""

    driver: WebDriver
    portal: PortalProfile
    settings: Settings
    staging_dir: Path
    home_handle: str
    events: DownloadEvents | None
    on_tab: Callable[[TabState, str], None]
    worker: int
    # Where the browser runs (local or a Grid node): where its downloads appear and how one is waited for.
    backend: BrowserBackend
    # A tab the tab runner opened, already navigating to this PO's page, to take over instead of a new tab, and the
    # other POs' tabs, which this PO must leave open (a live view when several POs share the browser).
    preloaded_tab: str | None = None
    background_tabs: Collection[str] = frozenset()
    # The home tab's name for the preloaded tab (named_tabs): the page is then watched, read and sent to its
    # requisition from the home tab, without switching the driver to it; "" when the home tab has no hold on it.
    tab_name: str = ""
    user_agent: str = ""  # the browser's, for direct fetches: a portal may answer other clients differently
    # The floor before an empty list is believed: the run's learned figure, longer for a second look; None is
    # the profile's `empty_wait_ms`.
    empty_wait_ms: int | None = None
    # Where direct fetches run (at most DIRECT_PARALLEL at once, shared by the session's tabs); None: no direct fetch.
    fetches: ThreadPoolExecutor | None = None
    # Every download this PO's clicks asked for ended on disk, and nothing went wrong with its tab: the tab runner
    # may give that tab its next PO. A click whose download never came could still start one there later, which the
    # next PO would take for its own, so such a tab is closed instead.
    clean: bool = True
    # Opens a second tab for this PO from the home tab (the tab runner's), and the ones it opened: the requisition
    # page watched while the PO page waits out its floor (requisition_ahead.py). None: one tab per PO.
    open_side: OpenSide | None = None
    side_tabs: list[SideTab] = field(default_factory=list)
    second_look: bool = False  # both its pages were empty on the first look

    @property
    def afar(self) -> bool:
        """The home tab keeps this PO's tab by name: the PO's page is watched, read and sent on from there."""
        return bool(self.tab_name)

    @property
    def own_tabs(self) -> set[str]:
        """This PO's tabs: the tab runner's tab for it and its side tabs."""
        return {h for h in (self.preloaded_tab, *(s.handle for s in self.side_tabs)) if h}

    @property
    def attributed(self) -> bool:
        """Each download is told apart by the browser's report of it (tab_downloads.py), so several tabs may
        download into the one staging folder at once, and no PO clears that folder for itself."""
        return self.events is not None and self.backend.attributes_downloads

    @property
    def direct(self) -> bool:
        """Plain same-origin links are fetched over HTTP with the browser's cookies before any click, where the
        backend allows it (`BrowserBackend.direct_fetch`)."""
        return self.settings.direct_download and self.backend.direct_fetch and self.fetches is not None

    @property
    def empty_floor_ms(self) -> int:
        return self.portal.attachments.empty_wait_ms if self.empty_wait_ms is None else self.empty_wait_ms


def deliberate_wait_s(floor_ms: int) -> float:
    """The longest a PO waits on purpose, before any portal slowness: each page it waits on holds an empty list
    to the floor, and a page that still looks busy up to `BUSY_CAP_FACTOR` times that."""
    return PAGES_WAITED * BUSY_CAP_FACTOR * floor_ms / 1000


@dataclass(slots=True)
class Attachment:
    name: str
    href: str
    target: WebElement | None  # None when read from the home tab: found again by `index` on its own tab to click
    index: int  # position in the list as read (in the API's order), to find it again on its tab
    source: AttachmentSource = AttachmentSource.HEADER


@dataclass(frozen=True, slots=True)
class PageRead:
    """What a PO page (or its requisition's) says once its verdict is in."""

    url: str
    supplier: str
    attachments: list[Attachment]
    requisition_link: str


def _read(job: PoJob, from_home: bool, requisition: bool = False, name: str = "") -> PageRead:
    """Read the page: from the home tab when the verdict was read from there (the driver is on the home tab), else
    on the page's own tab (the driver is on it). `requisition`: it is the PO's requisition page. `name`: the home
    tab's name for the page's tab, when not the PO's own tab."""
    portal = job.portal
    args = [
        list(portal.supplier.selectors),
        list(portal.attachments.selectors),
        list(portal.attachments.name_attributes),
        portal.attachments.name_strip_suffix,
        list(portal.attachments.line_selectors),
        list(portal.attachments.comment_selectors),
        list(portal.requisition.link_selectors),
    ]
    if from_home:
        raw = job.driver.execute_script(_READ_FROM_HOME_JS, name or job.tab_name, *args)
    else:
        raw = job.driver.execute_script(_READ_JS, *args)
    found = [
        (AttachmentSource.REQUISITION if requisition else AttachmentSource(item["source"]), item)
        for item in raw["attachments"]
    ]
    # In the API's order (header, lines, comments), whatever the page's layout: `_2` names fall alike in both modes.
    found.sort(key=lambda pair: _SOURCE_ORDER.index(pair[0]))
    return PageRead(
        url=str(raw["url"]),
        supplier=str(raw["supplier"] or "").strip(),
        attachments=[
            Attachment(name=item["name"], href=item["href"], target=item["target"], index=i, source=source)
            for i, (source, item) in enumerate(found)
        ],
        requisition_link=str(raw["link"] or ""),
    )


def process_po(job: PoJob, record: PoRecord, output_dir: Path, attempt: int) -> PoResult:
    """`po_steps` for a browser that works on this PO alone."""
    return run_steps(po_steps(job, record, output_dir, attempt), POLL_S)


def po_steps(job: PoJob, record: PoRecord, output_dir: Path, attempt: int) -> Steps[PoResult]:
    """Process one PO in a new tab and leave the browser with only the home tab and an empty staging folder.

    Stepwise: it yields while it waits for a page, with the PO's tab current, so one driver can work on other
    tabs in between. WebDriver errors that mean a dead browser propagate (the session turns them into
    BrowserDeadError); every other problem becomes the result.
    """
    logger = log.bind(worker=job.worker, po=record.key, attempt=attempt)
    supplier_fallback = record.input_supplier or record.row.get(job.portal.supplier.input_column, "").strip()
    url = job.portal.po_url_for(record.po_id)
    result = PoResult(
        key=record.key,
        status=PoStatus.FAILED,
        supplier=supplier_fallback,
        url=url,
        worker=job.worker,
        attempts=attempt,
        started_at=time.time(),
    )
    tally = Tally()
    try:
        yield from _run(job, record, output_dir, result, tally, logger)
    except DiskFullError as exc:
        job.clean = False
        fail(result, str(exc))
        result.disk_full = DiskNeed(str(exc.folder), exc.needed)
    except TimeoutException:
        job.clean = False
        fail(result, f"page did not load in {job.settings.page_timeout_s:g} s", unreachable=True)
    except WebDriverException as exc:
        job.clean = False
        if is_dead_browser_error(exc):
            raise
        fail(result, f"browser error: {first_line(exc)}", unreachable=NET_ERROR in (exc.msg or ""))
    finally:
        _close_po_tabs(job)
        if not job.attributed:
            clear_staging(job.staging_dir)
        result.finished_at = time.time()
        if result.status not in FILED and tally.work is not None:
            # Nothing is reported for this attempt, so nothing of it stays on disk; a retry starts clean.
            shutil.rmtree(layout.long_path(tally.work), ignore_errors=True)
    logger.info(
        "po_page_done",
        status=str(result.status),
        found=result.attachments_found,
        downloaded=result.attachments_downloaded,
        seconds=round((result.finished_at or 0) - (result.started_at or 0), 2),
        error=result.error,
    )
    return result


def _run(job: PoJob, record: PoRecord, output_dir: Path, result: PoResult, tally: Tally, logger: Any) -> Steps[None]:
    driver, portal = job.driver, job.portal
    if not job.attributed:
        clear_staging(job.staging_dir)
    job.backend.tidy_before_po(driver)
    _drain_events(job)
    job.on_tab(TabState.OPENING, "")
    deadline = time.monotonic() + job.settings.page_timeout_s
    po_handle = _open_po_tab(job, result.url)
    afar = job.afar
    ahead = RequisitionAhead(
        driver,
        portal,
        job.open_side if afar else None,
        lambda: _read(job, from_home=True).requisition_link,
        job.settings.page_timeout_s,
        job.empty_floor_ms,
        eager=job.second_look,
    )
    watch = watch_page(
        driver, portal, deadline, job.empty_floor_ms, first_from_afar=job.preloaded_tab is not None, stay_afar=afar
    )
    evidence = yield from _watch_alongside(watch, ahead)
    _note_evidence(result, evidence, logger)
    if evidence.verdict is Verdict.TIMEOUT:
        job.clean = False  # a page that never came to rest may still be loading: that tab takes no other PO
    if evidence.verdict is not Verdict.READY:
        _page_problem(result, evidence, evidence.url or driver.current_url, job.settings.page_timeout_s)
        return

    page = _read(job, evidence.from_afar)
    if page.supplier:
        result.supplier = page.supplier
    wanted = portal.requisition.wanted([a.name for a in page.attachments]) and bool(page.requisition_link)
    if not wanted or ahead.link != page.requisition_link:
        _close_side_tabs(job, ahead)
    work = tally.work = layout.work_folder(output_dir, record, result.supplier)
    if (long_work := layout.long_path(work)).exists():
        shutil.rmtree(long_work)  # leftovers of an earlier attempt would turn into duplicates
    yield from _download_all(job, record, page, work, po_handle, tally, "", logger)

    if wanted:
        req, handle, name = yield from _requisition_page(job, ahead, page.requisition_link, po_handle, logger)
        _note_evidence(result, req, logger, page="requisition")
        if req.verdict is Verdict.TIMEOUT:
            job.clean = False
        if req.verdict is not Verdict.READY and (req.verdict is Verdict.LOGIN or not tally.saved):
            # Its attachments were never seen, so no verdict about the PO's documents is earned: the whole
            # PO is tried again, and a login wall waits for a sign-in like the PO page's.
            where = req.url or driver.current_url
            _page_problem(result, req, where, job.settings.page_timeout_s, page="requisition page")
            return
        if req.verdict is not Verdict.READY:
            # The PO page's own files are on disk: they stay, as PARTIAL, and the PO is tried again.
            tally.missing.append(f"the requisition page ({req.verdict.value})")
        else:
            found = _read(job, req.from_afar, requisition=True, name=name)
            yield from _download_all(job, record, found, work, handle, tally, "requisition ", logger)
    conclude(result, tally, output_dir, record, work)


def _watch_alongside(watch: Steps[PageEvidence], ahead: RequisitionAhead) -> Steps[PageEvidence]:
    """The PO page's watch, with the requisition page started and looked at alongside it after each look at the PO
    page from the home tab (the driver is then on the home tab, before and after that look)."""
    sent = None
    while True:
        try:
            waiting = watch.send(sent)
        except StopIteration as done:
            return done.value
        if sent is not None:
            ahead.step(waiting)
        sent = yield waiting


def _requisition_page(
    job: PoJob, ahead: RequisitionAhead, link: str, po_handle: str, logger: Any
) -> Steps[tuple[PageEvidence, str, str]]:
    """The requisition page's verdict, and its tab's handle and home-tab name: the side tab that has watched it
    since the PO page's floor began, else the PO's own tab, sent there now."""
    driver = job.driver
    logger.info("requisition_fallback", url=link, ahead=ahead.running)
    job.on_tab(TabState.LOADING, "requisition")
    if ahead.running and ahead.tab is not None:
        req = yield from ahead.finish()
        if req is not None:
            _back_to(driver, job.home_handle)  # it is read from there; a click on the PO's page may have left it
            return req, ahead.tab.handle, ahead.tab.name
    _close_side_tabs(job, ahead)
    req_deadline = time.monotonic() + job.settings.page_timeout_s
    _back_to(driver, job.home_handle if job.afar else po_handle)
    sent = job.afar and named_tabs.navigate(driver, job.tab_name, link)
    if not sent:
        _back_to(driver, po_handle)
        driver.get(link)
    req = yield from watch_page(
        driver, job.portal, req_deadline, job.empty_floor_ms, first_from_afar=sent, stay_afar=sent
    )
    return req, po_handle, job.tab_name


def _open_po_tab(job: PoJob, url: str) -> str:
    """The PO page's tab, loading `url` (or already navigating, from the tab runner); its window handle."""
    driver = job.driver
    if job.preloaded_tab is not None:
        # A tab of the tab runner, already navigating: its first looks come from the home tab (page_wait.probe_tabs)
        # or the runner switches to it, so the driver does not wait here for its page to load.
        job.on_tab(TabState.LOADING, "")
        return job.preloaded_tab
    driver.switch_to.new_window("tab")
    po_handle = driver.current_window_handle
    install_early(driver)
    if job.settings.block_resources and job.events is not None:
        _block_fonts(driver)
    job.on_tab(TabState.LOADING, "")
    driver.get(url)
    return po_handle


def _note_evidence(result: PoResult, evidence: PageEvidence, logger: Any, page: str = "po") -> None:
    if page == "po" and evidence.first_attachment_ms is not None:
        result.first_attachment_ms = round(evidence.first_attachment_ms)
    logger.info(
        "page_verdict",
        page=page,
        verdict=evidence.verdict.value,
        attachments=evidence.attachments,
        since_load_ms=round(evidence.since_load_ms),
        first_attachment_ms=result.first_attachment_ms,
        instrument=evidence.instrument.value,
    )


def _page_problem(result: PoResult, evidence: PageEvidence, url: str, timeout_s: float, page: str = "") -> None:
    """A page that is not a list come to rest. On the PO's own page a not-found or denied text is the verdict;
    on another page (`page` names it) it is one more reason the PO's documents were not seen: a transient error."""
    verdict = evidence.verdict
    where = f"{page}: " if page else ""
    if verdict is Verdict.LOGIN:
        result.status = PoStatus.AUTH_REQUIRED
        result.error = f"sign-in required (the portal showed its login page: {url.split('?')[0]})"
    elif verdict is Verdict.NOT_FOUND and not page:
        result.status = PoStatus.PO_NOT_FOUND
        result.error = "the portal says this PO does not exist"
    elif verdict is Verdict.DENIED and not page:
        result.status = PoStatus.ACCESS_DENIED
        result.error = "the portal denies access to this PO"
    elif verdict in (Verdict.NOT_FOUND, Verdict.DENIED):
        fail(result, f"{where}the portal says it does not exist or denies access")
    elif verdict is Verdict.BROWSER_ERROR:
        code = f" ({evidence.error_code})" if evidence.error_code else ""
        fail(result, f"{where}the browser could not reach the portal{code}", unreachable=True)
    elif verdict is Verdict.SERVER_ERROR:
        status = f" (HTTP {evidence.http_status})" if evidence.http_status else ""
        fail(result, f"{where}the portal answered with a server error{status}")
    elif verdict is Verdict.HTTP_ERROR:
        fail(result, f"{where}the portal answered HTTP {evidence.http_status}")
    elif evidence.waiting_for:
        fail(result, f"{where}the page did not come to rest in {timeout_s:g} s: {evidence.waiting_for}")
    else:
        fail(result, f"{where}page did not load in {timeout_s:g} s")


def _download_all(
    job: PoJob,
    record: PoRecord,
    page: PageRead,
    work: Path,
    po_handle: str,
    tally: Tally,
    label: str,
    logger: Any,
) -> Steps[None]:
    """One click, one verified file, then the next: each file is attributed to its attachment without guessing.

    With direct_download, plain same-origin links are first fetched over HTTP in parallel; a click is the
    fallback for each one that fails.
    """
    attachments = page.attachments
    tally.found += len(attachments)
    direct = (yield from _fetch_direct_all(job, attachments, page.url, label)) if job.direct else {}
    for number, attachment in enumerate(attachments, start=1):
        job.on_tab(TabState.DOWNLOADING, f"{label}{number} of {len(attachments)}")
        display = attachment.name or attachment.href or f"attachment {number}"
        saved: Path | None = None
        fetched = direct.get(attachment.index)
        if fetched is not None and fetched.path is not None:
            saved, error = _file_away(record, attachment, fetched.path, fetched.file_name, work, 0)
        if saved is None:
            if fetched is not None:
                logger.info("direct_download_fallback", name=display, error=fetched.error)
            saved, error = yield from _download_one(job, record, attachment, work, po_handle)
        if saved is None:
            tally.missing.append(f"{display} ({error})")
            logger.warning("attachment_missing", name=display, error=error)
        else:
            tally.keep(saved, attachment.source.value)
            logger.debug("attachment_saved", name=saved.name, bytes=saved.stat().st_size)


def _fetch_direct_all(
    job: PoJob, attachments: list[Attachment], page: str, label: str
) -> Steps[dict[int, DirectOutcome]]:
    """Fetch every plain same-origin link of `page` over HTTP, on the session's fetch threads. Stepwise: while the
    fetches run, the tab runner works on other tabs (they need no driver), and may leave the driver elsewhere."""
    eligible = [a for a in attachments if a.href and same_origin(a.href, page)]
    if not eligible or job.fetches is None:
        return {}
    job.on_tab(TabState.DOWNLOADING, f"{label}{len(eligible)} of {len(attachments)} over HTTP")
    fetch = _direct_fetch(job, page)
    futures = {a.index: job.fetches.submit(fetch, a.href) for a in eligible}
    while not all(f.done() for f in futures.values()):
        yield Waiting("downloading over HTTP", anywhere=True)
    return {index: future.result() for index, future in futures.items()}


def _direct_fetch(job: PoJob, page: str) -> Callable[[str], DirectOutcome]:
    """`fetch_direct` for links of `page`, with the browser's cookies and user agent. The cookies are read here, on
    the driver's thread: the fetch threads never touch the driver."""
    return functools.partial(
        fetch_direct,
        cookies=job.driver.get_cookies(),
        headers={"User-Agent": job.user_agent, "Referer": page},
        staging=job.staging_dir,
        timeout_s=job.settings.download_timeout_s,
    )


def _back_to(driver: WebDriver, handle: str) -> None:
    """Back on this PO's tab, after steps that let the tab runner take the driver elsewhere."""
    if driver.current_window_handle != handle:
        driver.switch_to.window(handle)


def _download_one(
    job: PoJob, record: PoRecord, attachment: Attachment, work: Path, po_handle: str
) -> Steps[tuple[Path | None, str]]:
    driver, staging = job.driver, job.staging_dir
    _back_to(driver, po_handle)
    _drain_events(job)
    known = set(job.events.downloads) if job.events is not None else set()
    before = job.backend.files_before_click(driver, staging)
    page_url = driver.current_url
    if not _click_attachment(job, attachment):
        return None, "the attachment disappeared from the page"
    now = time.monotonic()
    click = DownloadClick(
        driver=driver,
        staging=staging,
        before=before,
        deadline=now + job.settings.download_timeout_s,
        start_deadline=now + min(job.settings.page_timeout_s, job.settings.download_timeout_s),
        poll_s=POLL_S,
        events=job.events,
        fetch=(lambda: performance_log(driver)) if job.events is not None else None,
        known=known,
        tab=po_handle,
        po_tabs={po_handle, *job.own_tabs, *job.background_tabs},
    )
    outcome = yield from job.backend.wait_for(click)
    _close_extra_tabs(job, po_handle)
    if outcome.path is None:
        job.clean = False
        if outcome.in_progress and outcome.guid:
            _cancel_download(driver, outcome.guid)
        if driver.current_url != page_url:
            # The file opened in the tab instead of downloading: go back so the next attachment is clickable.
            driver.back()
        if job.attributed and outcome.guid:
            forget(staging, outcome.guid)
        if outcome.canceled:
            return _fetch_after_browser_failure(job, record, attachment, work, page_url, outcome.error)
        return None, outcome.error  # a timeout: another wait as long would break the PO's time budget
    served = outcome.suggested_name or outcome.path.name
    filed = _file_away(record, attachment, outcome.path, served, work, outcome.expected_bytes)
    if job.attributed:
        forget(staging, outcome.guid)  # a file that failed its check must not wait there for nobody
    return filed


def _click_attachment(job: PoJob, attachment: Attachment) -> bool:
    """Click the attachment on the driver's tab, found again there when its element went stale or was read from
    the home tab; False when it is no longer on the page."""
    target = attachment.target
    try:
        if target is None:  # read from the home tab: found again on its own tab
            raise StaleElementReferenceException("read from the home tab")
        _click(job.driver, target)
    except StaleElementReferenceException:
        requisition = attachment.source is AttachmentSource.REQUISITION
        fresh = _read(job, from_home=False, requisition=requisition).attachments
        if attachment.index >= len(fresh) or (target := fresh[attachment.index].target) is None:
            return False
        _click(job.driver, target)
    return True


def _fetch_after_browser_failure(
    job: PoJob, record: PoRecord, attachment: Attachment, work: Path, page_url: str, browser_error: str
) -> tuple[Path | None, str]:
    """One direct HTTP fetch of a link the browser failed to download, with the browser's cookies.

    Chromium cancels downloads it cannot name (a 300-character name exceeds the file system's limit) or
    store, although the server sent the file; popool names files itself, so the bytes are all it needs.
    A truly broken response (truncated, 5xx, a login page) fails here too and the attachment stays missing.
    """
    if job.direct or not attachment.href or not same_origin(attachment.href, page_url):
        return None, browser_error  # direct_download already tried this fetch, or there is no plain link
    fetched = _direct_fetch(job, page_url)(attachment.href)
    if fetched.path is None:
        return None, f"{browser_error}; direct fetch: {fetched.error}"
    log.info("browser_download_rescued", name=attachment.name, browser_error=browser_error)
    return _file_away(record, attachment, fetched.path, fetched.file_name, work, 0)


def _file_away(
    record: PoRecord, attachment: Attachment, staged: Path, served_name: str, work: Path, expected_bytes: int
) -> tuple[Path | None, str]:
    """Move a finished file from staging into the PO's work folder under its layout name, verified."""
    name = shown_name(attachment.name, served_name or staged.name)
    layout.long_path(work).mkdir(parents=True, exist_ok=True)
    dest = layout.unique_path(work, layout.attachment_file_name(record.key, name))
    try:
        move_verified(staged, dest, expected_bytes)
    except DiskFullError:
        raise  # no file of this PO can go in now: the PO waits for room as a whole
    except IncompleteDownloadError as exc:
        return None, str(exc)
    except OSError as exc:
        return None, layout.os_error_text(exc)
    return dest, ""


def _click(driver: WebDriver, element: WebElement) -> None:
    # A script click, in the same round trip as the scroll: the driver's own click waits for the navigation a
    # download link starts (about 80 ms a file under load, the dearest command of a PO), and a floating toolbar
    # over the element does not stop it.
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'}); arguments[0].click();", element
    )


def _drain_events(job: PoJob) -> None:
    if job.events is not None:
        job.events.feed(performance_log(job.driver))


def _cancel_download(driver: WebDriver, guid: str) -> None:
    # A late download must not land in the staging folder while the next PO is waiting for its own files.
    with contextlib.suppress(WebDriverException, KeyError):
        execute_cdp(driver, "Browser.cancelDownload", {"guid": guid})


def _block_fonts(driver: WebDriver) -> None:
    with contextlib.suppress(WebDriverException, KeyError):
        execute_cdp(driver, "Network.enable")
        execute_cdp(driver, "Network.setBlockedURLs", {"urls": list(BLOCKED_URL_PATTERNS)})


def _close_extra_tabs(job: PoJob, keep: str) -> None:
    """A click may open a tab (a link with target=_blank): close it and return to the PO tab."""
    driver = job.driver
    handles = driver.window_handles
    kept = {keep, job.home_handle, *job.own_tabs}
    if len(handles) <= len(kept) + len(job.background_tabs) and driver.current_window_handle == keep:
        return
    close_tabs_but(driver, handles, {*kept, *job.background_tabs})
    driver.switch_to.window(keep)


def _close_side_tabs(job: PoJob, ahead: RequisitionAhead | None = None) -> None:
    """Close this PO's side tabs from the home tab, without switching to them (one may still be loading); the
    driver ends on the home tab."""
    if ahead is not None:
        ahead.abandon()
    if not job.side_tabs:
        return
    _back_to(job.driver, job.home_handle)
    with contextlib.suppress(WebDriverException):
        named_tabs.close(job.driver, [s.name for s in job.side_tabs])
    job.side_tabs.clear()


def _close_po_tabs(job: PoJob) -> None:
    """Close every tab but the home tab, other POs' background tabs and the tab runner's own tab for this PO (the
    runner closes or reuses that one), and switch to the home tab; a dead browser's errors propagate to the
    session."""
    job.on_tab(TabState.CLOSING, "")
    driver = job.driver
    try:
        _close_side_tabs(job)
        handles = driver.window_handles
    except WebDriverException as exc:
        if is_dead_browser_error(exc):
            raise
        job.clean = False
        return
    keep = {job.home_handle, *job.background_tabs}
    if job.preloaded_tab is not None:
        keep.add(job.preloaded_tab)
    if close_tabs_but(driver, handles, keep):
        driver.switch_to.window(job.home_handle)
    else:
        _back_to(driver, job.home_handle)
