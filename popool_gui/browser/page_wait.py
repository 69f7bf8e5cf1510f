"""When a PO page has said what it has to say: a login wall, an error text, or an attachment list come to rest.

A list is believed only with evidence that the page finished rendering it:
- the page's activity instrument (page_activity.py) has seen no pending request, no short timer and no DOM change
  for `settle_ms`, and no loading indicator of the profile is visible;
- an empty list, in addition, only once the page has been loaded for `empty_wait_ms`, a floor the run learns
  from the portal itself (pool/render_timing.py), because a script timer that starts the fetch later defeats
  every in-page signal.
Pages that never come to rest (polling, animations) are believed once they have been loaded for twice the
floor; only a visible loading indicator holds a verdict back until the page deadline.

A page that is not the portal's answer at all is never a list: the browser's own network error page (a reset, a
refused connection, a failed DNS look-up), or a document the portal served with an HTTP error status that no
profile text explains. Both are verdicts of their own, which the caller treats as transient errors.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.browser.js import load
from popool_gui.browser.page_activity import install_late
from popool_gui.browser.portal import PortalProfile
from popool_gui.browser.steps import Steps, Waiting, run_steps

POLL_S = 0.1
# A list is believed after this much quiet instead of `settle_ms` when the instrument has seen the page from its
# first script and nothing at all is pending: no request (body reads included), no timer, no repeating timer, no
# animation frame, no loading indicator. Every way the page could still change the list would then show.
QUICK_SETTLE_MS = 250
BLANK = "about:blank"
# Busy signals hold an empty or short list back for at most this many times the empty floor, counted from load.
BUSY_CAP_FACTOR = 2

# One round trip per poll, on the driver's own tab or into the named tabs the home tab opened (js/page_probe.js,
# js/probe_named_tabs.js).
_PROBE_FN = load("page_probe.js")
_PROBE_JS = _PROBE_FN + "return probe(window, ...arguments);"
_PROBE_TABS_JS = _PROBE_FN + load("probe_named_tabs.js")


class Verdict(StrEnum):
    READY = "ready"
    LOGIN = "login"
    NOT_FOUND = "not_found"
    DENIED = "denied"
    SERVER_ERROR = "server_error"
    HTTP_ERROR = "http_error"  # the document came with a 4xx status that no profile text explains
    BROWSER_ERROR = "browser_error"  # the browser's own network error page: the portal was never reached
    TIMEOUT = "timeout"


# The URLs of browsers' own network error pages: Chromium's and Edge's, and Firefox's.
_ERROR_PAGE_PREFIXES: tuple[str, ...] = ("chrome-error:", "edge-error:", "about:neterror", "about:certerror")
# Chromium's error codes (ERR_CONNECTION_RESET): what a message may quote of an error page, nothing else.
_ERROR_CODE = re.compile(r"ERR_[A-Z_]{1,60}")


def is_error_page_url(url: str) -> bool:
    return url.lower().startswith(_ERROR_PAGE_PREFIXES)


class Instrument(StrEnum):
    EARLY = "early"  # installed before the page's scripts: every request, timer and insertion seen
    LATE = "late"  # installed on first look: sees what happened after that
    NONE = "none"


@dataclass(frozen=True, slots=True)
class PageProbe:
    url: str
    state: str
    login: bool
    not_found: bool
    denied: bool
    error_shown: bool
    server_error: bool
    ready: bool
    attachments: int
    loading: bool = False
    since_load_ms: float = -1.0  # -1 before the load event
    instrument: Instrument = Instrument.NONE
    requests: int = 0
    timers: int = 0
    quiet_ms: float = -1.0  # since the last DOM change, request or timer; -1 without an instrument
    intervals: int = 0  # repeating timers running
    frames: int = 0  # animation frame callbacks pending
    # Each pending one-shot timer as (set, due), in ms after load.
    timer_times: tuple[tuple[float, float], ...] = ()
    first_attachment_ms: float = -1.0  # after load; -1 when not known
    http_status: int = 0  # of the main document; 0 when the browser does not say
    error_code: str = ""  # a browser error page's code (ERR_CONNECTION_RESET), else ""

    @property
    def error_page(self) -> bool:
        return is_error_page_url(self.url)


@dataclass(frozen=True, slots=True)
class PageEvidence:
    """What a verdict rests on, for the result, the log and the run's render timing."""

    verdict: Verdict
    attachments: int = 0
    since_load_ms: float = -1.0
    first_attachment_ms: float | None = None
    instrument: Instrument = Instrument.NONE
    waiting_for: str = ""  # the last reason the wait went on, for a timeout's message
    http_status: int = 0
    error_code: str = ""
    url: str = ""  # of the page the verdict was read on
    # The verdict came from a look from the home tab, where the driver still is (watch_page's `stay_afar`).
    from_afar: bool = False


def is_login_url(url: str, portal: PortalProfile) -> bool:
    """A login marker in the URL; the portal's own host part is ignored so a host name cannot trigger it."""
    rest = url[len(portal.base_url) :] if portal.base_url and url.startswith(portal.base_url) else url
    rest = rest.lower()
    return any(marker.lower() in rest for marker in portal.detect.login_url_contains)


def _probe_args(portal: PortalProfile) -> list[Any]:
    d = portal.detect
    return [
        list(d.login_selectors),
        list(d.error_selectors),
        list(d.ready_selectors),
        list(portal.attachments.selectors),
        list(d.loading_selectors),
        [t.lower() for t in d.not_found_text],
        [t.lower() for t in d.access_denied_text],
        [t.lower() for t in d.server_error_text],
    ]


def probe_page(driver: WebDriver, portal: PortalProfile) -> PageProbe:
    return _probe_of(driver.execute_script(_PROBE_JS, *_probe_args(portal)), portal)


def probe_tabs(driver: WebDriver, portal: PortalProfile, names: list[str]) -> dict[str, PageProbe | None]:
    """From the home tab: a look into each PO tab it opened under these names; None where it cannot see."""
    raw: dict[str, Any] = driver.execute_script(_PROBE_TABS_JS, names, *_probe_args(portal)) or {}
    return {name: _look_of(raw.get(name), portal) for name in names}


# What a reused tab shows until its new page replaces the last PO's: a page that has not started loading.
NOT_STARTED = PageProbe(
    url=BLANK,
    state="loading",
    login=False,
    not_found=False,
    denied=False,
    error_shown=False,
    server_error=False,
    ready=False,
    attachments=0,
)


def _look_of(raw: dict[str, Any] | None, portal: PortalProfile) -> PageProbe | None:
    if not raw:
        return None
    return NOT_STARTED if raw.get("stale") else _probe_of(raw, portal)


def _probe_of(raw: dict[str, Any], portal: PortalProfile) -> PageProbe:
    instrument = Instrument.NONE
    if raw["instrumented"]:
        instrument = Instrument.EARLY if raw["early"] else Instrument.LATE
    return PageProbe(
        url=raw["url"],
        state=raw["state"],
        login=bool(raw["login"]) or is_login_url(raw["url"], portal),
        not_found=bool(raw["notFound"]),
        denied=bool(raw["denied"]),
        error_shown=bool(raw["errorShown"]),
        server_error=bool(raw["serverError"]),
        ready=bool(raw["ready"]),
        attachments=int(raw["attachments"]),
        loading=bool(raw["loading"]),
        since_load_ms=float(raw["sinceLoad"]),
        instrument=instrument,
        requests=int(raw["requests"]),
        timers=int(raw["timers"]),
        quiet_ms=float(raw["quiet"]),
        intervals=int(raw["intervals"]),
        frames=int(raw["frames"]),
        timer_times=tuple((float(t[0]), float(t[1])) for t in raw.get("timerTimes") or ()),
        first_attachment_ms=float(raw["firstAttachment"]),
        http_status=int(raw["status"] or 0),
        error_code=_error_code(str(raw["errorCode"] or "")),
    )


def _error_code(text: str) -> str:
    found = _ERROR_CODE.search(text)
    return found.group(0) if found else ""


def _busy_reason(probe: PageProbe, settle_ms: int, cap_ms: float) -> str:
    """Why the page is not at rest yet, or "" when it is."""
    if probe.loading:
        return "a loading indicator is visible"
    if probe.since_load_ms < 0:
        return "the page has not finished loading"
    if probe.since_load_ms >= cap_ms:
        # Given up on as never at rest, except for a timer set before that moment: a list's second batch is
        # scheduled once, and waited for until it has fired. Timers a polling page sets after it do not count.
        if any(set_ms < cap_ms for set_ms, _ in probe.timer_times):
            return "a script timer set before the page was given up on as busy is pending"
        return ""
    if probe.requests:
        return f"{probe.requests} request(s) pending"
    if probe.timers:
        return f"{probe.timers} script timer(s) pending"
    if 0 <= probe.quiet_ms < settle_ms:
        return "the page is still changing"
    return ""


def settle_for(probe: PageProbe, settle_ms: int) -> int:
    """How long a non-empty list must stay unchanged (and the page quiet) before it is believed."""
    if probe.instrument is not Instrument.EARLY or probe.loading or probe.since_load_ms < 0:
        return settle_ms
    if probe.requests or probe.timers or probe.intervals or probe.frames:
        return settle_ms
    return min(settle_ms, QUICK_SETTLE_MS)


def wait_for_page(driver: WebDriver, portal: PortalProfile, deadline: float, empty_wait_ms: int) -> PageEvidence:
    """`watch_page` for a caller with only this page to watch."""
    return run_steps(watch_page(driver, portal, deadline, empty_wait_ms), POLL_S)


def watch_page(
    driver: WebDriver,
    portal: PortalProfile,
    deadline: float,
    empty_wait_ms: int,
    *,
    first_from_afar: bool = False,
    stay_afar: bool = False,
) -> Steps[PageEvidence]:
    """The first page condition to hold: a login wall, an error text, or an attachment list come to rest.

    `first_from_afar`: the driver may be on another tab; the first look is asked of the caller (a tab runner
    looking from the home tab), which switches to this page's tab when it sends none. `stay_afar`: a verdict read
    from afar is returned at once, with the driver on the home tab (the caller reads the page from there, see
    `PageEvidence.from_afar`); else the driver is first put on the page's tab.

    `empty_wait_ms` is the floor since load before an empty list is believed (the run's learned figure, or a
    longer one for a second look). A non-empty list ends the wait once the page is at rest and the count held
    for `settle_ms`, or at once when the profile's ready marker shows and nothing is loading.
    """
    floor_ms = max(portal.attachments.settle_ms, empty_wait_ms)
    cap_ms = BUSY_CAP_FACTOR * floor_ms
    count, count_since = -1, 0.0
    first_ms: float | None = None
    installed_late = False
    reason = "the page has not answered"
    given: PageProbe | None = None
    if first_from_afar:
        given = yield Waiting(reason, loaded=False, probe=True)
    while True:
        if given is not None and probe_needs_tab(given, installed_late):
            given = yield Waiting(reason, loaded=given.since_load_ms >= 0)  # the next step runs on this tab
            continue
        probe = given if given is not None else probe_page(driver, portal)
        now = time.monotonic()
        if probe.url == BLANK:
            # A tab runner's tab whose navigation has not committed yet (a slow portal): its blank first document
            # says nothing about the PO, and switching to the tab would hold the driver until the page loads.
            reason = "the page has not started loading"
            if now >= deadline:
                return (yield from _with_tab(given, stay_afar, _evidence(Verdict.TIMEOUT, probe, first_ms, reason)))
            given = yield Waiting(reason, loaded=False, probe=True)
            continue
        if probe.instrument is Instrument.NONE and not installed_late:
            install_late(driver)
            installed_late = True
        verdict = _final_verdict(probe)
        if verdict is not None:
            return (yield from _with_tab(given, stay_afar, _evidence(verdict, probe, first_ms)))
        if first_ms is None and probe.attachments and probe.first_attachment_ms >= 0:
            first_ms = probe.first_attachment_ms
        if probe.attachments != count:
            count, count_since = probe.attachments, now
        stable_ms = (now - count_since) * 1000
        verdict, reason = _judge(probe, portal, floor_ms, cap_ms, stable_ms)
        if verdict is not None:
            return (yield from _with_tab(given, stay_afar, _evidence(verdict, probe, first_ms)))
        if now >= deadline:
            return (yield from _with_tab(given, stay_afar, _evidence(Verdict.TIMEOUT, probe, first_ms, reason)))
        given = yield Waiting(reason, loaded=probe.since_load_ms >= 0, probe=True, look=probe)


def _judge(
    probe: PageProbe, portal: PortalProfile, floor_ms: int, cap_ms: int, stable_ms: float
) -> tuple[Verdict | None, str]:
    """What one look says once no final verdict (login, error texts) holds: a verdict, or why the wait goes on.

    `stable_ms`: how long the attachment count has held."""
    settle_ms = portal.attachments.settle_ms
    busy = _busy_reason(probe, settle_ms, cap_ms)
    if probe.http_status >= 400:
        # Once its scripts had their chance to show a text the profile knows (not found, denied), the status
        # is the answer: an error document is not the PO's page, whatever it lists or marks as ready.
        if probe.state == "complete" and not busy:
            return (Verdict.SERVER_ERROR if probe.http_status >= 500 else Verdict.HTTP_ERROR), ""
        return None, busy or "the page has not finished loading"
    if probe.attachments:
        if probe.ready and not probe.loading and not probe.requests:
            # The portal's own "rendered" marker ends the wait early; without it the list must come to rest.
            return Verdict.READY, ""
        list_settle_ms = settle_for(probe, settle_ms)
        if not _busy_reason(probe, list_settle_ms, cap_ms) and stable_ms >= list_settle_ms:
            return Verdict.READY, ""
        return None, busy or "the list is still growing"
    if probe.server_error and probe.state == "complete" and not probe.ready:
        return Verdict.SERVER_ERROR, ""
    if busy:
        return None, busy
    if portal.detect.ready_selectors and not probe.ready:
        return None, "the profile's ready marker has not appeared"
    if probe.since_load_ms < floor_ms:
        return None, f"an empty list is believed {floor_ms / 1000:g} s after load at the earliest"
    if stable_ms < settle_ms:
        return None, "the list was seen only just now"
    return Verdict.READY, ""


def loaded_empty(probe: PageProbe) -> bool:
    """The page has loaded, with no error status, and lists nothing (yet)."""
    return probe.since_load_ms >= 0 and not probe.attachments and probe.http_status < 400


def empty_at_rest(probe: PageProbe) -> bool:
    """Loaded, with an empty list and nothing the instrument sees that could still fill it (a request, a timer, a
    loading indicator): what is left is the floor, for a fetch a later script starts."""
    return loaded_empty(probe) and not (probe.loading or probe.requests or probe.timers)


def probe_needs_tab(probe: PageProbe, installed_late: bool) -> bool:
    """A look from afar that cannot be acted on from afar: the instrument must go into the page itself. Not for a
    page that has not started loading (a blank first document, a reused tab's last page): there is nothing to put
    it in yet, and a switch to that tab would hold the driver until its next page has loaded."""
    return probe.url != BLANK and probe.instrument is Instrument.NONE and not installed_late


def _final_verdict(probe: PageProbe) -> Verdict | None:
    """What the page says whatever its list: the browser's own error page, a login wall, a not-found or denied
    text."""
    if probe.error_page:
        return Verdict.BROWSER_ERROR  # first: none of the browser's own text on that page is the portal's
    if probe.login:
        return Verdict.LOGIN
    if probe.not_found:
        return Verdict.NOT_FOUND
    if probe.denied or probe.error_shown:
        return Verdict.DENIED
    return None


def _with_tab(given: PageProbe | None, stay_afar: bool, evidence: PageEvidence) -> Steps[PageEvidence]:
    """The verdict, once the driver is on the page's tab: what follows a verdict acts on the page. After a look
    from afar that is one more step, which the caller takes on this tab, unless the caller stays afar."""
    if given is not None:
        if stay_afar:
            return replace(evidence, from_afar=True)
        yield Waiting("a verdict is in", loaded=evidence.since_load_ms >= 0)
    return evidence


def _evidence(verdict: Verdict, probe: PageProbe, first_ms: float | None, waiting_for: str = "") -> PageEvidence:
    return PageEvidence(
        verdict=verdict,
        attachments=probe.attachments,
        since_load_ms=probe.since_load_ms,
        first_attachment_ms=first_ms,
        instrument=probe.instrument,
        waiting_for=waiting_for,
        http_status=probe.http_status,
        error_code=probe.error_code,
        url=probe.url,
    )


def wait_for_login_state(driver: WebDriver, portal: PortalProfile, timeout_s: float) -> bool:
    """After opening the home page: True when it ends on a login wall (the redirect chain has come to rest)."""
    deadline = time.monotonic() + timeout_s
    settle_s = portal.attachments.settle_ms / 1000
    last_url, since = "", time.monotonic()
    while True:
        probe = probe_page(driver, portal)
        now = time.monotonic()
        if probe.url != last_url or probe.state != "complete":
            last_url, since = probe.url, now
        elif now - since >= settle_s or now >= deadline:
            return probe.login
        if now >= deadline:
            return probe.login
        time.sleep(POLL_S)
