"""Start-up: how long browsers take to be ready alone and started together, and a run's first result.

    .venv/bin/python benchmarks/startup.py                 # about 2 min on 2 cores
    .venv/bin/python benchmarks/startup.py --repeats 5 --no-doc

`browser ready` is from `PoolController.run()` to the worker's first snapshot as idle or busy: its process
spawned, its browser started and the portal's home page open in it. `first result` is from `PoolController.run()`
to the first PO's final result, on the demo portal of `common.REALISTIC_KNOBS`, with the default tabs per worker.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import (  # type: ignore[import-not-found]  # run as a script from benchmarks/
    REALISTIC_KNOBS,
    BenchListener,
    bench_settings,
    machine_facts,
    provenance,
    quiet_logs,
    write_pos,
)
from report import md_table, text_table, update_section  # type: ignore[import-not-found]

from popool_gui.batch.model import WorkerSnapshot, WorkerState
from popool_gui.demo.server import demo_portal
from popool_gui.pool.controller import PoolController
from popool_gui.settings import Settings

HEADERS = ["workers", "runs", "browser ready, first (s)", "browser ready, last (s)", "first result (s)"]


class StartListener(BenchListener):
    """Also notes when each worker first showed itself ready (idle or busy) after its start."""

    def __init__(self) -> None:
        super().__init__()
        self.ready: dict[int, float] = {}

    def on_worker(self, snapshot: WorkerSnapshot) -> None:
        super().on_worker(snapshot)
        if snapshot.state in (WorkerState.IDLE, WorkerState.BUSY) and snapshot.worker not in self.ready:
            self.ready[snapshot.worker] = time.monotonic() - self.t0


def one_run(workers: int, pos: int, tmp: Path) -> tuple[float, float, float]:
    with demo_portal(**REALISTIC_KNOBS) as demo:
        batch = write_pos(tmp / "pos.csv", pos)
        settings = bench_settings(demo.url, tmp / f"out-{time.monotonic_ns()}", workers)
        listener = StartListener()
        controller = PoolController(settings, batch, listener)
        listener.t0 = time.monotonic()
        controller.run()
    ready = sorted(listener.ready.values())
    return ready[0], ready[-1], min(listener.finish_times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--pos", type=int, default=8, help="POs per run (default 8: only the start matters)")
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = p.parse_args(argv)
    command = "python benchmarks/startup.py " + " ".join(argv if argv is not None else sys.argv[1:])
    table: list[list[str]] = []
    with quiet_logs(), tempfile.TemporaryDirectory(prefix="popool-start-") as tmp:
        for workers in (1, 2):
            runs = [one_run(workers, args.pos, Path(tmp)) for _ in range(args.repeats)]
            first, last, result = (statistics.median(column) for column in zip(*runs, strict=True))
            table.append([str(workers), str(len(runs)), f"{first:.1f}", f"{last:.1f}", f"{result:.1f}"])
    print(text_table(HEADERS, table))
    if not args.no_doc:
        facts = machine_facts()
        body = [
            "## Start-up: browsers alone and together, first result",
            "",
            f"Written by `benchmarks/startup.py` on {time.strftime('%Y-%m-%d %H:%M')}, medians of {args.repeats} "
            f"runs from `PoolController.run()`, {Settings().tabs_per_worker} tabs per worker.",
            "",
            *provenance(facts, command),
            "",
            md_table(HEADERS, table),
        ]
        update_section("startup", "\n".join(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
