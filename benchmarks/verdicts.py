"""What earned verdicts cost: POs/min with and without the empty-list floor and the second look.

    .venv/bin/python benchmarks/verdicts.py                # about 12 min on 2 cores
    .venv/bin/python benchmarks/verdicts.py --pos 30 --no-doc

Four pool runs of the same PO list, 2 workers, shipped defaults:
- `realistic`: the demo portal of `common.REALISTIC_KNOBS` (lists rendered 400 ms after load);
- `late`: the same portal with lists rendered 0-3 s after load, the rest of a list 1.5 s after its first two items;
each as shipped (`earned`) and with the waits taken out (`believed`: `empty_wait_ms = 0`, no second look), which is
how the previous version behaved. A wrong verdict is a final status or file count that differs from the portal's
data. Seconds per look are the worker's own clock; an empty PO's cost is the sum of its looks.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import (  # type: ignore[import-not-found]  # run as a script from benchmarks/
    REALISTIC_KNOBS,
    BenchListener,
    bench_settings,
    machine_facts,
    provenance,
    quiet_logs,
    status_errors,
    write_pos,
)
from report import md_table, text_table, update_section  # type: ignore[import-not-found]

from popool_gui.batch.model import Batch, PoResult, PoStatus
from popool_gui.browser.portal import PortalProfile, load_portal
from popool_gui.demo.server import demo_portal
from popool_gui.pool.controller import PoolController

LATE_KNOBS = {**REALISTIC_KNOBS, "js_render_delay_ms": 0, "js_render_delay_max_ms": 3000, "second_batch_ms": 1500}
PORTALS = {"realistic": REALISTIC_KNOBS, "late": LATE_KNOBS}
HEADERS = [
    "portal",
    "verdicts",
    "POs",
    "wrong",
    "POs/min",
    "s per PO with files (median)",
    "s per empty PO, all looks (median)",
    "empty / with files",
    "second looks",
    "found on 2nd look",
    "learned p95 (ms)",
    "empty floor (ms)",
]


@dataclass(slots=True)
class Row:
    portal: str
    mode: str
    pos: int
    wrong: int
    per_min: float
    with_files_s: float
    empty_s: float
    second_looks: int
    found_second: int
    p95_ms: int | None
    floor_ms: int


class LookListener(BenchListener):
    """Also adds up every look at a PO: a first look that saw an empty list reports PENDING with its clock."""

    def __init__(self) -> None:
        super().__init__()
        self.look_s: dict[str, float] = {}

    def on_result(self, result: PoResult) -> None:
        if result.started_at and result.finished_at and result.status is not PoStatus.ASSIGNED:
            self.look_s[result.key] = self.look_s.get(result.key, 0.0) + result.finished_at - result.started_at
        super().on_result(result)


def without_waits(portal: PortalProfile) -> PortalProfile:
    rules = dataclasses.replace(portal.attachments, empty_wait_ms=0, second_look=False)
    return dataclasses.replace(portal, attachments=rules)


def run(batch: Batch, portal_name: str, mode: str) -> Row:
    with demo_portal(**PORTALS[portal_name]) as demo, tempfile.TemporaryDirectory(prefix="popool-bench-") as tmp:
        settings = bench_settings(demo.url, Path(tmp) / "out", 2, portal="coupa")
        profile = load_portal("coupa", demo.url)
        if mode == "believed":
            profile = without_waits(profile)
        listener = LookListener()
        controller = PoolController(settings, batch, listener, portal=profile)
        listener.t0 = time.monotonic()
        summary = controller.run()
        finals = list(listener.final.values())
        last = max(listener.finish_times, default=float("nan"))
        wrong = status_errors(finals) + _short_lists(demo, finals)
        with_files = [listener.look_s[r.key] for r in finals if r.attachments_found and r.key in listener.look_s]
        empty = [listener.look_s[r.key] for r in finals if r.status is PoStatus.NO_ATTACHMENTS]
        return Row(
            portal=portal_name,
            mode=mode,
            pos=len(batch.records),
            wrong=len(wrong) + len(batch.records) - len(finals),
            per_min=len(finals) / last * 60 if finals else 0.0,
            with_files_s=statistics.median(with_files) if with_files else float("nan"),
            empty_s=statistics.median(empty) if empty else float("nan"),
            second_looks=summary.render.second_looks,
            found_second=summary.render.found_on_second_look,
            p95_ms=summary.render.p95_ms,
            floor_ms=summary.render.empty_wait_ms,
        )


def _short_lists(demo: object, finals: list[PoResult]) -> list[str]:
    """COMPLETED with fewer files than the PO holds: a list believed before it had finished growing."""
    short = []
    for result in finals:
        if result.status is not PoStatus.COMPLETED:
            continue
        spec = demo.po_spec(result.key.removeprefix("PO"))  # type: ignore[attr-defined]
        want = len(spec.attachments or spec.requisition_attachments)
        if result.attachments_found != want:
            short.append(f"{result.key}: {result.attachments_found} of {want}")
    return short


def cells(row: Row) -> list[str]:
    ratio = row.empty_s / row.with_files_s if row.with_files_s == row.with_files_s and row.with_files_s else None
    return [
        row.portal,
        row.mode,
        str(row.pos),
        str(row.wrong),
        f"{row.per_min:.1f}",
        f"{row.with_files_s:.2f}",
        f"{row.empty_s:.2f}",
        f"{ratio:.1f}x" if ratio else "-",
        str(row.second_looks),
        str(row.found_second),
        str(row.p95_ms) if row.p95_ms is not None else "-",
        str(row.floor_ms),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pos", type=int, default=60, help="POs per run (default 60)")
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = p.parse_args(argv)
    command = "python benchmarks/verdicts.py " + " ".join(argv if argv is not None else sys.argv[1:])
    rows: list[Row] = []
    started = time.monotonic()
    with quiet_logs(), tempfile.TemporaryDirectory(prefix="popool-bench-in-") as tmp:
        batch = write_pos(Path(tmp) / "pos.csv", args.pos)
        for portal_name in PORTALS:
            for mode in ("earned", "believed"):
                t = time.monotonic()
                rows.append(run(batch, portal_name, mode))
                row = rows[-1]
                note = f"{row.per_min:.1f} POs/min, {row.wrong} wrong, run took {time.monotonic() - t:.0f} s"
                print(f"[{time.monotonic() - started:5.0f} s] {portal_name} {mode}: {note}", file=sys.stderr)
    table = [cells(r) for r in rows]
    print(text_table(HEADERS, table))
    if not args.no_doc:
        facts = machine_facts()
        body = [
            "## Verdicts: the cost of the empty-list floor and the second look",
            "",
            f"Written by `benchmarks/verdicts.py` on {time.strftime('%Y-%m-%d %H:%M')} "
            f"(whole benchmark {(time.monotonic() - started) / 60:.1f} min), 2 workers, 2 tabs each.",
            "",
            *provenance(facts, command),
            f"- `late` portal knobs: `{LATE_KNOBS}`",
            "- `earned`: as shipped; `believed`: `empty_wait_ms = 0` and no second look, as the previous version.",
            "",
            md_table(HEADERS, table),
        ]
        update_section("verdicts", "\n".join(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
