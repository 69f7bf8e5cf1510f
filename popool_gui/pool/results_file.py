"""The results file during a run: rewritten from the journal now and then, never more than ~10% of the time."""

from __future__ import annotations

import os
import time
from pathlib import Path

from popool_gui.batch import report
from popool_gui.batch.journal import Journal
from popool_gui.pool.reporting import Reporter
from popool_gui.settings import ResultsFormat

RESULTS_MIN_INTERVAL_S = 5.0


class ResultsFile:
    def __init__(self, output_dir: Path, journal: Journal, fmt: ResultsFormat, source: Path, reporter: Reporter):
        self._output_dir = output_dir
        self._journal = journal
        self._format = fmt
        # A results file fed back as input is never overwritten: the results go beside it (report's protect).
        self._input = source
        self._reporter = reporter
        self._dirty = True
        self._last_write = 0.0
        self._write_cost = 0.0
        self._told_beside_input = False
        self._failing = False  # the last write failed: its warning was given once
        self.files: tuple[str, ...] = ()

    def changed(self) -> None:
        self._dirty = True

    def maybe_write(self, now: float) -> None:
        # Large batches make a rewrite costly; space rewrites so they never take more than ~10% of the time.
        interval = max(RESULTS_MIN_INTERVAL_S, self._write_cost * 10)
        if self._dirty and now - self._last_write >= interval:
            try:
                self.write(final=False)
            except OSError as exc:
                # The run goes on (the journal has every result); the final write reports a lasting failure.
                self._last_write = time.monotonic()
                if not self._failing:
                    self._reporter.say("warning", "results_write_failed", error=str(exc), final=False)
                self._failing = True

    def write(self, *, final: bool) -> str:
        """Rewrite the file(s); returns a note for the user when the results had to go beside the input."""
        started = time.monotonic()
        fmt = self._format
        if not final and fmt is ResultsFormat.CSV_AND_XLSX:
            # The xlsx copy is the slow one; during the run the CSV keeps the file current.
            fmt = ResultsFormat.CSV
        rows = self._journal.report_rows()
        paths = report.write_results(
            self._output_dir, self._journal.columns, self._journal.delimiter, rows, fmt, protect=(self._input,)
        )
        beside = [p for p in paths if self._beside_input(p)]
        if beside and not self._told_beside_input:
            self._told_beside_input = True
            self._reporter.say("warning", "results_beside_input", input=str(self._input), results=str(beside[0]))
        if final:
            self.files = tuple(str(p) for p in paths)
        self._dirty = self._failing = False
        self._last_write = time.monotonic()
        self._write_cost = self._last_write - started
        if beside and final:
            return f"the input {self._input} is a results file: it was kept, and the results went to {beside[0]}"
        return ""

    def _beside_input(self, path: Path) -> bool:
        """Whether `path` took the alternate name because the usual results file is this run's input."""
        usual = report.results_path(self._output_dir, path.suffix)
        try:
            return path != usual and os.path.samefile(usual, self._input)
        except OSError:
            return False
