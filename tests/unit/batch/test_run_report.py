"""The run report: from the journal of a real (fake-worker) run, its counts, failed POs with reasons, links that
stay inside the output folder, hostile portal text escaped, and the page as headless Chromium shows it."""

from __future__ import annotations

import dataclasses
import html
import os
import re
import time
from pathlib import Path

import pytest

from popool_gui.batch.journal import Journal
from popool_gui.batch.model import Batch, PoResult, PoStatus, RunState, RunSummary
from popool_gui.batch.run_report import (
    REPORT_FILE,
    RunFacts,
    build_view,
    duration_series,
    folder_link,
    throughput_series,
    write_report,
    write_report_from_journal,
)
from popool_gui.pool.controller import PoolController
from tests.report_pages import HOSTILE_SUPPLIER, batch_of, realistic_run, screenshot
from tests.unit.fake_worker import fake_worker_main
from tests.unit.pool.test_controller import settings_for

# 01: transient failures until FAILED, 09: an empty list on every look (NO_ATTACHMENTS), the rest COMPLETED.
IDS = ["100001", "100009", *[str(100100 + i * 10) for i in range(10)]]


def hostile_batch(tmp_path: Path) -> Batch:
    source = tmp_path / "input.csv"
    source.write_text("PO_NUMBER\n" + "\n".join(IDS) + "\n", encoding="utf-8")
    return batch_of(source, IDS, lambda n: HOSTILE_SUPPLIER if n % 2 else "Acme GmbH", "hostile")


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunFacts, Batch]:
    """One real pool run with fake workers: a journal as the controller writes it."""
    tmp_path = tmp_path_factory.mktemp("run")
    batch = hostile_batch(tmp_path)
    settings = settings_for(tmp_path, max_attempts=2)
    started = time.time()
    summary = PoolController(settings, batch, None, worker_target=fake_worker_main).run()
    out = Path(settings.output_dir)
    with Journal.open(out, batch) as journal:
        # The fake worker downloads nothing: give the failed PO a folder as a real one would, and plant a
        # folder outside the output (a journal edited by hand) on the empty one.
        failed = journal.result("PO100001")
        (out / "Acme GmbH" / "PO100001_FAILED").mkdir(parents=True)
        journal.record(dataclasses.replace(failed, folder=str(out / "Acme GmbH" / "PO100001_FAILED")))
        empty = journal.result("PO100009")
        journal.record(dataclasses.replace(empty, folder=str(tmp_path)))
    facts = RunFacts(summary, workers=2, restarts=1, memory_peak_mb=321.4, started_at=started, input_file=batch.source)
    return out, facts, batch


def written(fake_run: tuple[Path, RunFacts, Batch]) -> tuple[Path, str]:
    out, facts, batch = fake_run
    with Journal.open(out, batch) as journal:
        page = write_report_from_journal(journal, out, facts)
    return page, page.read_text(encoding="utf-8")


def test_report_counts_and_reasons_from_a_real_journal(fake_run):
    out, facts, batch = fake_run
    page, text = written(fake_run)
    assert page == out / REPORT_FILE
    with Journal.open(out, batch) as journal:
        counts = journal.counts()
        results = {r.key: r for r in journal.all_results()}
    assert counts == {"FAILED": 1, "NO_ATTACHMENTS": 1, "COMPLETED": 10}
    view = build_view(out, list(results.values()), facts, {})
    assert {s.status: s.count for s in view.statuses} == counts
    assert view.total == len(IDS) and view.completed == counts["COMPLETED"]
    assert {p.po for p in view.problems} == {k for k, r in results.items() if r.status is not PoStatus.COMPLETED}
    assert view.problems[0].po == "PO100001", "FAILED comes first: it is what to act on"
    assert "gave up after 2 attempts" in view.problems[0].reason
    no_attachments = next(p for p in view.problems if p.status == "NO_ATTACHMENTS")
    assert no_attachments.reason.startswith("floor"), "the worker's own text is the reason when it gave one"
    assert {g.name: g.total for g in view.groups} == {"Acme GmbH": 6, HOSTILE_SUPPLIER: 6}
    assert sum(throughput_series(view_results(results, facts)).values) > 0
    # The page says the same.
    plain = html.unescape(re.sub(r"<[^>]+>", " ", text))
    assert re.search(rf"COMPLETED\s+{counts['COMPLETED']}\s", plain)
    assert "gave up after 2 attempts" in plain
    assert "Workers 2" in " ".join(plain.split()) and "321 MB" in plain


def view_results(results: dict[str, PoResult], facts: RunFacts) -> list[PoResult]:
    return [r for r in results.values() if r.finished_at and r.finished_at >= (facts.started_at or 0)]


def test_hostile_text_is_escaped_and_the_page_fetches_nothing(fake_run):
    _, text = written(fake_run)
    assert "<script" not in text.lower()
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;Evil &#34;Supplies&#34; &amp; Co" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|javascript:)""", text, re.IGNORECASE)
    assert "Content-Security-Policy" in text


def test_links_stay_inside_the_output_folder(fake_run):
    out, _, _ = fake_run
    _, text = written(fake_run)
    links = re.findall(r'href="([^"]*)"', text)
    assert links == ["Acme%20GmbH/PO100001_FAILED/"], "the folder outside the output gets no link"
    for link in links:
        assert (out / link.replace("%20", " ")).resolve().is_relative_to(out.resolve())


def test_folder_link_refuses_escapes(tmp_path):
    out = tmp_path / "out"
    (out / "a b#?").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", out / "planted")
    assert folder_link(out, str(out / "a b#?")) == ("a%20b%23%3F/", "a b#?")
    assert folder_link(out, "a b#?")[0] == "a%20b%23%3F/", "a relative folder is taken from the output folder"
    assert folder_link(out, str(out / ".." / "outside"))[0] is None
    assert folder_link(out, "../outside")[0] is None
    assert folder_link(out, str(out / "planted"))[0] is None, "a link planted inside pointing outside"
    assert folder_link(out, str(out))[0] is None
    assert folder_link(out, str(out / "gone"))[0] is None
    assert folder_link(out, "javascript:alert(1)")[0] is None
    assert folder_link(out, "") == (None, "")


def result(key: str, started: float, took: float, status: PoStatus = PoStatus.COMPLETED) -> PoResult:
    return PoResult(key=key, status=status, started_at=started, finished_at=started + took)


def test_throughput_buckets_per_minute_and_coarser_for_long_runs():
    t0 = 1_800_000_000.0
    series = throughput_series([result(f"P{i}", t0 + i * 10, 5) for i in range(30)])  # 30 POs over 5 minutes
    assert len(series.values) == 5 and sum(series.values) == 30
    long_run = throughput_series([result(f"P{i}", t0 + i * 60, 30) for i in range(600)])  # 10 hours
    assert len(long_run.values) <= 90 and "minutes" in long_run.x_title
    assert sum(long_run.values) * 10 == pytest.approx(600), "values stay per minute in coarser intervals"
    assert throughput_series([]).values == ()


def test_durations_are_binned_with_an_open_last_bin():
    t0 = 1_800_000_000.0
    results = [result(f"P{i}", t0, 3 + (i % 5)) for i in range(98)] + [result("slow", t0, 900), result("s2", t0, 950)]
    series = duration_series(results)
    assert sum(series.values) == 100
    assert series.labels[-1].startswith("≥"), series.labels
    assert len(series.values) <= 16


def test_a_stopped_run_without_finished_pos_still_renders(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    summary = RunSummary(RunState.FINISHED, {"PENDING": 2}, 2, 0, 1.0, 0.0, str(out), (), stopped_early=True)
    page = write_report(out, [PoResult("A", PoStatus.PENDING), PoResult("B", PoStatus.ASSIGNED)], RunFacts(summary, 1))
    text = page.read_text(encoding="utf-8")
    assert "Stopped: 2 POs left pending" in text and "No PO finished in this run" in text
    assert [p.name for p in out.iterdir()] == [REPORT_FILE], "no temporary file left behind"


def test_groups_by_top_folder_level_when_the_input_has_levels(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    summary = RunSummary(RunState.FINISHED, {}, 3, 3, 1.0, 1.0, str(out), ())
    results = [PoResult("A", PoStatus.COMPLETED), PoResult("B", PoStatus.FAILED), PoResult("C", PoStatus.COMPLETED)]
    view = build_view(out, results, RunFacts(summary, 1), {"A": ("EMEA", "DE"), "B": ("EMEA", "FR")})
    assert view.group_title == "Top folder level"
    assert [(g.name, g.total, g.completed) for g in view.groups] == [("EMEA", 2, 1), ("(none)", 1, 1)]


@pytest.mark.browser
def test_report_in_headless_chromium(tmp_path, chromium_settings):
    out = tmp_path / "out"
    out.mkdir()
    facts, results = realistic_run(out)
    page = write_report(out, results, facts)
    shown = screenshot(chromium_settings, page, tmp_path / "report.png", tmp_path / "browser")
    assert shown["pwned"] is False, "the hostile supplier's script never ran"
    assert shown["svgs"] >= 2
    links = shown["links"]
    assert links and all(link.startswith(out.resolve().as_uri() + "/") for link in links)
    assert (tmp_path / "report.png").stat().st_size > 50_000
