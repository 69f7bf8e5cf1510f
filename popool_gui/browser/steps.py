"""Waits that look once per step, so one driver can keep several tabs waiting at once.

A stepwise wait is a generator: it yields `Waiting` between two looks (the caller decides when to look again, and
may work on other tabs meanwhile) and returns its answer. At every step the driver's current tab must be the one
the wait is about; `run_steps` drives a wait alone, for a caller with nothing else to do.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar


@dataclass(frozen=True, slots=True)
class Waiting:
    """What a stepwise wait yields between two looks: it has no answer yet."""

    reason: str
    loaded: bool = True  # its page's load event has fired: what is left is waiting for evidence or a file
    # The next step may be given a look at its page taken from the home tab (page_wait.probe_tabs) and then needs
    # no driver call on its own tab; given None it looks itself, with the driver on its tab.
    probe: bool = False
    anywhere: bool = False  # the next step needs the driver but not on any particular tab (a download's reports)
    # The look at its page this wait was decided on (page_wait.PageProbe), for a caller that watches another page
    # alongside (requisition_ahead.py); None when the step took none.
    look: Any = None


T = TypeVar("T")
# What a step may be sent: a look at its page taken from afar (page_wait.PageProbe), or None.
Steps = Generator[Waiting, Any, T]


def run_steps(steps: Steps[T], poll_s: float) -> T:
    """Drive a stepwise wait alone: one look every `poll_s`, the driver never leaving its tab."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
        time.sleep(poll_s)


def finished(value: T) -> Steps[T]:
    """Steps already over: a wait that blocks until its answer, for a caller that steps through waits."""
    return value
    yield  # unreachable: it makes this function a generator
