"""API mode against the browser pool: POs/min on the same demo data at 0 and 400 ms latency per request/page.

    .venv/bin/python benchmarks/api.py                      # 20 POs in the browser, 100 by API, each latency
    .venv/bin/python benchmarks/api.py --browser-pos 10 --api-pos 50 --latencies 400

The browser pool is the default a user gets (2 workers, default tabs); API mode its defaults (one lane, 20
requests/s, 12 POs at once). The demo portal's API refuses anything above 25 requests in a second (Coupa's
limit) with 429, so "429s" counts every time API mode went over it; "peak/s" is the most requests the portal
accepted within one second. "wrong" counts POs whose status differs from what the demo data says.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import bench_settings, quiet_logs, status_errors, write_pos  # type: ignore[import-not-found]

from popool_gui.api.access import ApiAccess
from popool_gui.api.engine import api_run
from popool_gui.batch.journal import Journal
from popool_gui.batch.model import Batch
from popool_gui.browser.portal import load_portal
from popool_gui.demo.server import DemoPortal, demo_portal
from popool_gui.pool.controller import PoolController
from popool_gui.settings import RunMode, Settings

COUPA_LIMIT_PER_S = 25


@dataclass(frozen=True, slots=True)
class Row:
    mode: str
    latency_ms: int
    pos: int
    seconds: float
    wrong: int
    requests_per_s: float = 0.0
    peak_per_s: int = 0
    rejected: int = 0

    @property
    def per_min(self) -> float:
        return self.pos / self.seconds * 60


def _browser(portal: DemoPortal, root: Path, count: int, latency_ms: int) -> Row:
    batch = write_pos(root / "browser.csv", count)
    settings = bench_settings(portal.url, root / "browser", workers=2, keep_awake=False)
    started = time.monotonic()
    PoolController(settings, batch).run()
    return Row("browser pool", latency_ms, count, time.monotonic() - started, _wrong(settings, batch))


def _wrong(settings: Settings, batch: Batch) -> int:
    with Journal.open(Path(settings.output_dir), batch) as journal:
        return len(status_errors(journal.all_results()))


def _api(portal: DemoPortal, root: Path, count: int, latency_ms: int) -> Row:
    batch = write_pos(root / "api.csv", count, seed=8)
    settings = bench_settings(
        portal.url, root / "api", workers=1, keep_awake=False, mode=RunMode.API, api_client_id="popool-demo"
    )
    # As the engine builds it for a portal on this machine: no wait for a new token (ApiAccess.local).
    access = ApiAccess(portal.url, "popool-demo", "demo-secret", rate_per_s=settings.api_rate_per_s).local()
    run = api_run(settings, load_portal("demo", portal.url), access)
    before = portal.api.requests
    started = time.monotonic()
    PoolController(
        run.settings, batch, portal=run.portal, worker_target=run.worker_target, queue_depth=run.queue_depth
    ).run()
    seconds = time.monotonic() - started
    requests = portal.api.requests - before
    return Row(
        "API",
        latency_ms,
        count,
        seconds,
        _wrong(settings, batch),
        requests_per_s=requests / seconds,
        peak_per_s=portal.api.peak_per_s,
        rejected=portal.api.rejected,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--browser-pos", type=int, default=20)
    parser.add_argument("--api-pos", type=int, default=100)
    parser.add_argument("--latencies", type=int, nargs="+", default=[0, 400])
    args = parser.parse_args(argv)
    quiet_logs()
    rows: list[Row] = []
    for latency in args.latencies:
        for mode in ("browser", "api"):
            # A fresh portal per run: the API's rate window and counters start empty.
            with (
                tempfile.TemporaryDirectory(prefix="popool-bench-api-") as tmp,
                demo_portal(page_latency_ms=latency, api_rate_per_s=COUPA_LIMIT_PER_S) as portal,
            ):
                if mode == "browser":
                    rows.append(_browser(portal, Path(tmp), args.browser_pos, latency))
                else:
                    rows.append(_api(portal, Path(tmp), args.api_pos, latency))
            print(_line(rows[-1]), flush=True)
    print("\n| latency | mode | POs | seconds | POs/min | wrong | req/s | peak/s | 429s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row.latency_ms} ms | {row.mode} | {row.pos} | {row.seconds:.1f} | {row.per_min:.0f} | {row.wrong} "
            f"| {row.requests_per_s:.1f} | {row.peak_per_s} | {row.rejected} |"
        )
    for latency in args.latencies:
        browser = next(r for r in rows if r.latency_ms == latency and r.mode == "browser pool")
        api = next(r for r in rows if r.latency_ms == latency and r.mode == "API")
        print(f"{latency} ms: API mode {api.per_min / browser.per_min:.1f}x the browser pool")
    return 0


def _line(row: Row) -> str:
    return f"{row.mode:12} {row.latency_ms:4d} ms  {row.pos:4d} POs  {row.seconds:6.1f} s  {row.per_min:6.0f}/min"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
