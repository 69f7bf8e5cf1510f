"""Helpers shared by the controller and pool tests: a recording listener, condition waits, a run on a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from popool_gui.batch.model import MemoryDecision, PoResult, PoStatus, RunSnapshot, RunSummary, WorkerSnapshot
from popool_gui.pool.controller import PoolController
from popool_gui.pool.listener import NullListener


class Recorder(NullListener):
    """Keeps every callback of a run, in order (they arrive on the controller's thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.workers: list[WorkerSnapshot] = []
        self.results: list[PoResult] = []
        self.memory: list[MemoryDecision] = []
        self.auth: list[tuple[int, str]] = []
        self.runs: list[RunSnapshot] = []

    def on_worker(self, snapshot: WorkerSnapshot) -> None:
        with self.lock:
            self.workers.append(snapshot)

    def on_result(self, result: PoResult) -> None:
        with self.lock:
            self.results.append(result)

    def on_memory(self, decision: MemoryDecision) -> None:
        with self.lock:
            self.memory.append(decision)

    def on_auth_required(self, worker: int, po: str, headless: bool) -> None:
        with self.lock:
            self.auth.append((worker, po))

    def on_run(self, snapshot: RunSnapshot) -> None:
        with self.lock:
            self.runs.append(snapshot)

    def finished(self) -> list[PoResult]:
        with self.lock:
            return [r for r in self.results if r.status.is_final]

    def assigned(self, worker: int, since: int = 0) -> int:
        """How many POs were dispatched to `worker`, counting from the `since`-th result on."""
        with self.lock:
            return sum(1 for r in self.results[since:] if r.status is PoStatus.ASSIGNED and r.worker == worker)

    def completed(self, worker: int, since: int = 0) -> int:
        """How many POs `worker` finished, counting from the `since`-th result on."""
        with self.lock:
            return sum(1 for r in self.results[since:] if r.status.is_final and r.worker == worker)

    def marks(self) -> tuple[int, int]:
        """(results, worker snapshots) seen so far: pass them as `since` to look only at what comes after."""
        with self.lock:
            return len(self.results), len(self.workers)


def wait_for(condition: Callable[[], Any], timeout: float = 120.0, what: str = "condition") -> None:
    """Poll `condition` until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not reached in {timeout:.0f} s"
        time.sleep(0.05)


class RunThread:
    """`ctl.run()` on its own thread, as the window does; `summary` once it has returned."""

    def __init__(self, ctl: PoolController) -> None:
        self._box: list[RunSummary] = []
        self.thread = threading.Thread(target=lambda: self._box.append(ctl.run()), name="controller")
        self.thread.start()

    def join(self, timeout: float) -> RunSummary:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the run did not end in {timeout:.0f} s"
        return self._box[0]

    def is_alive(self) -> bool:
        return self.thread.is_alive()
