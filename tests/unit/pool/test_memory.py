"""Process-tree memory: tracked across re-parenting, shared pages not double-counted, killed as a whole."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from popool_gui.pool.memory import ProcessTree

# Each child touches 60 MB of private memory, then sleeps; the parent waits for both.
_CHILD = """
import sys, time
block = bytearray(60 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
sys.stdout.write("ready\\n"); sys.stdout.flush()
time.sleep(120)
"""

_PARENT = f"""
import subprocess, sys, time
kids = [subprocess.Popen([sys.executable, "-c", {_CHILD!r}], stdout=subprocess.PIPE, text=True) for _ in range(2)]
for kid in kids:
    kid.stdout.readline()
print("ready", flush=True)
time.sleep(120)
"""


def test_tree_memory_counts_children_and_kill_leaves_nothing():
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
        tree = ProcessTree()
        tree.add_root(parent.pid)
        assert len(tree.refresh(fresh=True)) == 3  # a scan from before the children started may be cached
        footprint = tree.footprint_mb()
        rss = sum(p.memory_info().rss for p in tree.refresh()) / (1024 * 1024)
        assert footprint >= 110, "both children's private 60 MB are counted"
        assert footprint <= rss + 1, "the footprint never exceeds the plain RSS sum"
        children = psutil.Process(parent.pid).children()
        parent.kill()  # the children are re-parented but still belong to the tree
        parent.wait(10)
        time.sleep(0.2)
        assert {c.pid for c in children} <= {p.pid for p in tree.refresh()}
        assert tree.kill(timeout=10) == []
        assert not any(psutil.pid_exists(c.pid) and psutil.Process(c.pid).status() != "zombie" for c in children)
    finally:
        parent.kill()
        parent.wait(10)


class _Restarts:
    """The one Supervisor call the memory guard makes, recorded."""

    def __init__(self) -> None:
        self.workers: list[int] = []

    def restart_when_free(self, slot) -> None:  # type: ignore[no-untyped-def]
        self.workers.append(slot.worker)


def test_the_memory_policy_leaves_workers_whose_browsers_run_on_a_grid() -> None:
    from popool_gui.batch.model import WorkerState
    from popool_gui.pool.listener import NullListener
    from popool_gui.pool.memory_guard import MemoryGuard
    from popool_gui.pool.memory_policy import MemoryPolicy
    from popool_gui.pool.reporting import Reporter
    from popool_gui.pool.slot import Hold, Slot

    slots = [Slot(worker=n, state=WorkerState.IDLE) for n in (1, 2)]
    reporter, restarts = Reporter(NullListener()), _Restarts()
    remote = MemoryGuard(MemoryPolicy(75.0, 5.0, 0.0), restarts, reporter, local_browsers=False)  # type: ignore[arg-type]
    remote.sample_and_apply(slots, 99.0, 0.0, stopping=False)  # a Grid run never recycles or holds a worker
    assert restarts.workers == [] and all(s.holds is Hold.NONE for s in slots)
    local = MemoryGuard(MemoryPolicy(75.0, 5.0, 0.0), restarts, reporter)  # type: ignore[arg-type]
    local.sample_and_apply(slots, 99.0, 1e6, stopping=False)
    assert restarts.workers == [1]


def test_the_memory_policy_ranks_workers_by_memory_per_open_tab() -> None:
    from popool_gui.pool.memory_policy import MemoryAction, MemoryPolicy, WorkerLoad

    def load(worker: int, memory_mb: float, tabs: int) -> WorkerLoad:
        return WorkerLoad(worker, memory_mb, active=True, held=False, restarting=False, tabs=tabs)

    # Worker 1 is bigger only because it has four PO pages open; worker 2 is the one that crept.
    loads = [load(1, 900.0, 5), load(2, 600.0, 2)]
    verdicts = MemoryPolicy(75.0, 5.0, 0.0).decide(90.0, loads, 1e6)
    assert [(v.action, v.worker) for v in verdicts] == [(MemoryAction.RECYCLE, 2)]
