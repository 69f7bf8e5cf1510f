"""How long the window's GUI thread stalls during a real 4-worker run (target: longest stall < 50 ms).

    python benchmarks/gui_responsiveness.py [--pos 120] [--workers 4] [--offscreen] [--portal own|in-process|both]

The window is the real MainWindow with real headless Chromium workers against the embedded demo portal (the
realistic knobs of throughput.py). A 10 ms timer on the GUI thread measures its own lateness from the moment
every worker is up until the run's summary appears. The portal runs in a process of its own, as a real portal
is on another machine and as `Help > Try the demo` runs it; `in-process` serves it from the window's process, for
comparison (its request threads then compete with the window for the GIL). Runs under the current display, or offscreen
(`--offscreen`, the default when there is no DISPLAY). Writes docs/benchmarks-gui.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    REALISTIC_KNOBS,
    ROOT,
    bench_settings,
    load_avg,
    machine_facts,
    marked_leftovers,
    quiet_logs,
    write_pos,
)

TARGET_MS = 50.0
TIMEOUT_S = 900
CHECK_MS = 50
LIST_STALLS = 5
ARRANGEMENTS = {"own": "own process", "in-process": "window's process"}


@dataclass(frozen=True, slots=True)
class Measured:
    arrangement: str
    run_s: float
    measured_s: float
    ticks: int
    p50_ms: float
    p99_ms: float
    longest_ms: float
    worst_at_s: float
    outcome: str
    leftovers: int
    long_stalls: list[str]

    def outcome_lines(self) -> list[str]:
        from tests.gui.stall_probe import LONG_STALL_S

        where = ARRANGEMENTS[self.arrangement]
        listed = "; ".join(self.long_stalls) if self.long_stalls else "none"
        return [
            f"Outcome, portal in {where}: {self.outcome}; browsers left: {self.leftovers}.",
            f"Longest stalls of {LONG_STALL_S * 1000:.0f} ms or more, portal in {where}: {listed}.",
        ]

    def row(self, pos: int, workers: int) -> str:
        return (
            f"| {ARRANGEMENTS[self.arrangement]} | {pos} | {workers} | {self.run_s:.0f} | {self.ticks} "
            f"| {self.p50_ms:.1f} | {self.p99_ms:.1f} | {self.longest_ms:.1f} | {self.worst_at_s:.1f} "
            f"of {self.measured_s:.0f} | {TARGET_MS:.0f} |"
        )


def measure(arrangement: str, pos: int, workers: int) -> Measured:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from popool_gui.batch.model import WorkerState
    from popool_gui.demo.process import DemoPortalProcess
    from popool_gui.demo.server import demo_portal
    from popool_gui.gui.main_window import MainWindow
    from popool_gui.gui.window_state import WindowState
    from tests.gui.stall_probe import StallProbe

    _app = QApplication.instance() or QApplication(sys.argv[:1])  # kept alive for the whole run
    root = Path(tempfile.mkdtemp(prefix="popool-bench-gui-"))
    serving: AbstractContextManager[Any] = (
        DemoPortalProcess(log_name="benchmark-portal", **REALISTIC_KNOBS)
        if arrangement == "own"
        else demo_portal(**REALISTIC_KNOBS)
    )
    with serving as portal:
        write_pos(root / "pos.csv", pos)
        settings = bench_settings(portal.url, root / "out", workers)
        window = MainWindow(settings, persist_settings=False, window_state=WindowState(root / "window.ini"))
        window.resize(1280, 800)
        window.show()
        loaded: list[bool] = []
        reading = QEventLoop()
        window.load_finished.connect(lambda ok: (loaded.append(ok), reading.quit()))
        window.load_file(root / "pos.csv")  # read off the GUI thread; load_finished tells the outcome
        if not loaded:
            reading.exec()
        if not loaded[0]:
            raise SystemExit("could not load the benchmark's CSV")
        started = time.monotonic()
        window.start_run()
        probe = StallProbe()
        model = window.worker_model

        def wait(condition: Callable[[], bool], what: str) -> None:
            # A real event loop, as the app runs in (app.exec()): the GUI thread sleeps in Qt's dispatcher until
            # the next event or timer. Polling processEvents() from Python instead adds its own delays.
            loop = QEventLoop()
            check = QTimer()
            check.setInterval(CHECK_MS)

            def poll() -> None:
                if condition() or time.monotonic() - started > TIMEOUT_S:
                    loop.quit()

            check.timeout.connect(poll)
            check.start()
            loop.exec()
            check.stop()
            if not condition():
                raise SystemExit(f"timed out waiting for {what}")

        wait(
            lambda: (
                model.rowCount() == workers
                and all(model.snapshot(r).state is not WorkerState.STARTING for r in range(workers))
            ),
            "the workers to start",
        )
        probe.start()
        wait(lambda: window.summary_dialog is not None, "the run to finish")
        probe.stop()
        run_s = time.monotonic() - started
        summary = window.last_summary
        window.summary_dialog.close()
        window.close()
    return Measured(
        arrangement=arrangement,
        run_s=run_s,
        measured_s=probe.measured_s,
        ticks=len(probe.stalls),
        p50_ms=probe.percentile(0.5) * 1000,
        p99_ms=probe.percentile(0.99) * 1000,
        longest_ms=probe.longest * 1000,
        worst_at_s=probe.worst_at,
        outcome=str(summary.counts if summary else "no summary"),
        leftovers=len(marked_leftovers()),
        long_stalls=[s.describe() for s in sorted(probe.long_stalls, key=lambda s: -s.late_ms)[:LIST_STALLS]],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pos", type=int, default=120)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--offscreen", action="store_true")
    parser.add_argument("--portal", choices=[*ARRANGEMENTS, "both"], default="both", help="where the portal runs")
    args = parser.parse_args()
    if args.offscreen or not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from popool_gui.app import GIL_SWITCH_INTERVAL_S

    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)  # as main_gui() sets it
    load_before = load_avg()
    arrangements = list(ARRANGEMENTS) if args.portal == "both" else [args.portal]
    with quiet_logs():
        results = [measure(arrangement, args.pos, args.workers) for arrangement in arrangements]
    lines = [
        "# GUI responsiveness during a run",
        "",
        f"Command: `python benchmarks/gui_responsiveness.py --pos {args.pos} --workers {args.workers}"
        f" --portal {args.portal}` (Qt platform: {os.environ.get('QT_QPA_PLATFORM') or 'display'}).",
        "Machine: "
        + ", ".join(f"{k} {v}" for k, v in machine_facts().items())
        + f"; load average before {load_before:.1f}.",
        "",
        'The probe starts once every worker is up and stops when the summary appears; "longest at" is when the'
        " longest stall ended, in seconds of the measured time.",
        "",
        "| demo portal in | POs | workers | run s | ticks | p50 stall ms | p99 stall ms | longest stall ms"
        " | longest at s | target ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(m.row(args.pos, args.workers) for m in results),
        "",
        *(line for m in results for line in m.outcome_lines()),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks-gui.md").write_text(text, encoding="utf-8")
    return 0 if all(m.longest_ms < TARGET_MS and not m.leftovers for m in results) else 1


if __name__ == "__main__":
    sys.exit(main())
