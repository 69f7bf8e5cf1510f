"""The tab state machine: every pair of phases is either in the table (and moves) or raises; no browser."""

from __future__ import annotations

import itertools

import pytest

from popool_gui.browser.tab_state import TRANSITIONS, IllegalTransition, TabMachine, TabPhase

P = TabPhase
LEGAL: set[tuple[TabPhase, TabPhase]] = {
    (P.OPENING, P.LOADING),
    (P.OPENING, P.CLOSING),
    (P.OPENING, P.RETURNED),
    (P.LOADING, P.WAITING),
    (P.LOADING, P.DOWNLOADING),
    (P.LOADING, P.CLOSING),
    (P.LOADING, P.RETURNED),
    (P.WAITING, P.LOADING),
    (P.WAITING, P.DOWNLOADING),
    (P.WAITING, P.CLOSING),
    (P.WAITING, P.RETURNED),
    (P.DOWNLOADING, P.LOADING),
    (P.DOWNLOADING, P.CLOSING),
    (P.CLOSING, P.DONE),
}
PAIRS = [(a, b) for a, b in itertools.product(TabPhase, TabPhase) if a is not b]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def machine_at(phase: TabPhase, clock: Clock | None = None) -> TabMachine:
    machine = TabMachine(clock=clock or Clock())
    machine.phase = phase  # the table is what is under test: start anywhere
    return machine


def test_the_table_is_exactly_the_legal_moves() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == LEGAL
    assert set(TRANSITIONS) == set(TabPhase)


@pytest.mark.parametrize(("start", "to"), PAIRS, ids=[f"{a.name}->{b.name}" for a, b in PAIRS])
def test_each_move_is_taken_or_refused_as_the_table_says(start: TabPhase, to: TabPhase) -> None:
    clock = Clock()
    machine = machine_at(start, clock)
    clock.now = 101.5
    if (start, to) in LEGAL:
        assert machine.advance(to) is True
        assert machine.phase is to and machine.since == 101.5
    else:
        with pytest.raises(IllegalTransition):
            machine.advance(to)
        assert machine.phase is start


@pytest.mark.parametrize("phase", list(TabPhase))
def test_staying_in_a_phase_is_no_move(phase: TabPhase) -> None:
    machine = machine_at(phase)
    assert machine.advance(phase) is False and machine.phase is phase


@pytest.mark.parametrize(
    ("path", "may_return", "finished"),
    [
        ([], True, False),
        ([P.LOADING], True, False),
        ([P.LOADING, P.WAITING], True, False),
        ([P.LOADING, P.WAITING, P.DOWNLOADING], False, False),
        # The requisition fallback loads a page again: files of the PO's own list may already be on disk.
        ([P.LOADING, P.DOWNLOADING, P.LOADING], False, False),
        ([P.LOADING, P.CLOSING], False, False),
        ([P.LOADING, P.WAITING, P.CLOSING, P.DONE], False, True),
        ([P.RETURNED], False, True),
    ],
)
def test_what_a_stop_may_give_back(path: list[TabPhase], may_return: bool, finished: bool) -> None:
    machine = TabMachine(clock=Clock())
    for phase in path:
        machine.advance(phase)
    assert machine.may_return is may_return and machine.finished is finished


def test_a_tab_that_downloaded_is_never_given_back() -> None:
    machine = TabMachine(clock=Clock())
    for phase in (P.LOADING, P.DOWNLOADING, P.LOADING, P.WAITING):
        machine.advance(phase)
    with pytest.raises(IllegalTransition, match="downloaded"):
        machine.advance(P.RETURNED)
