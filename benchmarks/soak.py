"""Soak and stop: one worker over many POs (memory over time, tabs and staging files left), then a 4-worker Stop.

    .venv/bin/python benchmarks/soak.py                # 1,000 POs (about 35 min on 2 cores), then the stop test
    .venv/bin/python benchmarks/soak.py --pos 300      # shorter soak
    .venv/bin/python benchmarks/soak.py --skip-soak    # only the stop test

Memory is the PSS of the worker's whole tree (worker, chromedriver, Chromium) measured right after each PO's
result, when its tab is closed: growth there is what tabs, downloads or the profile leak per PO.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (  # type: ignore[import-not-found]  # run as a script from benchmarks/
    REALISTIC_KNOBS,
    BenchListener,
    MemorySampler,
    bench_settings,
    chromium_count,
    command_line,
    machine_facts,
    marked_leftovers,
    quiet_logs,
    status_errors,
    write_pos,
)
from report import DOC, md_table, text_table, update_section  # type: ignore[import-not-found]

from popool_gui.batch.model import PoResult, TabState, WorkerSnapshot, WorkerState
from popool_gui.demo.server import demo_portal
from popool_gui.pool.controller import PoolController


class SoakListener(BenchListener):
    """Also records memory after every PO, open tabs between POs and files left in the staging folder."""

    def __init__(self) -> None:
        super().__init__()
        self.series: list[tuple[int, float, float]] = []  # (POs done, seconds, tree MB)
        self.tabs_between: list[int] = []
        self.staging_files: list[int] = []
        self.staging_dir: Path | None = None

    def on_worker(self, snapshot: WorkerSnapshot) -> None:
        super().on_worker(snapshot)
        if snapshot.state is WorkerState.IDLE and snapshot.tab_state is TabState.NONE and snapshot.open_tabs:
            self.tabs_between.append(snapshot.open_tabs)

    def on_result(self, result: PoResult) -> None:
        super().on_result(result)
        if not result.status.is_final:
            return
        worker = result.worker or 0
        self.series.append((len(self.final), time.monotonic() - self.t0, self.mem_last.get(worker, 0.0)))
        if self.staging_dir is not None and self.staging_dir.exists():
            self.staging_files.append(sum(1 for p in self.staging_dir.iterdir()))


@dataclass(slots=True)
class SoakResult:
    pos: int
    wrong: int
    minutes: float
    mem10: float
    mem_last: float
    mem_max: float
    tabs_max: int
    staging_max: int
    staging_end: int
    series: list[tuple[int, float, float]] = field(default_factory=list)


def soak(pos: int, overrides: dict[str, Any]) -> SoakResult:
    with demo_portal(**REALISTIC_KNOBS) as portal, tempfile.TemporaryDirectory(prefix="popool-soak-") as tmp:
        batch = write_pos(Path(tmp) / "pos.csv", pos, seed=11)
        settings = bench_settings(portal.url, Path(tmp) / "out", 1, **overrides)
        listener = SoakListener()
        controller = PoolController(settings, batch, listener)

        def find_staging() -> None:
            # The controller makes its run folder when it starts the workers; the staging folder lives in it.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and listener.staging_dir is None:
                run_dir = getattr(controller, "_run_dir", None)
                if run_dir is not None:
                    listener.staging_dir = Path(run_dir) / "staging-1"
                    return
                time.sleep(0.2)

        threading.Thread(target=find_staging, daemon=True).start()
        listener.t0 = time.monotonic()
        controller.run()
        elapsed = time.monotonic() - listener.t0
        mems = [mb for _, _, mb in listener.series if mb > 0]
        return SoakResult(
            pos=pos,
            wrong=len(status_errors(list(listener.final.values()))) + pos - len(listener.final),
            minutes=elapsed / 60,
            mem10=listener.mem_at_mark.get(1, float("nan")),
            mem_last=listener.mem_last.get(1, float("nan")),
            mem_max=max(mems, default=float("nan")),
            tabs_max=max(listener.tabs_between, default=1),
            staging_max=max(listener.staging_files, default=0),
            staging_end=listener.staging_files[-1] if listener.staging_files else 0,
            series=listener.series,
        )


@dataclass(slots=True)
class StopResult:
    scenario: str
    workers: int
    done_before_stop: int
    stop_to_return_s: float
    stop_to_no_process_s: float
    left: int


def stop_test(workers: int, scenario: str, knobs: dict[str, Any], shutdown_timeout_s: float) -> StopResult:
    """Start a run, Stop it once every worker is busy, time the way down to no process of ours."""
    with demo_portal(**REALISTIC_KNOBS) as portal, tempfile.TemporaryDirectory(prefix="popool-stop-") as tmp:
        batch = write_pos(Path(tmp) / "pos.csv", 400, seed=13)
        settings = bench_settings(portal.url, Path(tmp) / "out", workers, shutdown_timeout_s=shutdown_timeout_s)
        listener = BenchListener()
        sampler = MemorySampler(interval_s=0.1).start()
        controller = PoolController(settings, batch, listener)
        runner = threading.Thread(target=controller.run, name="run", daemon=True)
        runner.start()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and len(listener.final) < workers * 2:
            time.sleep(0.05)
        if knobs:
            portal.set_knobs(**knobs)
            # Let every worker get into the slow part (a page load) before the Stop.
            time.sleep(2.0)
        done = len(listener.final)
        t_stop = time.monotonic()
        controller.stop()
        runner.join(timeout=shutdown_timeout_s + 30)
        t_return = time.monotonic() - t_stop
        while sampler.leftovers() and time.monotonic() - t_stop < shutdown_timeout_s + 30:
            time.sleep(0.05)
        t_gone = time.monotonic() - t_stop
        sampler.stop()
        return StopResult(scenario, workers, done, t_return, max(t_gone, t_return), len(sampler.leftovers()))


def plot(result: SoakResult, path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot([n for n, _, _ in result.series], [mb for _, _, mb in result.series], lw=1)
    ax.set(xlabel="POs done", ylabel="worker tree PSS (MB)", title=f"One worker, {result.pos} POs")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pos", type=int, default=1000, help="POs for the one-worker soak (default 1000)")
    p.add_argument("--stop-workers", type=int, default=4)
    p.add_argument("--skip-soak", action="store_true")
    p.add_argument("--skip-stop", action="store_true")
    p.add_argument("--no-doc", action="store_true")
    args = p.parse_args(argv)
    command = "python benchmarks/soak.py " + " ".join(argv if argv is not None else sys.argv[1:])
    body = ["## Soak (one worker) and Stop (four workers)", ""]
    facts = machine_facts()
    body += [
        f"Written by `benchmarks/soak.py` on {time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        f"- Machine: {facts['cores']} cores, {facts['ram']} RAM, {facts['chromium']}",
        command_line(command),
        "",
    ]
    with quiet_logs():
        if not args.skip_soak:
            res = soak(args.pos, {})
            growth = res.mem_last / res.mem10 if res.mem10 else float("nan")
            headers = ["POs", "wrong", "minutes", "MB after 10", "MB after last", "max MB", "last/10",
                       "max tabs between POs", "max staging files", "staging files at end"]  # fmt: skip
            row = [str(res.pos), str(res.wrong), f"{res.minutes:.1f}", f"{res.mem10:.0f}", f"{res.mem_last:.0f}",
                   f"{res.mem_max:.0f}", f"{growth:.2f}x", str(res.tabs_max), str(res.staging_max),
                   str(res.staging_end)]  # fmt: skip
            print(text_table(headers, [row]))
            mems = [mb for _, _, mb in res.series]
            if len(mems) >= 20:
                tenth = max(1, len(mems) // 10)
                print(f"median MB first tenth {statistics.median(mems[:tenth]):.0f}, "
                      f"last tenth {statistics.median(mems[-tenth:]):.0f}")  # fmt: skip
            body += ["### Soak", "", md_table(headers, [row]), ""]
            png = plot(res, DOC.parent / "benchmarks-soak.png")
            if png is not None:
                body += [f"![worker tree memory over POs]({png.name})", ""]
        if not args.skip_stop:
            rows = []
            for scenario, knobs in (
                ("realistic portal", {}),
                ("only page loads in flight (pages take 20 s)", {"page_latency_ms": 20_000}),
            ):
                r = stop_test(args.stop_workers, scenario, knobs, shutdown_timeout_s=60.0)
                rows.append([r.scenario, str(r.workers), str(r.done_before_stop), f"{r.stop_to_return_s:.1f}",
                             f"{r.stop_to_no_process_s:.1f}", str(r.left)])  # fmt: skip
            headers = ["scenario", "workers", "POs done before Stop", "Stop -> run() returned s",
                       "Stop -> no process left s", "processes left"]  # fmt: skip
            print(text_table(headers, rows))
            body += ["### Stop", "", "Shutdown timeout 60 s (the default).", "", md_table(headers, rows), ""]
    print(f"chrom* processes on the machine (other users included): {chromium_count()}; "
          f"ours left (environment mark): {len(marked_leftovers())}")  # fmt: skip
    if not args.no_doc:
        update_section("soak", "\n".join(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
