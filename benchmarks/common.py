"""What the benchmark scripts share: the demo portal's realistic knobs, PO lists, settings, memory sampling.

Every figure comes from real headless Chromium sessions against the embedded demo portal on 127.0.0.1.
Memory is summed over process trees (worker, chromedriver, every Chromium process) as each process's own share
(PSS on Linux), the measure the app's memory gauge and policy use: summed RSS would count Chromium's shared
pages once per process and read about five times higher.
"""

from __future__ import annotations

import os
import platform
import random
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Run as `python benchmarks/x.py`: the package and `benchmarks.*` (spawned workers import it) must resolve.
    sys.path.insert(0, str(ROOT))

from popool_gui.batch.input import read_batch  # noqa: E402
from popool_gui.batch.model import Batch, PoResult, PoStatus, WorkerSnapshot  # noqa: E402
from popool_gui.demo.sample import expected_status  # noqa: E402
from popool_gui.pool.listener import NullListener  # noqa: E402
from popool_gui.pool.memory import ProcessTree, process_footprint  # noqa: E402
from popool_gui.settings import Settings  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# The "realistic" portal: 300 ms per page, lists rendered by script (the demo's default 400 ms delay),
# 0-5 attachments of 50 KB-2 MB each served at 20 MB/s.
REALISTIC_KNOBS: dict[str, Any] = {
    "page_latency_ms": 300,
    "js_render_delay_ms": 400,
    "attachment_size_range": (50_000, 2_000_000),
    "download_bytes_per_s": 20_000_000,
    "toolbar": True,
}
MB = 1024 * 1024
# Every process a benchmark starts inherits this mark, however it gets reparented (Chromium's crash handler is):
# processes left behind are found by it, and other programs' browsers on a shared machine never count.
BENCH_MARK = "POPOOL_BENCH_MARK"
os.environ.setdefault(BENCH_MARK, f"bench-{os.getpid()}-{time.time_ns()}")


def write_pos(path: Path, count: int, seed: int = 7) -> Batch:
    """`count` distinct random demo PO ids (no special ids: those carry 12-file and 2 MB outliers)."""
    rng = random.Random(f"popool-bench:{seed}")
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < count:
        po_id = str(rng.randrange(15_000_000, 16_000_000))
        if po_id not in seen:
            seen.add(po_id)
            ids.append(po_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("PO_NUMBER;SUPPLIER\n" + "".join(f"PO{i};\n" for i in ids), encoding="utf-8")
    return read_batch(path)


def bench_settings(url: str, output: Path, workers: int, **changes: Any) -> Settings:
    """Defaults as a user gets them, pointed at the demo portal, with explicit browser paths."""
    base: dict[str, Any] = {
        "portal": "demo",
        "base_url": url,
        "output_dir": str(output),
        "workers": workers,
        "headless": True,
        "browser": "chromium",
        "browser_binary": CHROMIUM,
        "driver_path": CHROMEDRIVER,
        "profile_dir": "",
        "grid_url": "",
        "log_level": "warning",
        # A benchmark must never be bent by the memory policy recycling a worker mid-run on a 24 GiB machine.
        "memory_threshold_pct": 95.0,
    }
    base.update(changes)
    settings = Settings().replace(**base)
    problems = settings.validate()
    if problems:
        raise ValueError("; ".join(map(str, problems)))
    return settings


def status_errors(results: list[PoResult]) -> list[str]:
    """POs whose final status differs from what the demo portal's data says it must be, described."""
    bad: list[str] = []
    for result in results:
        po_id = result.key.removeprefix("PO").strip()
        want = expected_status(po_id)
        if str(result.status) != want:
            bad.append(f"{result.key}: {result.status} not {want} ({result.error})")
    return bad


def tree_mb(pid: int | None) -> float:
    if not pid:
        return 0.0
    tree = ProcessTree()
    tree.add_root(pid)
    return tree.footprint_mb()


def children_mb(seen: dict[int, psutil.Process] | None = None) -> float:
    """Memory of every process below this one (workers, drivers, browsers); the demo portal runs in-process."""
    total = 0
    try:
        kids = psutil.Process().children(recursive=True)
    except psutil.Error:
        return 0.0
    for kid in kids:
        if seen is not None:
            seen.setdefault(kid.pid, kid)
        try:
            total += process_footprint(kid)
        except psutil.Error:
            continue
    return total / MB


@dataclass(slots=True)
class MemorySampler:
    """Samples the total memory (PSS) of this process's descendants on a thread, every `interval_s`."""

    interval_s: float = 0.25
    samples: list[tuple[float, float]] = field(default_factory=list)
    seen: dict[int, psutil.Process] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _t0: float = 0.0

    def start(self) -> MemorySampler:
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="mem-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.samples.append((time.monotonic() - self._t0, children_mb(self.seen)))

    def leftovers(self) -> list[int]:
        """Browser and driver processes seen below this one during the run that still run now (must be none).

        Only chrom* names count: multiprocessing's resource tracker lives as long as this process, by design.
        """
        alive = []
        for proc in self.seen.values():
            try:
                if "chrom" in proc.name() and proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc.pid)
            except psutil.Error:
                continue
        return alive

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def peak_mb(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)


class BenchListener(NullListener):
    """Times each PO from dispatch to final result and measures each worker's tree after its 10th and last PO."""

    def __init__(self, mark_after: int = 10) -> None:
        self.t0 = time.monotonic()
        self.mark_after = mark_after
        self.assigned: dict[str, float] = {}
        self.durations: list[float] = []
        self.finish_times: list[float] = []
        self.final: dict[str, PoResult] = {}
        self.pids: dict[int, int] = {}
        self.done: dict[int, int] = {}
        self.mem_at_mark: dict[int, float] = {}
        self.mem_last: dict[int, float] = {}
        self.open_tabs_max = 0

    def on_worker(self, snapshot: WorkerSnapshot) -> None:
        if snapshot.pid:
            self.pids[snapshot.worker] = snapshot.pid
        self.open_tabs_max = max(self.open_tabs_max, snapshot.open_tabs)

    def on_result(self, result: PoResult) -> None:
        now = time.monotonic()
        if result.status is PoStatus.ASSIGNED:
            self.assigned[result.key] = now
            return
        if not result.status.is_final:
            return
        self.final[result.key] = result
        self.finish_times.append(now - self.t0)
        if result.started_at and result.finished_at:
            # The worker's own clock: from taking the PO up (browser start included for the per-PO design) to
            # its result. Dispatch-to-result would count the time a pipelined PO waits in its worker's queue.
            self.durations.append(result.finished_at - result.started_at)
        elif result.key in self.assigned:
            self.durations.append(now - self.assigned[result.key])
        worker = result.worker or 0
        self.done[worker] = self.done.get(worker, 0) + 1
        # Measured on the controller's thread right after the result: the tab is closed, the tree is at rest.
        mb = tree_mb(self.pids.get(worker))
        self.mem_last[worker] = mb
        if self.done[worker] == self.mark_after:
            self.mem_at_mark[worker] = mb


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def children_cpu_s() -> float:
    """CPU seconds used by every descendant already reaped (workers reap drivers, drivers reap browsers).

    Contention from other programs stretches wall-clock figures but hardly this one, so it is the fairest
    cost per PO on a busy machine.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_avg() -> float:
    return os.getloadavg()[0]


def marked_leftovers() -> list[int]:
    """Browser or driver processes carrying this benchmark's environment mark that still run."""
    mark = os.environ[BENCH_MARK]
    left = []
    for proc in psutil.process_iter(["name"]):
        try:
            if "chrom" not in (proc.info["name"] or ""):
                continue
            if proc.status() != psutil.STATUS_ZOMBIE and proc.environ().get(BENCH_MARK) == mark:
                left.append(proc.pid)
        except psutil.Error:
            continue
    return left


def chromium_count() -> int:
    """Chromium/chromedriver processes on the machine (the scripts must leave none behind)."""
    out = subprocess.run(["pgrep", "-c", "chrom"], capture_output=True, text=True, check=False)
    return int(out.stdout.strip() or 0)


def machine_facts() -> dict[str, str]:
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "ram": f"{psutil.virtual_memory().total / 1024**3:.1f} GiB",
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "chromium": chromium,
    }


def command_line(command: str) -> str:
    """The docs' line saying how a benchmark's figures were made, from the repository's root (whatever the clone's
    folder is called)."""
    return f"- Command: `.venv/bin/{command.strip()}`"


def provenance(facts: dict[str, str], command: str) -> list[str]:
    """The machine and command lines of a benchmark's section in docs/benchmarks.md."""
    machine = (
        f"- Machine: {facts['cores']} cores ({facts['cpu']}), {facts['ram']} RAM, {facts['os']}, {facts['chromium']}"
    )
    return [machine, command_line(command)]


@contextmanager
def quiet_logs() -> Iterator[None]:
    """structlog to warnings only: a benchmark's console is for its table."""
    from popool_gui import logs

    logs.configure("benchmark", level="warning")
    yield
