"""How far a run's stop has gone: one phase and one deadline."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum, auto


class StopPhase(Enum):
    RUNNING = auto()
    ENDING = auto()  # nothing is left to do, or nothing can go on: the workers finish and exit
    STOPPING = auto()  # the user asked: the workers finish their current PO and exit
    FORCED = auto()  # the workers were killed (shutdown timeout, an error) without the user asking
    FORCED_BY_USER = auto()  # killed after the user asked (a second Stop, or the timeout of the first)

    @property
    def by_user(self) -> bool:
        return self in (StopPhase.STOPPING, StopPhase.FORCED_BY_USER)


@dataclass(frozen=True, slots=True)
class Deadline:
    mono: float  # what the controller checks
    epoch: float  # what the screens show

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(mono=time.monotonic() + seconds, epoch=time.time() + seconds)


@dataclass(slots=True)
class StopSequence:
    phase: StopPhase = StopPhase.RUNNING
    deadline: Deadline | None = None

    @property
    def stopping(self) -> bool:
        return self.phase is not StopPhase.RUNNING

    def begin(self, *, by_user: bool, timeout_s: float) -> bool:
        """Start the graceful stop; False when one has already begun (its deadline stays)."""
        if self.stopping:
            if by_user and self.phase is StopPhase.ENDING:
                self.phase = StopPhase.STOPPING
            elif by_user and self.phase is StopPhase.FORCED:
                self.phase = StopPhase.FORCED_BY_USER
            return False
        self.phase = StopPhase.STOPPING if by_user else StopPhase.ENDING
        self.deadline = Deadline.after(timeout_s)
        return True

    def force(self) -> None:
        self.phase = StopPhase.FORCED_BY_USER if self.phase.by_user else StopPhase.FORCED

    def expired(self, now_mono: float) -> bool:
        return self.deadline is not None and now_mono >= self.deadline.mono

    def stopped_early(self, *, pending: bool) -> bool:
        """The user stopped the run with work left (POs still pending, or in flight when they were killed)."""
        return self.phase is StopPhase.FORCED_BY_USER or (self.phase is StopPhase.STOPPING and pending)
