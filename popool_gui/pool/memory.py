"""Memory sampling with psutil: the memory of each worker's process tree and the machine's RAM use.

Summing RSS over a Chromium tree counts the pages its processes share once per process (a 300 MB browser reads
as 1 GB), so the gauge and the memory policy use each process's own share instead: PSS where the OS reports it
(Linux), else private bytes (Windows) or USS (macOS), else RSS when the process refuses a detailed read.

A worker's tree is the worker process, its driver and the browser with all its children. Chromium
children can outlive a killed parent (they are re-parented), so the pids seen at each sample are
remembered and the tree is rebuilt from every remembered root that is still alive.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import psutil

CHILDREN_MAP_TTL_S = 0.5


@dataclass(slots=True)
class ProcessTree:
    """The processes one worker owns, tracked across samples so none escapes a kill."""

    roots: set[int] = field(default_factory=set)
    known: dict[int, psutil.Process] = field(default_factory=dict)

    def add_root(self, pid: int | None) -> None:
        if pid:
            self.roots.add(pid)
            self.refresh()

    def refresh(self, *, fresh: bool = False) -> list[psutil.Process]:
        """Rebuild the tree from the roots plus every process seen before that still runs.

        `fresh` rescans the process table now; otherwise a scan up to CHILDREN_MAP_TTL_S old is reused.
        """
        children_of = _children_map(fresh=fresh)
        alive: dict[int, psutil.Process] = {}
        stack: list[psutil.Process] = []
        for pid in self.roots:
            proc = self.known.get(pid) or _process(pid)
            if proc is not None:
                stack.append(proc)
        stack.extend(self.known.values())
        while stack:
            proc = stack.pop()
            if proc.pid in alive or not _same_running(proc):
                continue
            alive[proc.pid] = proc
            for child_pid in children_of.get(proc.pid, ()):
                if child_pid not in alive:
                    child = self.known.get(child_pid) or _process(child_pid)
                    if child is not None:
                        stack.append(child)
        self.known = alive
        return list(alive.values())

    def footprint_mb(self) -> float:
        """The tree's memory without double-counting shared pages; see the module docstring."""
        total = 0
        for proc in self.refresh():
            total += process_footprint(proc)
        return total / (1024 * 1024)

    def kill(self, timeout: float = 5.0) -> list[int]:
        """Kill every process of the tree; return the pids still alive after `timeout` (should be none)."""
        procs = self.refresh(fresh=True)
        for proc in procs:
            try:
                proc.kill()
            except psutil.Error:
                continue
        _, alive = psutil.wait_procs(procs, timeout=timeout)
        self.known = {p.pid: p for p in alive}
        return [p.pid for p in alive]


_children_cache: tuple[float, dict[int, list[int]]] = (-1.0, {})


def _children_map(*, fresh: bool = False) -> dict[int, list[int]]:
    """pid -> child pids from one pass over the process table, shared by every tree sampled in the same moment.

    psutil's `children(recursive=True)` rescans the whole table on each call; a few workers with a dozen
    browser processes each made that hundreds of scans per sample, on the GUI's process.
    """
    global _children_cache
    stamp, cached = _children_cache
    now = time.monotonic()
    if not fresh and now - stamp < CHILDREN_MAP_TTL_S:
        return cached
    children: dict[int, list[int]] = {}
    for proc in psutil.process_iter(["ppid"]):
        ppid = proc.info["ppid"]
        if ppid is not None:
            children.setdefault(ppid, []).append(proc.pid)
    _children_cache = (now, children)
    return children


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def process_footprint(proc: psutil.Process) -> int:
    """One process's own share of memory in bytes; see the module docstring."""
    if sys.platform.startswith("linux"):
        pss = _linux_pss(proc.pid)
        if pss is not None:
            return pss
    try:
        info = proc.memory_info()
    except psutil.Error:
        return 0
    private = getattr(info, "private", None)  # Windows private bytes: cheap, unlike walking the working set
    if private:
        return private
    try:
        return proc.memory_full_info().uss
    except psutil.Error:
        return info.rss


def _linux_pss(pid: int) -> int | None:
    # smaps_rollup is one short read; psutil's memory_full_info parses the whole smaps (ten times slower).
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _same_running(proc: psutil.Process) -> bool:
    # is_running() compares the creation time, so a recycled pid is not mistaken for ours.
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def system_memory_pct() -> float:
    return psutil.virtual_memory().percent
