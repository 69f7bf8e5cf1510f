"""When an empty attachment list is believed: the floor learned from the portal's render timing, and the second,
longer look later in the run that an empty list needs before it is final."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from popool_gui.batch.model import PoResult, PoStatus, RenderFigures
from popool_gui.browser.portal import AttachmentRules
from popool_gui.pool.render_timing import RenderTiming

SECOND_LOOK_NOTE = "no attachments on the first look: looking again later in the run"
# A learned floor is logged again only when it moved this much: every PO would otherwise log it.
LOG_STEP_MS = 100


class EmptyLists:
    def __init__(self, rules: AttachmentRules, say: Callable[..., None]) -> None:
        self._timing = RenderTiming(rules)
        self._second_look = rules.second_look
        self._say = say
        self._logged_wait_ms = 0
        self._looked_twice = 0
        self._found_second = 0

    def learn(self, result: PoResult) -> None:
        self._timing.add(result.first_attachment_ms)
        wait_ms = self._timing.empty_wait_ms()
        if abs(wait_ms - self._logged_wait_ms) >= LOG_STEP_MS:
            self._logged_wait_ms = wait_ms
            figures = self._timing.figures()
            self._say(
                "info",
                "render_timing_learned",
                samples=figures.samples,
                p95_ms=figures.p95_ms,
                empty_wait_ms=figures.empty_wait_ms,
                second_look_ms=figures.second_look_ms,
            )

    def floor_ms(self, *, second_look: bool) -> int:
        """How long after load the worker watches an empty list before it believes it."""
        return self._timing.second_look_ms() if second_look else self._timing.empty_wait_ms()

    def look_again(self, result: PoResult) -> bool:
        """Whether this final-looking result is a first look at an empty list that must be looked at again.

        A second look's result is counted here (and an empty one marked as confirmed) before it becomes final.
        """
        if result.empty_looks > 0:
            self._looked_twice += 1
            if result.status is PoStatus.NO_ATTACHMENTS:
                result.empty_looks += 1
            elif result.attachments_found:
                self._found_second += 1
                self._say("warning", "second_look_found_attachments", po=result.key, found=result.attachments_found)
            return False
        return result.status is PoStatus.NO_ATTACHMENTS and self._second_look

    def figures(self) -> RenderFigures:
        return replace(self._timing.figures(), second_looks=self._looked_twice, found_on_second_look=self._found_second)
