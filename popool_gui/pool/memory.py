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
from dataclasses import dataclass, field

import psutil


@dataclass(slots=True)
class ProcessTree:
    """The processes one worker owns, tracked across samples so none escapes a kill."""

    roots: set[int] = field(default_factory=set)
    known: dict[int, psutil.Process] = field(default_factory=dict)

    def add_root(self, pid: int | None) -> None:
        if pid:
            self.roots.add(pid)
            self.refresh()

    def refresh(self) -> list[psutil.Process]:
        """Rebuild the tree from the roots plus every process seen before that still runs."""
        alive: dict[int, psutil.Process] = {}
        candidates: list[psutil.Process] = []
        for pid in self.roots:
            proc = self.known.get(pid) or _process(pid)
            if proc is not None:
                candidates.append(proc)
        candidates.extend(self.known.values())
        for proc in candidates:
            if not _same_running(proc) or proc.pid in alive:
                continue
            alive[proc.pid] = proc
            try:
                for child in proc.children(recursive=True):
                    alive.setdefault(child.pid, child)
            except psutil.Error:
                continue
        self.known = alive
        return list(alive.values())

    def rss_mb(self) -> float:
        total = 0
        for proc in self.refresh():
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
        return total / (1024 * 1024)

    def footprint_mb(self) -> float:
        """The tree's memory without double-counting shared pages; see the module docstring."""
        total = 0
        for proc in self.refresh():
            total += _footprint(proc)
        return total / (1024 * 1024)

    def kill(self, timeout: float = 5.0) -> list[int]:
        """Kill every process of the tree; return the pids still alive after `timeout` (should be none)."""
        procs = self.refresh()
        for proc in procs:
            try:
                proc.kill()
            except psutil.Error:
                continue
        _, alive = psutil.wait_procs(procs, timeout=timeout)
        self.known = {p.pid: p for p in alive}
        return [p.pid for p in alive]

    def alive_pids(self) -> list[int]:
        return [p.pid for p in self.refresh()]


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def _footprint(proc: psutil.Process) -> int:
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
