"""What the controller tells its listener and the log: log lines, worker rows when they change, run snapshots."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

from popool_gui.batch.model import LogLine, PoStatus, RunSnapshot, RunState
from popool_gui.pool.listener import PoolListener
from popool_gui.pool.rolling_rate import RollingRate
from popool_gui.pool.slot import Slot

log = structlog.get_logger()

SNAPSHOT_INTERVAL_S = 1.0


@dataclass(slots=True)
class RunClock:
    """When the run started and how much it finished: the whole run's average rate, and the rolling rate and ETA
    the status bar and the CLI line show."""

    started_mono: float = 0.0
    started_epoch: float | None = None
    processed: int = 0
    first_result_s: float | None = None
    rolling: RollingRate = field(default_factory=RollingRate)

    def start(self) -> None:
        self.started_mono = time.monotonic()
        self.started_epoch = time.time()
        self.rolling = RollingRate()

    def average_rate_per_min(self) -> float:
        elapsed = self.elapsed()
        return self.processed / elapsed * 60 if elapsed > 0 else 0.0

    def elapsed(self) -> float:
        return time.monotonic() - self.started_mono if self.started_mono else 0.0

    def finished_one(self) -> None:
        self.processed += 1
        self.rolling.finished()
        if self.first_result_s is None:
            self.first_result_s = time.monotonic() - self.started_mono


@dataclass(slots=True)
class Reporter:
    listener: PoolListener
    _last_workers: dict[int, Any] = field(default_factory=dict)
    _last_run_emit: float = 0.0

    def say(self, level: str, event: str, *, worker: int | None = None, po: str = "", **fields: Any) -> None:
        getattr(log, level)(event, worker=worker, po=po or None, **fields)
        self.listener.on_log(LogLine(at=time.time(), level=level, event=event, worker=worker, po=po, fields=fields))

    def workers_changed(self, slots: Iterable[Slot]) -> None:
        for slot in slots:
            snap = slot.snapshot()
            if self._last_workers.get(slot.worker) != snap:
                self._last_workers[slot.worker] = snap
                self.listener.on_worker(snap)

    def run_due(self, now: float) -> bool:
        """Whether the periodic run snapshot is due (and, if so, counts it as sent)."""
        if now - self._last_run_emit < SNAPSHOT_INTERVAL_S:
            return False
        self._last_run_emit = now
        return True


def run_snapshot(
    state: RunState,
    counts: dict[str, int],
    clock: RunClock,
    *,
    pending: int,
    in_flight: int,
    system_memory_pct: float,
    memory_threshold_pct: float,
    stop_deadline: float | None,
    message: str,
    waiting: str = "",
    waiting_for: str = "",
) -> RunSnapshot:
    total = sum(counts.values())
    final = sum(n for status, n in counts.items() if PoStatus(status).is_final)
    elapsed = clock.elapsed()
    rate = clock.rolling.rate_per_min()
    eta = clock.rolling.eta_s(total - final)  # None while stalled or too early to tell
    return RunSnapshot(
        state=state,
        total=total,
        done=final,
        pending=pending,
        in_flight=in_flight,
        counts=counts,
        started_at=clock.started_epoch,
        elapsed_s=elapsed,
        rate_per_min=rate,
        eta_s=eta,
        system_memory_pct=system_memory_pct,
        memory_threshold_pct=memory_threshold_pct,
        stop_deadline=stop_deadline,
        waiting=waiting,
        waiting_for=waiting_for,
        message=message,
    )
