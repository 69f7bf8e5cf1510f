"""Run reports for tests and the README: a journal of a made-up but realistic run, and a full-page screenshot
of a report taken with real headless Chromium."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

from popool_gui.batch.journal import Journal
from popool_gui.batch.model import Batch, PoRecord, PoResult, PoStatus, RenderFigures, RunState, RunSummary
from popool_gui.batch.run_report import RunFacts
from popool_gui.browser.backend_choice import build_driver
from popool_gui.settings import Settings

HOSTILE_SUPPLIER = '<script>window.pwned=1</script>Evil "Supplies" & Co'
SUPPLIERS = ("Acme Industrial GmbH", "Nordic Paper AB", "Blue River Logistics", "Omega Office Supplies", "Kite Labs")
# (status, share, error) of the made-up run's POs that do not end COMPLETED
OUTCOMES = (
    (PoStatus.FAILED, 0.03, "gave up after 3 attempts: timed out waiting for the attachment list"),
    (PoStatus.PARTIAL, 0.02, "2 of 3 attachments downloaded: Invoice_0423.pdf: HTTP 404"),
    (PoStatus.NO_ATTACHMENTS, 0.07, ""),
    (PoStatus.PO_NOT_FOUND, 0.02, "the portal shows 'Purchase order not found'"),
    (PoStatus.AUTH_REQUIRED, 0.01, "the portal asked to sign in again (session expired)"),
)


def batch_of(source: Path, ids: list[str], supplier_of: Callable[[int], str], source_hash: str) -> Batch:
    """A batch of POs `PO<id>` as the input reader makes it, each with the supplier its input row names."""
    records = tuple(
        PoRecord(key=f"PO{i}", po_id=i, row_number=n + 1, row={"PO_NUMBER": f"PO{i}"}, input_supplier=supplier_of(n))
        for n, i in enumerate(ids)
    )
    return Batch(str(source), source_hash, ("PO_NUMBER",), ",", "PO_NUMBER", records, (), (), ())


def realistic_run(out: Path, count: int = 240, seed: int = 7) -> tuple[RunFacts, list[PoResult]]:
    """A journal in `out` of a 3-worker run of `count` POs over about 40 minutes, as the controller writes it."""
    rng = random.Random(seed)
    source = out.parent / "purchase-orders-2026-Q2.xlsx"
    source.write_bytes(b"made up")
    ids = [str(15260000 + i * 7) for i in range(count)]
    batch = batch_of(source, ids, lambda n: HOSTILE_SUPPLIER if n == 5 else rng.choice(SUPPLIERS), f"seed-{seed}")
    records = batch.records
    start = time.time() - 45 * 60
    clocks = [start + w * 4 for w in range(3)]
    with Journal.open(out, batch) as journal:
        for n, record in enumerate(records):
            worker = min(range(3), key=lambda w: clocks[w])
            took = rng.lognormvariate(2.1, 0.45) + (25 if 90 < n < 110 else 0)  # a slow stretch mid-run
            began, clocks[worker] = clocks[worker], clocks[worker] + took
            status, error = PoStatus.COMPLETED, ""
            pick = rng.random()
            for outcome, share, text in OUTCOMES:
                if pick < share:
                    status, error = outcome, text
                    break
                pick -= share
            folder = out / record.input_supplier.replace("<", "").replace(">", "")[:20] / f"{record.key}_{status}"
            folder.mkdir(parents=True, exist_ok=True)
            journal.record(
                PoResult(
                    key=record.key,
                    status=status,
                    error=error,
                    folder=str(folder),
                    worker=worker + 1,
                    attempts=3 if status is PoStatus.FAILED else 1,
                    started_at=began,
                    finished_at=began + took,
                    attachments_found=0 if status is PoStatus.NO_ATTACHMENTS else 2,
                )
            )
        results = journal.all_results()
    finished = max(r.finished_at or 0.0 for r in results)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    summary = RunSummary(
        state=RunState.FINISHED,
        counts=counts,
        total=count,
        processed_this_run=count,
        elapsed_s=finished - start,
        rate_per_min=count / ((finished - start) / 60),
        output_dir=str(out),
        results_files=(str(out / "popool-results.xlsx"),),
        render=RenderFigures(
            samples=212, p95_ms=2800, empty_wait_ms=5600, second_look_ms=8400, second_looks=17, found_on_second_look=1
        ),
    )
    facts = RunFacts(
        summary=summary,
        workers=3,
        restarts=2,
        memory_peak_mb=612.0,
        system_memory_peak_pct=58.0,
        started_at=start,
        input_file=str(source),
        generated_at=finished + 5,
    )
    return facts, results


def screenshot(settings: Settings, page: Path, png: Path, scratch: Path, width: int = 1280) -> dict[str, object]:
    """Open `page` in headless Chromium, save a full-page screenshot to `png`; return what the page shows
    (whether a script ran, its links and its height) for the caller to check."""
    scratch.mkdir(parents=True, exist_ok=True)
    driver = build_driver(settings, staging_dir=scratch, user_data_dir=scratch / "profile")
    try:
        driver.set_window_size(width, 900)
        driver.get(page.resolve().as_uri())
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        driver.set_window_size(width, height + 140)  # the window's frame is part of the size in some builds
        driver.save_screenshot(str(png))
        return {
            "pwned": driver.execute_script("return window.pwned === 1"),
            "links": driver.execute_script("return Array.from(document.links, a => a.href)"),
            "height": height,
            "svgs": driver.execute_script("return document.querySelectorAll('svg').length"),
        }
    finally:
        driver.quit()
