"""The requisition page, watched in a tab of its own while the PO page's empty list waits out its floor.

An empty PO is believed only after its own page and its requisition's have each held an empty list for the floor,
counted from each page's load. Watched one after the other, that is two floors (and, on the second look, two longer
ones) during which the PO's tab does nothing else. So once the PO page has loaded with an empty list and nothing
pending that could fill it (page_wait: no request, no timer, no loading indicator), the requisition page starts
loading in a second tab, watched from the home tab alongside the PO page: the two floors overlap, and each page
still gets its whole floor from its own load. A second look, for a PO whose pages were both empty on the first,
starts the requisition page as soon as the PO page has loaded empty, pending work or not.

If the PO page's list then appears, the second tab is closed unread. Whatever this cannot do from the home tab (a
page the home tab cannot see into, one that needs the driver on it) it leaves to the PO's own tab, which then loads
the requisition page after its own verdict, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog
from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.browser.page_wait import PageEvidence, PageProbe, empty_at_rest, loaded_empty, probe_tabs, watch_page
from popool_gui.browser.portal import PortalProfile
from popool_gui.browser.steps import Steps, Waiting

log = structlog.get_logger()

WEB_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class SideTab:
    """A second tab of one PO: its window handle and the home tab's name for it (named_tabs)."""

    handle: str
    name: str


# Opens a URL in a side tab from the home tab (current) without waiting for its page; None when it cannot.
OpenSide = Callable[[str], SideTab | None]


class RequisitionAhead:
    """One PO's early look at its requisition page. Each method runs with the driver on the home tab."""

    def __init__(
        self,
        driver: WebDriver,
        portal: PortalProfile,
        open_side: OpenSide | None,
        read_link: Callable[[], str],
        timeout_s: float,
        floor_ms: int,
        *,
        eager: bool = False,
    ) -> None:
        self._driver = driver
        self._portal = portal
        self._open_side = open_side
        self._read_link = read_link
        self._timeout_s = timeout_s
        self._floor_ms = floor_ms
        self._eager = eager
        self._tried = open_side is None or not portal.requisition.wanted([])
        self._watch: Steps[PageEvidence] | None = None
        self.tab: SideTab | None = None
        self.link = ""
        self.evidence: PageEvidence | None = None
        self._reason = "the requisition page has not answered"

    @property
    def running(self) -> bool:
        return self._watch is not None or self.evidence is not None

    def step(self, po_page: Waiting) -> None:
        """After a look at the PO page from the home tab: start the requisition page once the PO page has loaded
        with an empty list and nothing pending (`eager`: loaded with an empty list), and take one look at it while
        it runs."""
        if not self._tried and self._time_to_start(po_page.look):
            self._tried = True
            self._start()
        elif self._watch is not None:
            self._look()

    def _time_to_start(self, look: object) -> bool:
        if not isinstance(look, PageProbe):
            return False
        return loaded_empty(look) if self._eager else empty_at_rest(look)

    def finish(self) -> Steps[PageEvidence | None]:
        """Once the PO page says its list is empty: the requisition page's verdict, or None when it must be
        loaded the usual way. The runner is asked for looks from the home tab (it then leaves the driver there)."""
        while self._watch is not None:
            sent = yield Waiting(self._reason, probe=True, anywhere=True)
            if sent is None:
                self.abandon()  # the home tab could not look: no step can be sure the driver is there
            else:
                self._look()
        return self.evidence

    def abandon(self) -> None:
        """Give up the early look; the side tab, if any, is closed with the PO's tabs."""
        if self._watch is not None:
            self._watch.close()
        self._watch, self.evidence = None, None

    def _start(self) -> None:
        self.link = self._read_link()
        # The page's own link, whatever it holds: only a web address is opened ahead; the PO's tab follows any other.
        if urlsplit(self.link).scheme not in WEB_SCHEMES or self._open_side is None:
            return
        log.info("requisition_ahead", url=self.link)
        self.tab = self._open_side(self.link)
        if self.tab is None:
            return
        deadline = time.monotonic() + self._timeout_s
        self._watch = watch_page(
            self._driver, self._portal, deadline, self._floor_ms, first_from_afar=True, stay_afar=True
        )
        next(self._watch)  # its first look is given, like the PO page's

    def _look(self) -> None:
        assert self._watch is not None and self.tab is not None
        look = probe_tabs(self._driver, self._portal, [self.tab.name]).get(self.tab.name)
        if look is None:
            self.abandon()  # out of the home tab's sight (a redirect to another origin): the PO's tab will load it
            return
        try:
            waiting = self._watch.send(look)
        except StopIteration as done:
            self._watch, self.evidence = None, done.value
            return
        if not waiting.probe:
            self.abandon()  # it needs the driver on its own tab, which the PO's steps do not run on
            return
        self._reason = f"requisition page: {waiting.reason}"
