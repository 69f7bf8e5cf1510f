"""The memory policy as a pure decision over one sample of the workers' memory.

Above the threshold the heaviest worker is recycled (restarted after its PO), at most once per cooldown; while
memory stays high after a recycle, the heaviest of the others is held back from new POs; below the threshold
minus the margin every held worker is released.

"Heaviest" counts the tabs: a worker keeps up to tabs_per_worker POs open at once, and each open page costs
memory that a restart does not save for long (the tabs open again). So workers are compared by memory per open
tab, which is what grows when a browser creeps, not by their totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MemoryAction(StrEnum):
    RECYCLE = "recycle"
    HOLD = "hold"
    RELEASE = "release"


@dataclass(frozen=True, slots=True)
class WorkerLoad:
    worker: int
    memory_mb: float
    active: bool  # live and idle, busy or paused: a worker the policy may act on
    held: bool
    restarting: bool  # a restart is pending or under way
    tabs: int = 1  # open tabs, the home tab included

    @property
    def weight(self) -> float:
        """Memory per open tab: how the policy ranks workers."""
        return self.memory_mb / max(1, self.tabs)


@dataclass(frozen=True, slots=True)
class MemoryVerdict:
    action: MemoryAction
    worker: int
    reason: str


@dataclass(slots=True)
class MemoryPolicy:
    threshold_pct: float
    margin_pct: float
    cooldown_s: float
    _last_recycle: float = -1e9

    def decide(self, system_pct: float, loads: list[WorkerLoad], now: float) -> list[MemoryVerdict]:
        if system_pct < self.threshold_pct - self.margin_pct:
            why = "memory back below threshold minus margin"
            return [MemoryVerdict(MemoryAction.RELEASE, w.worker, why) for w in loads if w.held]
        active = [w for w in loads if w.active]
        if system_pct <= self.threshold_pct or not active:
            return []
        recycling = any(w.restarting for w in loads)
        if not recycling and now - self._last_recycle >= self.cooldown_s:
            self._last_recycle = now
            heaviest = max(active, key=lambda w: w.weight)
            why = f"system memory {system_pct:.0f}% above {self.threshold_pct:.0f}%"
            return [MemoryVerdict(MemoryAction.RECYCLE, heaviest.worker, why)]
        unheld = [w for w in active if not w.held]
        # Never hold the last worker that can take POs, or the run could not finish.
        if len(unheld) > 1:
            target = max(unheld, key=lambda w: w.weight)
            why = f"system memory still {system_pct:.0f}% after a recycle"
            return [MemoryVerdict(MemoryAction.HOLD, target.worker, why)]
        return []
