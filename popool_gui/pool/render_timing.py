"""The portal's own render timing, learned during the run: how long an empty list must be watched.

A script timer that starts the list's fetch later defeats every in-page signal, so the run measures, on POs that
do have attachments, how long after load the first one appeared. An empty list is then believed only after the
larger of the profile's `settle_ms` and twice the p95 of that measure; until enough samples exist, the profile's
`empty_wait_ms` stands in for the learned figure. A second look, later in the run, waits longer still, and never
less than SECOND_LOOK_MIN_MS: it is what catches a portal slower than it has been so far.
"""

from __future__ import annotations

import math
from collections import deque

from popool_gui.batch.model import RenderFigures
from popool_gui.browser.portal import AttachmentRules

MIN_SAMPLES = 10  # fewer than this and the p95 says more about chance than about the portal
WINDOW = 500  # the latest samples only: a portal's timing drifts over a long run
FLOOR_FACTOR = 2
SECOND_LOOK_FACTOR = 3
# A second look waits at least this long after load, and at least this many times the first look's floor.
SECOND_LOOK_MIN_MS = 5000
SECOND_LOOK_OVER_FIRST = 1.5


class RenderTiming:
    def __init__(self, rules: AttachmentRules) -> None:
        self._rules = rules
        self._samples: deque[int] = deque(maxlen=WINDOW)

    def add(self, first_attachment_ms: int | None) -> None:
        if first_attachment_ms is not None and first_attachment_ms >= 0:
            self._samples.append(int(first_attachment_ms))

    def p95_ms(self) -> int | None:
        if len(self._samples) < MIN_SAMPLES:
            return None
        ordered = sorted(self._samples)
        return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]

    def empty_wait_ms(self) -> int:
        p95 = self.p95_ms()
        learned = FLOOR_FACTOR * p95 if p95 is not None else self._rules.empty_wait_ms
        return max(self._rules.settle_ms, learned)

    def second_look_ms(self) -> int:
        p95 = self.p95_ms()
        learned = SECOND_LOOK_FACTOR * p95 if p95 is not None else 0
        return max(SECOND_LOOK_MIN_MS, round(SECOND_LOOK_OVER_FIRST * self.empty_wait_ms()), learned)

    def figures(self) -> RenderFigures:
        return RenderFigures(
            samples=len(self._samples),
            p95_ms=self.p95_ms(),
            empty_wait_ms=self.empty_wait_ms(),
            second_look_ms=self.second_look_ms(),
        )


def describe(figures: RenderFigures) -> str:
    """One line for the run summary (CLI and window)."""
    if figures.p95_ms is None:
        learned = f"not learned yet ({figures.samples} of {MIN_SAMPLES} samples)"
    else:
        learned = f"first attachment {figures.p95_ms / 1000:.1f} s after load (p95 of {figures.samples})"
    looks = f"{figures.second_looks} empty list(s) looked at twice"
    if figures.found_on_second_look:
        looks += f", {figures.found_on_second_look} had attachments after all"
    return f"Render timing: {learned}; empty lists believed after {figures.empty_wait_ms / 1000:.1f} s; {looks}"
