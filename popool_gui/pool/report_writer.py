"""The run report at the end of every run, Stop included: the figures only the controller knows (restarts, memory
peaks) gathered during the run, and `popool-report.html` written without ever failing the run."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from popool_gui.batch.journal import Journal
from popool_gui.batch.model import RunState, RunSummary
from popool_gui.batch.run_report import REPORT_FILE, RunFacts, write_report_from_journal
from popool_gui.pool.reporting import Reporter
from popool_gui.pool.slot import Slot


@dataclass(slots=True)
class RunPeaks:
    """The heaviest worker tree and the fullest machine seen by the memory samples of this run."""

    worker_mb: float = 0.0
    system_pct: float = 0.0

    def sample(self, slots: Iterable[Slot], system_pct: float) -> None:
        self.worker_mb = max([self.worker_mb, *(s.memory_mb for s in slots)])
        self.system_pct = max(self.system_pct, system_pct)


def restarts(slots: Iterable[Slot]) -> int:
    """Every process a slot started after its first: crashes, hangs, memory recycles and the user's restarts."""
    return sum(s.new_browsers for s in slots)


def write_end_report(
    journal: Journal,
    output_dir: Path,
    summary: RunSummary,
    *,
    slots: list[Slot],
    peaks: RunPeaks,
    started_at: float | None,
    reporter: Reporter,
) -> RunSummary:
    """Write the report; return the summary naming it. A report that cannot be written is a warning, never a
    failed run: the results files are what the run is for. A run that processed nothing keeps the report of the
    run before it, which says more than "0 processed"."""
    earlier = output_dir / REPORT_FILE
    if summary.processed_this_run == 0 and summary.state is not RunState.FAILED and earlier.is_file():
        reporter.say("info", "report_kept", reason="this run processed no PO")
        return dataclasses.replace(summary, report_file=str(earlier))
    facts = RunFacts(
        summary=summary,
        workers=len(slots),
        restarts=restarts(slots),
        memory_peak_mb=peaks.worker_mb or None,
        system_memory_peak_pct=peaks.system_pct or None,
        started_at=started_at,
        input_file=journal.source,
    )
    try:
        path = write_report_from_journal(journal, output_dir, facts)
    except OSError as exc:
        reporter.say("warning", "report_write_failed", error=str(exc))
        return summary
    return dataclasses.replace(summary, report_file=str(path))
