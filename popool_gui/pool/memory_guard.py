"""The memory policy applied: each sample's footprints, the policy's verdicts carried out on the workers, and
every decision reported (log and listener)."""

from __future__ import annotations

import time

from popool_gui.batch.model import MemoryDecision, WorkerState
from popool_gui.pool.memory_policy import MemoryAction, MemoryPolicy, MemoryVerdict, WorkerLoad
from popool_gui.pool.reporting import Reporter
from popool_gui.pool.slot import Hold, Slot
from popool_gui.pool.supervisor import Supervisor

# Worker states the memory policy may act on.
_ACTIVE = (WorkerState.IDLE, WorkerState.BUSY, WorkerState.PAUSED)


class MemoryGuard:
    def __init__(
        self, policy: MemoryPolicy, supervisor: Supervisor, reporter: Reporter, *, local_browsers: bool = True
    ) -> None:
        self._policy = policy
        # Browsers on a Grid node use the node's memory, not this machine's: the policy leaves their workers be.
        self._local_browsers = local_browsers
        self._supervisor = supervisor
        self._reporter = reporter

    def sample_and_apply(self, slots: list[Slot], system_pct: float, now: float, *, stopping: bool) -> None:
        for slot in slots:
            slot.record_memory(slot.handle.tree.footprint_mb() if slot.live and slot.handle else 0.0)
        if stopping:
            return
        loads = [
            WorkerLoad(
                worker=s.worker,
                memory_mb=s.memory_mb,
                active=self._local_browsers and s.live and s.state in _ACTIVE,
                held=Hold.MEMORY in s.holds,
                restarting=s.exit.restarting,
                tabs=s.open_tabs,
            )
            for s in slots
        ]
        for verdict in self._policy.decide(system_pct, loads, now):
            slot = slots[verdict.worker - 1]
            if verdict.action is MemoryAction.RELEASE:
                slot.release(Hold.MEMORY)
            elif verdict.action is MemoryAction.HOLD:
                slot.hold(Hold.MEMORY)
            self._report(verdict, slot, system_pct)
            if verdict.action is MemoryAction.RECYCLE:
                self._supervisor.restart_when_free(slot)

    def _report(self, verdict: MemoryVerdict, slot: Slot, system_pct: float) -> None:
        worker_mb = round(slot.memory_mb, 1)
        self._reporter.say(
            "info" if verdict.action is MemoryAction.RELEASE else "warning",
            f"memory_{verdict.action}",
            worker=slot.worker,
            system_pct=system_pct,
            worker_mb=worker_mb,
            reason=verdict.reason,
        )
        self._reporter.listener.on_memory(
            MemoryDecision(
                at=time.time(),
                action=str(verdict.action),
                worker=slot.worker,
                system_pct=system_pct,
                worker_mb=worker_mb,
                reason=verdict.reason,
            )
        )
