"""The floor before an empty list is believed, learned from the portal's own render timing."""

from __future__ import annotations

from popool_gui.browser.portal import AttachmentRules
from popool_gui.pool.render_timing import MIN_SAMPLES, SECOND_LOOK_MIN_MS, RenderTiming, describe

RULES = AttachmentRules(selectors=("a",), settle_ms=600, empty_wait_ms=3000)


def test_the_profiles_floor_stands_in_until_enough_samples_exist() -> None:
    timing = RenderTiming(RULES)
    for _ in range(MIN_SAMPLES - 1):
        timing.add(2500)
    assert timing.p95_ms() is None
    assert timing.empty_wait_ms() == 3000
    assert timing.second_look_ms() == max(SECOND_LOOK_MIN_MS, 4500)
    timing.add(2500)
    assert timing.empty_wait_ms() == 5000  # twice the p95
    assert timing.second_look_ms() == 7500  # 1.5 x the floor, and 3 x the p95


def test_the_p95_ignores_the_fastest_and_a_rare_outlier_does_not_rule() -> None:
    timing = RenderTiming(RULES)
    for ms in [100] * 95 + [4000] * 5:
        timing.add(ms)
    assert timing.p95_ms() == 100
    timing.add(4000)
    assert timing.p95_ms() == 4000


def test_a_fast_portal_learns_a_short_floor_but_never_below_settle_and_its_second_look_stays_long() -> None:
    timing = RenderTiming(RULES)
    for ms in [None, -1] + [400] * (MIN_SAMPLES - 1) + [200]:
        timing.add(ms)
    figures = timing.figures()
    assert figures.samples == MIN_SAMPLES and figures.p95_ms == 400
    assert figures.empty_wait_ms == 800  # the portal showed its lists within 0.4 s: twice that
    assert figures.second_look_ms == SECOND_LOOK_MIN_MS
    assert "p95 of 10" in describe(figures) and "0.8 s" in describe(figures)
    slow_settle = RenderTiming(AttachmentRules(selectors=("a",), settle_ms=1200, empty_wait_ms=3000))
    for _ in range(MIN_SAMPLES):
        slow_settle.add(100)
    assert slow_settle.empty_wait_ms() == 1200
