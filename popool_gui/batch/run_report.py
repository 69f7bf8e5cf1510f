"""The run report: `popool-report.html` beside the results, a page to hand to a manager or an auditor.

One self-contained file (inline CSS, inline SVG charts, no script, nothing fetched), so it opens in any browser
without a network. It shows counts per status and per top folder level (or supplier), throughput over the run,
time per PO, every PO that did not end COMPLETED with its reason and a link to its folder, and the run's own
figures (render timing, workers, restarts, memory peak).

Everything from the portal (supplier names, errors, folder names) is hostile: the template escapes every value
(jinja2 autoescape), folder links are relative paths that stay inside the output folder, and the charts carry
only numbers and labels popool makes. Written to a temporary file and moved into place, so a browser that
reloads it sees the old report or the new one, never half of one.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import jinja2

from popool_gui import __version__
from popool_gui.batch import report_charts
from popool_gui.batch.journal import Journal
from popool_gui.batch.layout import long_path, mkstemp_in
from popool_gui.batch.model import REPORTED_STATUSES, PoResult, PoStatus, RenderFigures, RunState, RunSummary
from popool_gui.batch.report_charts import Series, nice_step
from popool_gui.status_colours import PO_STATUS_COLOURS

log = logging.getLogger(__name__)

REPORT_FILE = "popool-report.html"
TEMPLATE = "run_report.html.j2"
TEMPLATES = Path(__file__).with_name("templates")
MAX_GROUPS = 25  # more rows than this is a list, not an overview: the rest are summed in one row
MAX_INTERVALS = 90  # points on the throughput chart
MAX_BINS = 16  # bars on the time-per-PO chart
INTERVAL_STEPS_MIN = (1, 2, 5, 10, 15, 30, 60, 120, 240)
BIN_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800)
NO_GROUP = "(none)"
# What a status means when the PO carries no error text of its own.
DEFAULT_REASONS: dict[PoStatus, str] = {
    PoStatus.PENDING: "not processed yet: the next run on this output folder takes it",
    PoStatus.ASSIGNED: "in progress when the run ended: the next run takes it again",
    PoStatus.NO_ATTACHMENTS: "the PO page lists no attachments",
    PoStatus.PO_NOT_FOUND: "the portal has no PO with this number",
    PoStatus.ACCESS_DENIED: "the signed-in user may not see this PO",
    PoStatus.AUTH_REQUIRED: "the portal asked to sign in again",
    PoStatus.PARTIAL: "some attachments could not be downloaded",
    PoStatus.INVALID_PO: "not a PO number",
    PoStatus.FAILED: "failed",
}


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the report needs beyond the journal; the controller has each of these at the end of a run."""

    summary: RunSummary
    workers: int
    restarts: int = 0  # worker restarts over the run (crashes, hangs, memory recycles, the user's)
    memory_peak_mb: float | None = None  # the heaviest worker's process tree at its peak
    system_memory_peak_pct: float | None = None
    started_at: float | None = None  # epoch seconds of this run's start; None: the earliest PO start
    input_file: str = ""
    generated_at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: str
    count: int
    percent: float
    colour: str


@dataclass(frozen=True, slots=True)
class GroupRow:
    name: str
    total: int
    completed: int
    other: int  # not COMPLETED
    percent: float  # completed of total


@dataclass(frozen=True, slots=True)
class ProblemRow:
    po: str
    status: str
    colour: str
    supplier: str
    reason: str
    attempts: int
    when: str
    link: str | None  # relative to the report, inside the output folder
    folder_name: str


@dataclass(frozen=True, slots=True)
class ReportView:
    """Everything the template shows, computed here so it can be tested without parsing HTML."""

    title: str
    headline: str
    state_colour: str
    input_name: str
    output_dir: str
    generated: str
    total: int
    completed: int
    completed_pct: float
    processed_this_run: int
    elapsed: str
    rate_per_min: float
    message: str
    statuses: tuple[StatusCount, ...]
    group_title: str
    groups: tuple[GroupRow, ...]
    throughput_svg: str
    throughput_note: str
    durations_svg: str
    durations_note: str
    problems: tuple[ProblemRow, ...]
    facts: tuple[tuple[str, str], ...]
    version: str = __version__


def write_report(
    output_dir: Path,
    results: Sequence[PoResult],
    facts: RunFacts,
    levels: Mapping[str, tuple[str, ...]] | None = None,
) -> Path:
    """Render the report into `output_dir` atomically; return its path. `levels` maps a PO key to its folder
    levels from the input (the `<|>` columns); without any, POs are grouped by supplier."""
    output_dir = Path(output_dir)
    page = render_html(build_view(output_dir, results, facts, levels or {}))
    target = output_dir / REPORT_FILE
    fd, tmp = mkstemp_in(output_dir, prefix=".popool-report-", suffix=".html.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(page)
        os.replace(tmp, long_path(target))
    finally:
        tmp.unlink(missing_ok=True)
    log.info("run report written to %s", target)
    return target


def write_report_from_journal(journal: Journal, output_dir: Path, facts: RunFacts) -> Path:
    """The controller's entry point: every PO of the journal, grouped by its input's folder levels."""
    results = journal.all_results()
    levels: dict[str, tuple[str, ...]] = {}
    for result in results:
        if result.status is PoStatus.INVALID_PO:
            continue  # an invalid row has no record, hence no levels
        hierarchy = journal.record_for(result.key).hierarchy
        if hierarchy:
            levels[result.key] = hierarchy
    return write_report(output_dir, results, facts, levels)


def render_html(view: ReportView) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value may hold portal text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(TEMPLATE).render(view=view)


# ----------------------------------------------------------------- figures


def build_view(
    output_dir: Path, results: Sequence[PoResult], facts: RunFacts, levels: Mapping[str, tuple[str, ...]]
) -> ReportView:
    summary = facts.summary
    shown = [_reported(r) for r in results]
    counts = Counter(r.status for r in shown)
    total = len(shown)
    completed = counts.get(PoStatus.COMPLETED, 0)
    this_run = _this_run(shown, facts.started_at)
    return ReportView(
        title=f"popool run report: {Path(facts.input_file).name or output_dir.name}",
        headline=summary.headline,
        state_colour=PO_STATUS_COLOURS[PoStatus.FAILED if summary.state is RunState.FAILED else PoStatus.COMPLETED],
        input_name=Path(facts.input_file).name,
        output_dir=str(output_dir),
        generated=_clock(facts.generated_at, seconds=False),
        total=total,
        completed=completed,
        completed_pct=_pct(completed, total),
        processed_this_run=summary.processed_this_run,
        elapsed=human_duration(summary.elapsed_s),
        rate_per_min=summary.rate_per_min,
        message=summary.message,
        statuses=tuple(
            StatusCount(s.value, counts[s], _pct(counts[s], total), PO_STATUS_COLOURS[s])
            for s in REPORTED_STATUSES
            if counts.get(s)
        ),
        group_title="Top folder level" if levels else "Supplier",
        groups=_groups(shown, levels),
        throughput_svg=report_charts.throughput_svg(throughput_series(this_run)),
        throughput_note=_throughput_note(this_run, summary.rate_per_min),
        durations_svg=report_charts.durations_svg(duration_series(this_run)),
        durations_note=_durations_note(this_run),
        problems=tuple(_problem(output_dir, r) for r in _problem_order(shown)),
        facts=_run_facts(facts),
    )


def _reported(result: PoResult) -> PoResult:
    """As the results file shows it: a PO in flight when the run ended is PENDING."""
    if result.status is PoStatus.ASSIGNED:
        return dataclasses.replace(result, status=PoStatus.PENDING)
    return result


def _this_run(results: Sequence[PoResult], started_at: float | None) -> list[PoResult]:
    """POs finished in this run, with both clock readings (earlier runs' POs would stretch the charts)."""
    timed = [r for r in results if r.started_at is not None and r.finished_at is not None]
    if started_at is None:
        return timed
    return [r for r in timed if (r.finished_at or 0.0) >= started_at]


def throughput_series(results: Sequence[PoResult]) -> Series:
    """POs finished per minute in each interval from the first start to the last finish."""
    if not results:
        return Series((), (), "POs per minute", "Time")
    start = min(r.started_at or 0.0 for r in results)
    end = max(r.finished_at or 0.0 for r in results)
    step_min = nice_step((end - start) / 60, MAX_INTERVALS, INTERVAL_STEPS_MIN)
    step_s = step_min * 60
    buckets = Counter(int(((r.finished_at or start) - start) // step_s) for r in results)
    count = max(buckets) + 1
    labels = tuple(_clock(start + i * step_s, seconds=False, time_only=True) for i in range(count))
    values = tuple(round(buckets.get(i, 0) / step_min, 2) for i in range(count))
    x_title = "Time (each point: one minute)" if step_min == 1 else f"Time (each point: {step_min} minutes)"
    return Series(labels, values, "POs per minute", x_title)


def duration_series(results: Sequence[PoResult]) -> Series:
    """How many POs took how long, in ranges of a round width; the last range takes the slowest few."""
    durations = sorted(r.duration_s or 0.0 for r in results)
    if not durations:
        return Series((), (), "POs", "")
    top = quantile(durations, 0.98) or durations[-1]
    width = nice_step(max(top, 1.0), MAX_BINS - 1, BIN_STEPS_S)
    bins = min(MAX_BINS, int(durations[-1] // width) + 1)
    counts = Counter(min(bins - 1, int(d // width)) for d in durations)
    labels = []
    for i in range(bins):
        low, high = i * width, (i + 1) * width
        open_ended = i == bins - 1 and durations[-1] >= high
        labels.append(f"≥ {_seconds(low)}" if open_ended else _range(low, high))
    return Series(tuple(labels), tuple(float(counts.get(i, 0)) for i in range(bins)), "POs", "")


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The nearest-rank quantile of sorted values; None for none."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _throughput_note(results: Sequence[PoResult], rate_per_min: float) -> str:
    """The run's one rate (the summary's, as the window's status bar and summary show it)."""
    if not results:
        return "No PO finished in this run."
    start = min(r.started_at or 0.0 for r in results)
    end = max(r.finished_at or 0.0 for r in results)
    return (
        f"{len(results)} POs finished between {_clock(start, time_only=True)} and {_clock(end, time_only=True)}: "
        f"{rate_per_min:.1f} per minute on average."
    )


def _durations_note(results: Sequence[PoResult]) -> str:
    durations = sorted(r.duration_s or 0.0 for r in results)
    if not durations:
        return "No PO finished in this run."
    median = quantile(durations, 0.5) or 0.0
    p95 = quantile(durations, 0.95) or 0.0
    return (
        f"Median {_seconds(median, precise=True)} per PO, 95 % within {_seconds(p95, precise=True)}, "
        f"slowest {_seconds(durations[-1], precise=True)} (time from a worker taking the PO to its result)."
    )


def _groups(results: Sequence[PoResult], levels: Mapping[str, tuple[str, ...]]) -> tuple[GroupRow, ...]:
    totals: Counter[str] = Counter()
    done: Counter[str] = Counter()
    for r in results:
        name = (levels[r.key][0] if levels.get(r.key) else r.supplier).strip() if levels else r.supplier.strip()
        name = name or NO_GROUP
        totals[name] += 1
        done[name] += r.status is PoStatus.COMPLETED
    ranked = sorted(totals, key=lambda n: (-totals[n], n.casefold()))
    rows = [_group_row(n, totals[n], done[n]) for n in ranked[:MAX_GROUPS]]
    rest = ranked[MAX_GROUPS:]
    if rest:
        rows.append(
            _group_row(f"{len(rest)} more", sum(totals[n] for n in rest), sum(done[n] for n in rest)),
        )
    return tuple(rows)


def _group_row(name: str, total: int, completed: int) -> GroupRow:
    return GroupRow(name, total, completed, total - completed, _pct(completed, total))


_PROBLEM_ORDER = {
    s: i
    for i, s in enumerate(
        (
            PoStatus.FAILED,
            PoStatus.AUTH_REQUIRED,
            PoStatus.PARTIAL,
            PoStatus.ACCESS_DENIED,
            PoStatus.PO_NOT_FOUND,
            PoStatus.NO_ATTACHMENTS,
            PoStatus.INVALID_PO,
            PoStatus.PENDING,
        )
    )
}


def _problem_order(results: Sequence[PoResult]) -> list[PoResult]:
    """Not COMPLETED, the ones to act on first; input order within a status."""
    problems = [(i, r) for i, r in enumerate(results) if r.status is not PoStatus.COMPLETED]
    problems.sort(key=lambda item: (_PROBLEM_ORDER.get(item[1].status, len(_PROBLEM_ORDER)), item[0]))
    return [r for _, r in problems]


def _problem(output_dir: Path, result: PoResult) -> ProblemRow:
    link, name = folder_link(output_dir, result.folder)
    return ProblemRow(
        po=result.key,
        status=result.status.value,
        colour=PO_STATUS_COLOURS[result.status],
        supplier=result.supplier,
        reason=result.error.strip() or DEFAULT_REASONS.get(result.status, ""),
        attempts=result.attempts,
        when=_clock(result.finished_at) if result.finished_at else "",
        link=link,
        folder_name=name,
    )


def folder_link(output_dir: Path, folder: str) -> tuple[str | None, str]:
    """A relative, percent-encoded link to a PO folder and its shown name; no link for a folder that is gone
    or lies outside the output folder (a journal edited by hand, a link planted by someone)."""
    if not folder.strip():
        return None, ""
    try:
        root = output_dir.resolve()
        target = (root / folder).resolve()  # an absolute `folder` replaces root, as the worker writes it
    except (OSError, ValueError):
        return None, ""
    if target == root or not target.is_relative_to(root) or not target.is_dir():
        return None, Path(folder).name
    relative = target.relative_to(root).as_posix()
    return quote(relative, safe="/") + "/", relative


def _run_facts(facts: RunFacts) -> tuple[tuple[str, str], ...]:
    render = facts.summary.render
    rows: list[tuple[str, str]] = [
        ("Workers", str(facts.workers)),
        ("Worker restarts", str(facts.restarts)),
        (
            "Memory peak (one worker)",
            f"{facts.memory_peak_mb:,.0f} MB" if facts.memory_peak_mb is not None else "not measured",
        ),
    ]
    if facts.system_memory_peak_pct is not None:
        rows.append(("Machine memory peak", f"{facts.system_memory_peak_pct:.0f} %"))
    rows += _render_facts(render)
    return tuple(rows)


def _render_facts(render: RenderFigures) -> list[tuple[str, str]]:
    """How popool made sure an empty list was really empty, in words: the portal shows its documents by script,
    often seconds after the page, so popool learns how long that takes and waits at least twice that."""
    if render.p95_ms is None:
        shown = f"not measured: too few POs had documents ({render.samples}); popool used its standard wait"
    else:
        shown = f"within {render.p95_ms / 1000:.1f} s of the page for 95 % of the {render.samples} POs with documents"
    twice = f"{render.second_looks} PO{'s' if render.second_looks != 1 else ''}"
    if render.found_on_second_look:
        twice += f"; {render.found_on_second_look} had documents after all, which were downloaded"
    return [
        ("How soon the portal showed documents", shown),
        (
            "When a PO was called empty",
            f"only after waiting {render.empty_wait_ms / 1000:.1f} s for its list, and again "
            f"{render.second_look_ms / 1000:.1f} s on a second look",
        ),
        ("POs looked at twice because their list was empty", twice),
    ]


def human_duration(seconds: float) -> str:
    seconds = int(max(0, round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _seconds(value: float, precise: bool = False) -> str:
    if value >= 120:
        return f"{value / 60:.0f} min" if not precise else f"{value / 60:.1f} min"
    return f"{value:.1f} s" if precise else f"{value:.0f} s"


def _range(low: float, high: float) -> str:
    if high > 120:
        return f"{low / 60:g}–{high / 60:g} min"
    return f"{low:g}–{high:g} s"


def _clock(epoch: float, seconds: bool = True, time_only: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch)
    if time_only:
        return moment.strftime("%H:%M:%S" if seconds else "%H:%M")
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0
