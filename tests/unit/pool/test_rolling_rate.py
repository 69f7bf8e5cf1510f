"""Rolling rate and ETA with a fake clock: steady over ~30 s, "?" while stalled or not yet known."""

from __future__ import annotations

import pytest

from popool_gui.pool.rolling_rate import RollingRate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(clock: Clock, rate: RollingRate, every_s: float, count: int) -> None:
    for _ in range(count):
        clock.now += every_s
        rate.finished()


def test_steady_run_gives_a_steady_rate_and_eta():
    clock = Clock()
    rate = RollingRate(clock)
    run(clock, rate, 2.0, 60)  # one PO every 2 s: 30 per minute
    assert rate.rate_per_min() == pytest.approx(30, rel=0.05)
    assert rate.eta_s(100) == pytest.approx(200, rel=0.05)
    readings = []
    for _ in range(10):  # a burst then a pause, within the window: the figure moves, but little
        clock.now += 0.5
        readings.append(rate.rate_per_min())
    assert max(readings) - min(readings) < 6


def test_a_burst_is_smoothed_over_the_window():
    clock = Clock()
    rate = RollingRate(clock)
    run(clock, rate, 2.0, 30)
    clock.now += 0.1
    rate.finished(5)  # five POs at once: an instant rate would jump to thousands per minute
    assert rate.rate_per_min() == pytest.approx(40, rel=0.1)


def test_young_run_uses_its_age_not_the_whole_window():
    clock = Clock()
    rate = RollingRate(clock)
    run(clock, rate, 1.0, 5)  # 5 POs in the first 5 s
    assert rate.rate_per_min() == pytest.approx(60)
    assert rate.eta_s(60) == pytest.approx(60)


def test_eta_is_unknown_until_enough_finishes_and_while_stalled():
    clock = Clock()
    rate = RollingRate(clock)
    assert rate.eta_s(10) is None
    run(clock, rate, 1.0, 2)
    assert rate.eta_s(10) is None, "two finishes say little"
    run(clock, rate, 1.0, 10)
    assert rate.eta_s(10) is not None
    clock.now += 31  # nothing finished for longer than the stall floor
    assert rate.stalled() and rate.eta_s(10) is None
    rate.finished()
    assert not rate.stalled()


def test_slow_pos_are_not_a_stall_and_still_get_an_eta():
    clock = Clock()
    rate = RollingRate(clock)
    run(clock, rate, 60.0, 5)  # one PO a minute: never 3 in a 30 s window
    assert rate.rate_per_min() == pytest.approx(1.0)
    clock.now += 45  # well within the usual gap
    assert not rate.stalled()
    # the last 3 finishes: 2 intervals over the 165 s since the oldest of them
    assert rate.eta_s(10) == pytest.approx(10 * 165 / 2)
    clock.now += 200  # more than three usual gaps
    assert rate.stalled() and rate.eta_s(10) is None


def test_nothing_left_is_zero():
    assert RollingRate(Clock()).eta_s(0) == 0.0
