"""The life of one PO's tab in a worker that keeps several POs in progress at once: its phases and the only moves
between them. Pure (no browser), so the table is tested on its own; `TabMachine` is the one owner of a tab's phase.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class TabPhase(StrEnum):
    OPENING = "opening"  # the tab is being opened and told to navigate
    LOADING = "loading"  # its page (or its requisition's) has not finished loading
    WAITING = "waiting for lists"  # loaded: waiting for evidence that the list is complete (settle, floor)
    DOWNLOADING = "downloading"  # fetching and verifying the attachments
    CLOSING = "closing"  # a verdict is in: the tab is being closed and its files filed
    DONE = "done"  # reported to the controller
    RETURNED = "returned"  # given back unfinished (a Stop or restart before any download): the attempt does not count


# Every legal move; staying in a phase is not a move. The requisition fallback goes from a list (waited for or
# downloaded) back to loading another page.
TRANSITIONS: dict[TabPhase, frozenset[TabPhase]] = {
    TabPhase.OPENING: frozenset({TabPhase.LOADING, TabPhase.CLOSING, TabPhase.RETURNED}),
    TabPhase.LOADING: frozenset({TabPhase.WAITING, TabPhase.DOWNLOADING, TabPhase.CLOSING, TabPhase.RETURNED}),
    TabPhase.WAITING: frozenset({TabPhase.LOADING, TabPhase.DOWNLOADING, TabPhase.CLOSING, TabPhase.RETURNED}),
    TabPhase.DOWNLOADING: frozenset({TabPhase.LOADING, TabPhase.CLOSING}),
    TabPhase.CLOSING: frozenset({TabPhase.DONE}),
    TabPhase.DONE: frozenset(),
    TabPhase.RETURNED: frozenset(),
}

# Phases a Stop may cut short: nothing of the PO is on disk yet, so it goes back without using an attempt.
BEFORE_DOWNLOADS = frozenset({TabPhase.OPENING, TabPhase.LOADING, TabPhase.WAITING})
FINISHED = frozenset({TabPhase.DONE, TabPhase.RETURNED})


class IllegalTransition(RuntimeError):
    """A move the table does not allow: a bug in whoever drives the tab."""


@dataclass(slots=True)
class TabMachine:
    """The phase of one tab, changed only through `advance`."""

    phase: TabPhase = TabPhase.OPENING
    clock: Callable[[], float] = time.monotonic
    since: float = field(default=0.0)
    # Once a tab has started downloading it is never given back unfinished: files of it may be on disk.
    downloaded: bool = False

    def __post_init__(self) -> None:
        self.since = self.clock()

    def advance(self, to: TabPhase) -> bool:
        """Move to `to`; False when the tab is already there; IllegalTransition when the table forbids it."""
        if to is self.phase:
            return False
        if to not in TRANSITIONS[self.phase]:
            raise IllegalTransition(f"a tab cannot go from {self.phase.value} to {to.value}")
        if to is TabPhase.RETURNED and self.downloaded:
            raise IllegalTransition("a tab that has downloaded cannot be given back unfinished")
        if to is TabPhase.DOWNLOADING:
            self.downloaded = True
        self.phase, self.since = to, self.clock()
        return True

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED

    @property
    def may_return(self) -> bool:
        """A Stop may give this tab's PO back: nothing of it has been downloaded."""
        return self.phase in BEFORE_DOWNLOADS and not self.downloaded
