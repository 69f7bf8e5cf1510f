"""Several POs in progress in one browser at once, each in its own tab, advanced in turn by the one thread that
owns the driver.

Each PO runs as `po_page.po_steps`: it yields whenever it waits for its page (the load, the settle time, the
empty-list floor, the second look's longer floor) or for a file, and the runner then looks at the other tabs. So
one tab's deliberate wait costs that PO latency, not the worker's throughput.

Switching the driver between tabs is its dearest command (about 8 ms, three times a page probe), so the runner
switches only for steps that act on a page. Tabs waiting for their page are looked at together from the home tab,
which opened them and can see into them (same origin), in one round trip per turn (page_wait.probe_tabs); a tab
waiting for a file needs only the browser's download reports, which any tab can read.

A tab whose PO finished cleanly takes the next PO: the home tab sends it there. So the dearest part of a PO's driver
work (a new tab, the page instrument installed in it, switching to it and back, closing it) is paid once per tab,
not once per PO.
"""

from __future__ import annotations

import contextlib
import functools
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from selenium.common.exceptions import WebDriverException

from popool_gui.batch import layout
from popool_gui.batch.model import PoRecord, PoResult, PoStatus, TabState
from popool_gui.browser import po_page
from popool_gui.browser.errors import BrowserDeadError, first_line
from popool_gui.browser.page_wait import PageProbe, probe_tabs
from popool_gui.browser.requisition_ahead import SideTab
from popool_gui.browser.session import BrowserSession, dead_browser_errors
from popool_gui.browser.steps import Steps, Waiting
from popool_gui.browser.tab_state import TabMachine, TabPhase

log = structlog.get_logger()

POLL_S = po_page.POLL_S  # how often one tab's page is looked at while it waits
# POs one tab takes before it is closed for a fresh one: each PO adds an entry to the tab's history.
TAB_USES = 50

# What po_page reports of its tab, as the tab's phase.
_PHASE_OF: dict[TabState, TabPhase] = {
    TabState.OPENING: TabPhase.OPENING,
    TabState.LOADING: TabPhase.LOADING,
    TabState.DOWNLOADING: TabPhase.DOWNLOADING,
    TabState.CLOSING: TabPhase.CLOSING,
}
# The phase the worker's row shows for the worker as a whole: the furthest along of its tabs.
_SHOWN_AS: dict[TabPhase, TabState] = {
    TabPhase.OPENING: TabState.OPENING,
    TabPhase.LOADING: TabState.LOADING,
    TabPhase.WAITING: TabState.LOADING,
    TabPhase.DOWNLOADING: TabState.DOWNLOADING,
    TabPhase.CLOSING: TabState.CLOSING,
}
_ORDER = (TabPhase.DOWNLOADING, TabPhase.CLOSING, TabPhase.WAITING, TabPhase.LOADING, TabPhase.OPENING)


def _tab_name() -> str:
    """A name the home tab keeps a tab's window under (named_tabs)."""
    return f"popool-{uuid.uuid4().hex}"


@dataclass(eq=False, slots=True)
class PoTab:
    """One PO in progress in its own tab."""

    record: PoRecord
    attempt: int
    handle: str  # the tab's window handle; "" when it could not be opened
    name: str = field(default_factory=_tab_name)  # the home tab's name for its window
    steps: Steps[PoResult] | None = None
    # What its last step yielded. The first step switches to the tab itself (po_page takes over its tab).
    waiting: Waiting | None = field(default_factory=lambda: Waiting("opening", loaded=False, anywhere=True))
    machine: TabMachine = field(default_factory=TabMachine)
    detail: str = ""  # what po_page last said, e.g. "2 of 5" while downloading
    due: float = 0.0  # when its page is looked at next (time.monotonic)
    taken: bool = False  # the runner is closing it (a Stop): what its own tidying up reports no longer moves it
    job: po_page.PoJob | None = None
    uses: int = 1  # POs this tab has been given, this one included

    @property
    def key(self) -> str:
        return self.record.key

    @property
    def side_tabs(self) -> list[SideTab]:
        return self.job.side_tabs if self.job is not None else []

    def on_tab(self, state: TabState, detail: str) -> None:
        if self.taken:
            return
        if state in _PHASE_OF:
            self.machine.advance(_PHASE_OF[state])
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SpareTab:
    """A tab whose PO finished cleanly, still on that PO's page, waiting for the next PO."""

    handle: str
    name: str
    uses: int


class OtherTabs:
    """The tabs of every PO in progress but one, and the spare tabs: what that PO must leave open when it tidies
    up its own."""

    def __init__(self, runner: TabRunner, mine: PoTab) -> None:
        self._runner = runner
        self._mine = mine

    def _handles(self) -> list[str]:
        others = [t for t in self._runner.tabs if t is not self._mine]
        busy = [t.handle for t in others if t.handle] + [s.handle for t in others for s in t.side_tabs]
        return busy + [s.handle for s in self._runner.spares]

    def __contains__(self, handle: object) -> bool:
        return handle in self._handles()

    def __iter__(self) -> Iterator[str]:
        return iter(self._handles())

    def __len__(self) -> int:
        return len(self._handles())


@dataclass(frozen=True, slots=True)
class Finished:
    """A PO that left the runner: its result, or None when it was given back unfinished."""

    tab: PoTab
    result: PoResult | None


class TabRunner:
    """Up to `tabs_per_worker` POs in progress in one browser session. Used by the driver's thread only."""

    def __init__(self, session: BrowserSession, output_dir: Path) -> None:
        self.session = session
        self.output_dir = output_dir
        self.tabs: list[PoTab] = []
        self.spares: list[SpareTab] = []
        self._current: str | None = None  # the driver's current tab, as far as the runner knows
        self.stepping_before_downloads = False  # what the stop watch may cut short: see pool/worker.py

    @property
    def capacity(self) -> int:
        return self.session.settings.tabs_per_worker

    @property
    def has_room(self) -> bool:
        return len(self.tabs) < self.capacity

    @property
    def has_room_for_second_look(self) -> bool:
        """A second look may take one tab over the count: it is often the last PO a run waits for, and it would
        otherwise queue behind the worker's next PO for a tab to free up."""
        return len(self.tabs) <= self.capacity

    @property
    def open_tabs(self) -> int:
        """Every tab of the browser: the home tab, the POs' (their side tabs too) and the spares'."""
        return 1 + sum(1 + len(t.side_tabs) for t in self.tabs) + len(self.spares)

    @property
    def nothing_to_lose(self) -> bool:
        """No tab has downloaded anything: killing the browser now loses no file."""
        return all(t.machine.may_return for t in self.tabs)

    def open(self, record: PoRecord, attempt: int, empty_wait_ms: int | None, *, second_look: bool = False) -> PoTab:
        """Start `record` in a new tab: its page starts loading at once, the runner does not wait for it.
        `second_look`: its pages were empty on the first look."""
        url = self.session.portal.po_url_for(record.po_id)
        tab = PoTab(record=record, attempt=attempt, handle="")
        try:
            self._to(self.session.home())  # the home tab keeps every PO tab's window, to look into them
            spare = self._reuse(url)
            if spare is None:
                tab.handle = self.session.open_tab(url, tab.name)
            else:
                tab.handle, tab.name, tab.uses = spare.handle, spare.name, spare.uses + 1
        except WebDriverException as exc:  # not a dead browser (open_tab raised that): this PO is retried
            log.warning("tab_open_failed", po=record.key, error=first_line(exc))
            self._current = None
        self.tabs.append(tab)
        if tab.handle:
            tab.job = self.session.po_job(
                tab.on_tab,
                preloaded_tab=tab.handle,
                background_tabs=OtherTabs(self, tab),
                empty_wait_ms=empty_wait_ms,
                tab_name=tab.name,
            )
            tab.job.open_side = functools.partial(self._open_side, tab)
            tab.job.second_look = second_look
            tab.steps = po_page.po_steps(tab.job, record, self.output_dir, attempt)
        return tab

    def _open_side(self, tab: PoTab, url: str) -> SideTab | None:
        """A second tab for `tab`'s PO, loading `url`: a spare sent there or a new one, from the home tab (current),
        which keeps it under a name of its own; None when the browser would not open it. The PO closes it."""
        spare = self._reuse(url)
        if spare is not None:
            side = SideTab(spare.handle, spare.name)
        else:
            name = _tab_name()
            try:
                side = SideTab(self.session.open_tab(url, name), name)
            except WebDriverException as exc:  # not a dead browser (open_tab raised that): the PO's own tab will do
                log.info("side_tab_failed", po=tab.key, error=first_line(exc))
                return None
        tab.side_tabs.append(side)
        return side

    def close_spares(self) -> None:
        """Close the spare tabs: before the home tab reloads (a sign-in), which loses its hold on them."""
        while self.spares:
            spare = self.spares.pop()
            self._close_window(spare.handle, spare.name)

    def _reuse(self, url: str) -> SpareTab | None:
        """A spare tab, sent to `url` from the home tab (current); None when there is none that can go."""
        while self.spares:
            spare = self.spares.pop()
            if self.session.navigate_named(spare.name, url):
                return spare
            self._close_window(spare.handle, spare.name)
        return None

    def next_due(self) -> float | None:
        return min((t.due for t in self.tabs), default=None)

    def step_due(self) -> list[Finished]:
        """One step of every tab whose turn it is, in order; the POs that finished."""
        finished: list[Finished] = []
        now = time.monotonic()
        due = [t for t in self.tabs if t.due <= now]
        looks = self._look_from_home([t for t in due if t.waiting is not None and t.waiting.probe])
        # Steps that need no switch first, while the driver is still on the home tab.
        due.sort(key=lambda t: looks.get(t.name) is None and not (t.waiting is not None and t.waiting.anywhere))
        for tab in due:
            result = self._step(tab, looks.get(tab.name))
            if result is not None:
                self.tabs.remove(tab)
                tab.machine.advance(TabPhase.CLOSING)
                self._keep_or_close(tab)
                tab.machine.advance(TabPhase.DONE)
                finished.append(Finished(tab, result))
        return finished

    def _keep_or_close(self, tab: PoTab) -> None:
        """A finished PO's tab becomes a spare when its PO left it clean, else it is closed. Busy and spare tabs
        together stay within the capacity: a second look's tab over the count is closed."""
        if not tab.handle:
            return
        room = len(self.tabs) + len(self.spares) < self.capacity
        if room and tab.job is not None and tab.job.clean and tab.uses < TAB_USES:
            self.spares.append(SpareTab(tab.handle, tab.name, tab.uses))
        else:
            self._close_window(tab.handle, tab.name)

    def give_back(self) -> list[Finished]:
        """A Stop: close every tab that has downloaded nothing yet; their POs go back unfinished."""
        returned = [t for t in self.tabs if t.machine.may_return]
        self.stepping_before_downloads = self.nothing_to_lose
        try:
            for tab in returned:
                self.tabs.remove(tab)
                self._close(tab)
                tab.machine.advance(TabPhase.RETURNED)
        finally:
            self.stepping_before_downloads = False
        return [Finished(t, None) for t in returned]

    def abandon(self) -> None:
        """The browser is gone: end every PO's steps now, their tidying up failing quietly, rather than in the
        garbage collector, which prints each failure of a generator's `finally`."""
        for tab in self.tabs:
            if tab.steps is not None:
                with contextlib.suppress(Exception):
                    tab.steps.close()

    def summary(self) -> tuple[TabState, str]:
        """What the worker's row shows: its furthest phase, and how many tabs are in which phase."""
        counts = Counter(t.machine.phase for t in self.tabs)
        if not counts:
            return TabState.NONE, ""
        phases = [p for p in _ORDER if counts[p]]
        detail = ", ".join(f"{counts[p]} {p.value}" for p in phases)
        return _SHOWN_AS[phases[0]], f"{len(self.tabs)} tab{'s' if len(self.tabs) != 1 else ''}: {detail}"

    def _look_from_home(self, tabs: list[PoTab]) -> dict[str, PageProbe | None]:
        """One look into each of these tabs' pages from the home tab; {} when the browser will not let it."""
        if not tabs:
            return {}
        self.stepping_before_downloads = self.nothing_to_lose
        try:
            with dead_browser_errors():
                self._to(self.session.home())
                return probe_tabs(self.session.require_driver(), self.session.portal, [t.name for t in tabs])
        except WebDriverException as exc:  # each tab then looks for itself
            log.info("look_from_home_failed", error=first_line(exc))
            self._current = None
            return {}
        finally:
            self.stepping_before_downloads = False

    def _to(self, handle: str) -> None:
        """Put the driver on `handle` unless it is there already (a switch is the driver's dearest command)."""
        driver = self.session.require_driver()
        if self._current is None:
            self._current = driver.current_window_handle
        if self._current != handle:
            self._current = None
            driver.switch_to.window(handle)
            self._current = handle

    def _step(self, tab: PoTab, look: PageProbe | None) -> PoResult | None:
        """Advance `tab` by one step, given a look at its page taken from afar or None; its result once done."""
        if tab.steps is None:
            return _failed(tab, "the browser could not open a tab for it")
        self.stepping_before_downloads = self.nothing_to_lose
        anywhere = tab.waiting is not None and tab.waiting.anywhere
        try:
            with dead_browser_errors():
                if look is not None:
                    self._to(self.session.home())  # a step given a look from the home tab goes on from there
                elif not anywhere:
                    self._to(tab.handle)
                waiting = tab.steps.send(look)
                # It may have gone on to act on its own tab (a click, a requisition page it had to load itself) or
                # gone back home: the next switch asks the driver where it is.
                self._current = None
        except StopIteration as done:
            self._current = self.session.home()  # where po_page leaves the driver once its PO is done
            return done.value
        except BrowserDeadError:
            raise
        except Exception as exc:  # a bug or a lost tab on one PO must not take the worker and its other POs down
            self._current = None
            if not self.session.is_alive():
                raise BrowserDeadError(f"the browser stopped answering: {type(exc).__name__}: {exc}") from exc
            log.exception("po_crashed", po=tab.key)
            self._close(tab)
            return _failed(tab, crash_text(exc))
        finally:
            self.stepping_before_downloads = False
        tab.waiting = waiting
        if isinstance(waiting, Waiting) and waiting.loaded and tab.machine.phase is TabPhase.LOADING:
            tab.machine.advance(TabPhase.WAITING)
        tab.due = time.monotonic() + POLL_S
        return None

    def _close(self, tab: PoTab) -> None:
        """Close a tab the runner takes away from its PO; the driver ends on the home tab."""
        tab.taken = True
        self._close_window(tab.handle, tab.name, tab.steps)

    def _close_window(self, handle: str, name: str, steps: Steps[PoResult] | None = None) -> None:
        """Close one tab, ending its PO's steps (their tidying up) on the way; the driver ends on the home tab."""
        driver = self.session.driver
        try:
            if driver is None:
                return
            with dead_browser_errors():
                # First from the home tab, which opened it: a tab whose page still loads would hold a switch to it.
                self._to(self.session.home())
                with contextlib.suppress(WebDriverException):
                    self.session.close_named([name])
        finally:
            # Even with the browser gone: a PO's steps left to the garbage collector print their tidying up's errors.
            if steps is not None:
                with contextlib.suppress(Exception):  # its tidying up (po_page's finally) may meet a closed tab
                    steps.close()
        self._current = None
        if not handle:
            return
        with dead_browser_errors():
            with contextlib.suppress(WebDriverException):
                if handle in driver.window_handles:
                    driver.switch_to.window(handle)
                    driver.close()
            driver.switch_to.window(self.session.home())


def crash_text(exc: Exception) -> str:
    """A PO's error for a bug met on its way; an OSError names its paths in their plain form, not the extended one
    popool gives Windows."""
    detail = layout.os_error_text(exc) if isinstance(exc, OSError) else str(exc)
    return f"{type(exc).__name__}: {detail}"


def _failed(tab: PoTab, error: str) -> PoResult:
    now = time.time()
    return PoResult(
        key=tab.key,
        status=PoStatus.FAILED,
        error=error,
        transient=True,
        attempts=tab.attempt,
        started_at=now,
        finished_at=now,
    )
