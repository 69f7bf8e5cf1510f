"""Throughput and memory: popool's persistent pool against a fresh browser per PO and one sequential browser.

    .venv/bin/python benchmarks/throughput.py                 # the full comparison (about 20 min on 2 cores)
    .venv/bin/python benchmarks/throughput.py --quick         # a smoke run (about 2 min)
    .venv/bin/python benchmarks/throughput.py --modes pool --workers 2 --set tabs_per_worker=2

Every run gets a fresh demo portal with the realistic knobs of `common.REALISTIC_KNOBS`, a fresh output folder
and the same PO list. Per-PO seconds are the worker's own clock, from taking a PO up to its result (result
`started_at` to `finished_at`), so the per-PO design's browser start and sign-in count and a pipelined PO's wait
in its worker's queue does not; for `sequential`, from the call to the result.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from common import (  # type: ignore[import-not-found]  # run as a script from benchmarks/
    REALISTIC_KNOBS,
    BenchListener,
    MemorySampler,
    bench_settings,
    children_cpu_s,
    chromium_count,
    command_line,
    load_avg,
    machine_facts,
    marked_leftovers,
    percentile,
    quiet_logs,
    status_errors,
    tree_mb,
    write_pos,
)
from report import DOC, md_table, text_table, update_section  # type: ignore[import-not-found]

from benchmarks.baseline import per_po_worker_main, run_sequential
from popool_gui.batch.model import Batch
from popool_gui.demo.server import demo_portal
from popool_gui.pool.controller import PoolController


@dataclass(slots=True)
class Row:
    mode: str
    workers: int
    pos: int
    errors: int  # final statuses that differ from the portal's data
    elapsed_s: float
    per_min: float
    first_s: float
    median_s: float
    p95_s: float
    peak_mb: float
    mem10_mb: float  # mean per-worker tree PSS after its 10th PO
    mem_last_mb: float  # mean per-worker tree PSS after its last PO
    cpu_per_po: float  # CPU seconds of all process trees per PO (robust against other load on the machine)
    load: float  # 1-minute load average at the end of the run (the machine is shared: context for the figures)
    leftovers: int  # processes of the run still alive after it
    settings: str


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def run_pool(batch: Batch, workers: int, *, per_po: bool, overrides: dict[str, object]) -> Row:
    with demo_portal(**REALISTIC_KNOBS) as portal, tempfile.TemporaryDirectory(prefix="popool-bench-") as tmp:
        settings = bench_settings(portal.url, Path(tmp) / "out", workers, **overrides)
        listener = BenchListener()
        sampler = MemorySampler().start()
        cpu0 = children_cpu_s()
        kwargs = {"worker_target": per_po_worker_main} if per_po else {}
        controller = PoolController(settings, batch, listener, **kwargs)
        listener.t0 = time.monotonic()
        controller.run()
        sampler.stop()
        cpu = children_cpu_s() - cpu0
        results = list(listener.final.values())
        last = max(listener.finish_times, default=float("nan"))
        return Row(
            mode="per-po" if per_po else "pool",
            workers=workers,
            pos=len(batch.records),
            errors=_count_wrong(status_errors(results), len(batch.records) - len(results)),
            elapsed_s=last,
            per_min=len(results) / last * 60 if results else 0.0,
            first_s=controller.first_result_seconds or float("nan"),
            median_s=statistics.median(listener.durations) if listener.durations else float("nan"),
            p95_s=percentile(listener.durations, 95),
            peak_mb=sampler.peak_mb,
            mem10_mb=_mean(list(listener.mem_at_mark.values())),
            mem_last_mb=_mean(list(listener.mem_last.values())),
            cpu_per_po=cpu / max(1, len(results)),
            load=load_avg(),
            leftovers=len(sampler.leftovers()),
            settings=_describe(overrides),
        )


def run_seq(batch: Batch, overrides: dict[str, object]) -> Row:
    with demo_portal(**REALISTIC_KNOBS) as portal, tempfile.TemporaryDirectory(prefix="popool-bench-") as tmp:
        settings = bench_settings(portal.url, Path(tmp) / "out", 1, **overrides)
        sampler = MemorySampler().start()
        cpu0 = children_cpu_s()
        run = run_sequential(settings, batch, tree_mb=tree_mb)
        sampler.stop()
        cpu = children_cpu_s() - cpu0
        return Row(
            mode="sequential",
            workers=1,
            pos=len(batch.records),
            errors=_count_wrong(status_errors(run.results), 0),
            elapsed_s=run.elapsed_s,
            per_min=len(run.results) / run.elapsed_s * 60,
            first_s=run.first_result_s,
            median_s=statistics.median(run.durations),
            p95_s=percentile(run.durations, 95),
            peak_mb=sampler.peak_mb,
            mem10_mb=run.mem_at_mark,
            mem_last_mb=run.mem_last,
            cpu_per_po=cpu / max(1, len(run.results)),
            load=load_avg(),
            leftovers=len(sampler.leftovers()),
            settings=_describe(overrides),
        )


def _count_wrong(wrong: list[str], unfinished: int) -> int:
    for line in wrong[:5]:
        print(f"  wrong: {line}", file=sys.stderr)
    if unfinished:
        print(f"  {unfinished} POs without a final status", file=sys.stderr)
    return len(wrong) + unfinished


def _describe(overrides: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in overrides.items()) or "defaults"


HEADERS = [
    "mode", "workers", "POs", "wrong", "POs/min", "first result s", "median s/PO", "p95 s/PO",
    "peak tree MB", "MB/worker after 10", "MB/worker after last", "CPU s/PO", "load", "left", "settings",
]  # fmt: skip


def cells(row: Row) -> list[str]:
    return [
        row.mode,
        str(row.workers),
        str(row.pos),
        str(row.errors),
        f"{row.per_min:.1f}",
        f"{row.first_s:.2f}",
        f"{row.median_s:.2f}",
        f"{row.p95_s:.2f}",
        f"{row.peak_mb:.0f}",
        f"{row.mem10_mb:.0f}",
        f"{row.mem_last_mb:.0f}",
        f"{row.cpu_per_po:.2f}",
        f"{row.load:.1f}",
        str(row.leftovers),
        row.settings,
    ]


def ratio_rows(rows: list[Row]) -> list[list[str]]:
    out = []
    for pool in (r for r in rows if r.mode == "pool"):
        base = next((r for r in rows if r.mode == "per-po" and r.workers == pool.workers), None)
        if base is None:
            continue
        out.append(
            [
                str(pool.workers),
                f"{pool.per_min / base.per_min:.2f}x",
                f"{pool.median_s / base.median_s:.2f}x",
                f"{pool.peak_mb / base.peak_mb:.2f}x",
                f"{pool.first_s / base.first_s:.2f}x",
                f"{pool.cpu_per_po / base.cpu_per_po:.2f}x",
            ]
        )
    return out


RATIO_HEADERS = [
    "workers", "POs/min pool/per-po", "median s/PO pool/per-po", "peak MB pool/per-po", "first s", "CPU/PO",
]  # fmt: skip


def plot(rows: list[Row], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, marker in (("pool", "o"), ("per-po", "s"), ("sequential", "^")):
        sel = sorted((r for r in rows if r.mode == mode), key=lambda r: r.workers)
        if not sel:
            continue
        ax1.plot([r.workers for r in sel], [r.per_min for r in sel], marker=marker, label=mode)
        ax2.plot([r.workers for r in sel], [r.peak_mb for r in sel], marker=marker, label=mode)
    ax1.set(xlabel="workers", ylabel="POs per minute", title="Throughput")
    ax2.set(xlabel="workers", ylabel="peak tree PSS (MB)", title="Memory (all process trees)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_xticks(sorted({r.workers for r in rows}))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def parse_overrides(items: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key.strip()] = value.strip()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pos", type=int, default=200, help="POs per pool run (default 200)")
    p.add_argument("--per-po-pos", type=int, default=30, help="POs per per-po run (default 30: it is 4-5x slower)")
    p.add_argument("--seq-pos", type=int, default=60, help="POs for the sequential run (default 60)")
    p.add_argument("--workers", default="1,2,4", help="comma-separated worker counts (default 1,2,4)")
    p.add_argument("--modes", default="pool,per-po,sequential")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="a Settings override for pool and sequential runs, e.g. tabs_per_worker=2")  # fmt: skip
    p.add_argument("--quick", action="store_true", help="20 POs, workers 1,2: a smoke run")
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    p.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = p.parse_args(argv)
    if args.quick:
        args.pos, args.per_po_pos, args.seq_pos, args.workers = 20, 12, 20, "1,2"
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    overrides = parse_overrides(args.overrides)
    command = "python benchmarks/throughput.py " + " ".join(argv if argv is not None else sys.argv[1:])

    rows: list[Row] = []
    started = time.monotonic()
    with quiet_logs(), tempfile.TemporaryDirectory(prefix="popool-bench-in-") as tmp:
        plans: list[tuple[str, int]] = []
        for mode in modes:
            if mode == "sequential":
                plans.append((mode, 1))
            else:
                plans.extend((mode, w) for w in workers)
        for mode, count in plans:
            n = {"pool": args.pos, "per-po": args.per_po_pos, "sequential": args.seq_pos}[mode]
            batch = write_pos(Path(tmp) / f"pos-{n}.csv", n)
            t = time.monotonic()
            if mode == "sequential":
                row = run_seq(batch, overrides)
            else:
                row = run_pool(batch, count, per_po=mode == "per-po", overrides=overrides if mode == "pool" else {})
            rows.append(row)
            note = f"{row.per_min:.1f} POs/min, {row.errors} wrong, run took {time.monotonic() - t:.0f} s"
            print(f"[{time.monotonic() - started:6.0f} s] {mode} x{count}: {note}", file=sys.stderr, flush=True)
    total_s = time.monotonic() - started
    table = text_table(HEADERS, [cells(r) for r in rows])
    ratios = ratio_rows(rows)
    print(table)
    if ratios:
        print()
        print(text_table(RATIO_HEADERS, ratios))
    left = sum(r.leftovers for r in rows)
    print(
        f"\nwhole benchmark: {total_s / 60:.1f} min; processes of ours left: {left} per run, "
        f"{len(marked_leftovers())} by environment mark; "
        f"chrom* processes on the machine (other users included): {chromium_count()}"
    )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2), encoding="utf-8")
    if not args.no_doc:
        facts = machine_facts()
        png = plot(rows, DOC.parent / "benchmarks-throughput.png")
        body = [
            "## Throughput and memory: pool vs per-PO browser vs sequential",
            "",
            f"Written by `benchmarks/throughput.py` on {time.strftime('%Y-%m-%d %H:%M')} "
            f"(whole benchmark {total_s / 60:.1f} min).",
            "",
            f"- Machine: {facts['cores']} cores ({facts['cpu']}), {facts['ram']} RAM, {facts['os']}, "
            f"Python {facts['python']}, {facts['chromium']}",
            command_line(command),
            f"- Demo portal knobs: `{REALISTIC_KNOBS}`",
            "",
            md_table(HEADERS, [cells(r) for r in rows]),
        ]
        if ratios:
            body += ["", md_table(RATIO_HEADERS, ratios)]
        if png is not None:
            body += ["", f"![throughput and memory against workers]({png.name})"]
        update_section("throughput", "\n".join(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
