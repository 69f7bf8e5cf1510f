"""The callbacks a screen (GUI or CLI) receives from `PoolController`.

They are called on the controller's own thread, often and fast: a GUI collects them under a lock and applies
them from a timer (gui/run_bridge.py), with real signals only for the rare ones that need attention at once.
"""

from __future__ import annotations

from typing import Protocol

from popool_gui.batch.model import LogLine, MemoryDecision, PoResult, RunSnapshot, WorkerSnapshot


class PoolListener(Protocol):
    def on_run(self, snapshot: RunSnapshot) -> None:
        """Run-wide state and counts changed (also sent about once a second while running)."""

    def on_worker(self, snapshot: WorkerSnapshot) -> None:
        """One worker's row changed."""

    def on_result(self, result: PoResult) -> None:
        """A PO changed state: ASSIGNED when dispatched, PENDING when requeued, or its final status."""

    def on_memory(self, decision: MemoryDecision) -> None:
        """The memory policy recycled, held back or released a worker."""

    def on_log(self, line: LogLine) -> None:
        """A log event worth showing to the user."""

    def on_auth_required(self, worker: int, po: str, headless: bool) -> None:
        """A worker met a login wall and paused; a person must sign in (visible browser), then resume it."""


class NullListener:
    """A listener that ignores everything; subclass it to handle only some events."""

    def on_run(self, snapshot: RunSnapshot) -> None:
        pass

    def on_worker(self, snapshot: WorkerSnapshot) -> None:
        pass

    def on_result(self, result: PoResult) -> None:
        pass

    def on_memory(self, decision: MemoryDecision) -> None:
        pass

    def on_log(self, line: LogLine) -> None:
        pass

    def on_auth_required(self, worker: int, po: str, headless: bool) -> None:
        pass
