"""Console rendering of a run for `popool run` and `popool demo`: a live progress line, or JSON lines."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
import time
from enum import Enum
from typing import Any, TextIO

from popool_gui.batch.model import (
    LogLine,
    MemoryDecision,
    PoResult,
    PoStatus,
    RunSnapshot,
    RunState,
    RunSummary,
    WorkerSnapshot,
    WorkerState,
)
from popool_gui.duration import format_duration
from popool_gui.pool import render_timing
from popool_gui.pool.listener import NullListener
from popool_gui.pool.rolling_rate import format_eta
from popool_gui.safe_text import printable_lines

# Exit codes of `popool run`, `popool demo --headless` and `popool self-test`.
EXIT_OK = 0
EXIT_TROUBLE = 1  # some POs FAILED or need a sign-in, some never ran, or the run itself failed
EXIT_BAD_INPUT = 2  # settings, input file, portal profile or output folder refused before the run
EXIT_STOPPED = 130  # stopped early (Ctrl+C, SIGTERM), as a shell reports an interrupted command
# Non-interactive consoles (CI logs, pipes) get a full line this often instead of a redrawn one.
PLAIN_LINE_INTERVAL_S = 5.0
_WORKER_LETTER = {
    WorkerState.STARTING: "s",
    WorkerState.IDLE: "i",
    WorkerState.BUSY: "B",
    WorkerState.PAUSED: "p",
    WorkerState.RESTARTING: "r",
    WorkerState.STOPPING: "x",
    WorkerState.STOPPED: ".",
    WorkerState.CRASHED: "!",
    WorkerState.RETIRED: "-",
}


class ProgressRenderer(NullListener):
    """One status line: done/total, rate, ETA and a letter per worker; warnings on their own lines."""

    def __init__(self, stream: TextIO | None = None, *, on_grid: bool = False) -> None:
        self.stream = stream or sys.stderr
        # On a Selenium Grid the browsers use their nodes' memory: the RAM figure is this machine's only.
        self._ram_note = " (memory: local browsers only)" if on_grid else ""
        self.tty = self.stream.isatty()
        self._workers: dict[int, WorkerSnapshot] = {}
        self._last_plain = 0.0
        self._lock = threading.Lock()
        self._width = 0

    def on_worker(self, snapshot: WorkerSnapshot) -> None:
        self._workers[snapshot.worker] = snapshot

    def on_run(self, snapshot: RunSnapshot) -> None:
        workers = "".join(_WORKER_LETTER[w.state] for _, w in sorted(self._workers.items()))
        line = (
            f"{snapshot.state.value:<9} {snapshot.done}/{snapshot.total} POs"
            f"  {snapshot.rate_per_min:5.1f}/min  ETA {format_eta(snapshot.eta_s)}"
            f"  RAM {snapshot.system_memory_pct:4.1f}%{self._ram_note}  workers [{workers}]"
        )
        if snapshot.stop_deadline is not None:
            line += f"  stopping, {max(0, int(snapshot.stop_deadline - time.time()))} s left"
        elif snapshot.waiting_for:
            line += f"  waiting for {snapshot.waiting_for}"
        with self._lock:
            if self.tty:
                self.stream.write("\r" + line.ljust(self._width))
                self._width = len(line)
                self.stream.flush()
            elif time.monotonic() - self._last_plain >= PLAIN_LINE_INTERVAL_S:
                self._last_plain = time.monotonic()
                print(line, file=self.stream, flush=True)

    def _line(self, text: str) -> None:
        with self._lock:
            if self.tty and self._width:
                self.stream.write("\r" + " " * self._width + "\r")
                self._width = 0
            # Warnings quote what the portal and the files said: never let that drive the terminal.
            print(printable_lines(text), file=self.stream, flush=True)

    def on_log(self, line: LogLine) -> None:
        if line.level in ("warning", "error"):
            where = " ".join(p for p in (f"worker {line.worker}" if line.worker else "", line.po) if p)
            detail = " ".join(f"{k}={v}" for k, v in line.fields.items() if v not in (None, ""))
            self._line(f"{line.level.upper():7} {line.event} {where} {detail}".rstrip())

    def on_memory(self, decision: MemoryDecision) -> None:
        self._line(f"memory: {decision.action} worker {decision.worker} ({decision.reason})")

    def on_auth_required(self, worker: int, po: str, headless: bool) -> None:
        hint = "run once with --visible and sign in" if headless else "sign in in that browser window"
        self._line(f"SIGN-IN NEEDED: worker {worker} hit the portal's login page at {po}; {hint}")

    def finish(self, summary: RunSummary) -> None:
        self._line("")
        counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items()) if v)
        print(
            f"{summary.state.value}: {summary.total} POs ({counts}) in {format_duration(summary.elapsed_s)}, "
            f"{summary.rate_per_min:.1f} POs/min",
            file=self.stream,
        )
        if summary.message:
            print(printable_lines(summary.message), file=self.stream)
        print(render_timing.describe(summary.render), file=self.stream)
        print(f"Files:   {summary.output_dir}", file=self.stream)
        for path in summary.results_files:
            print(f"Results: {path}", file=self.stream)
        if summary.report_file:
            print(f"Report:  {summary.report_file}", file=self.stream)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class JsonRenderer(NullListener):
    """Every event as one JSON object per line on stdout, for scripts."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def _emit(self, kind: str, payload: Any) -> None:
        text = json.dumps({"type": kind, **_jsonable(payload)}, ensure_ascii=False, default=str)
        with self._lock:
            print(text, file=self.stream, flush=True)

    def on_run(self, snapshot: RunSnapshot) -> None:
        self._emit("run", snapshot)

    def on_worker(self, snapshot: WorkerSnapshot) -> None:
        self._emit("worker", snapshot)

    def on_result(self, result: PoResult) -> None:
        self._emit("po", result)

    def on_memory(self, decision: MemoryDecision) -> None:
        self._emit("memory", decision)

    def on_log(self, line: LogLine) -> None:
        self._emit("log", line)

    def on_auth_required(self, worker: int, po: str, headless: bool) -> None:
        self._emit("sign_in_required", {"worker": worker, "po": po, "headless": headless})

    def finish(self, summary: RunSummary) -> None:
        self._emit("summary", summary)


def exit_code(summary: RunSummary) -> int:
    """EXIT_OK: every PO final; EXIT_TROUBLE: some FAILED/AUTH_REQUIRED or left over (or no worker could run);
    EXIT_STOPPED: stopped early."""
    if summary.stopped_early:
        return EXIT_STOPPED
    troubled = summary.counts.get(PoStatus.FAILED.value, 0) + summary.counts.get(PoStatus.AUTH_REQUIRED.value, 0)
    pending = summary.counts.get(PoStatus.PENDING.value, 0) + summary.counts.get(PoStatus.ASSIGNED.value, 0)
    if troubled or pending or summary.state is RunState.FAILED:
        return EXIT_TROUBLE
    return EXIT_OK
