"""popool against a plain Playwright script, in one run, on the same demo portals and POs.

    .venv/bin/pip install -e '.[bench]'     # playwright; its browser download is not needed (system Chromium)
    .venv/bin/python benchmarks/peer.py                  # about 15 min on 2 cores
    .venv/bin/python benchmarks/peer.py --pos 30 --portals demo-0 --no-doc

The script is what a user would write in an afternoon: one browser, N pages in flight, each PO opened, a look for
the portal's not-found and denied texts, then a wait for the first attachment link (up to the profile's
`empty_wait_ms`) and for the network to go idle, its links clicked and saved, the requisition's when the PO has
none. It gets workers x tabs pages in flight (the same as popool) and 4. Portals: the demo at 0 and 400 ms page
latency, the `other` skin with lists 0-3 s late, and lists in two batches 1.5 s apart. A wrong verdict is a
status, or for a COMPLETED PO a set of files, that differs from the portal's own data. POs/min count from the
start (browsers started, signed in) to the last result.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import ROOT, BenchListener, bench_settings, machine_facts, provenance, quiet_logs  # type: ignore[import-not-found]
from report import md_table, text_table, update_section  # type: ignore[import-not-found]

from popool_gui.browser.portal import PortalProfile
from popool_gui.demo.sample import expected_status, write_sample_csv
from popool_gui.demo.server import DemoPortal, demo_portal
from popool_gui.demo.skins import Skin
from popool_gui.pool.controller import PoolController
from popool_gui.run_setup import plan_run
from popool_gui.settings import Settings

CHROMIUM = "/usr/bin/chromium"
OTHER_PROFILE = ROOT / "tests" / "portals" / "other.toml"
SMALL_FILES = {"attachment_size_range": (5_000, 60_000)}
PORTALS: dict[str, tuple[str, dict[str, Any], Skin]] = {
    "demo-0": ("coupa", {**SMALL_FILES, "page_latency_ms": 0}, Skin.COUPA),
    "demo-400": ("coupa", {**SMALL_FILES, "page_latency_ms": 400}, Skin.COUPA),
    "other-late": (
        str(OTHER_PROFILE),
        {**SMALL_FILES, "skin": "other", "js_render_delay_ms": 0, "js_render_delay_max_ms": 3000},
        Skin.OTHER,
    ),
    "two-batches": ("coupa", {**SMALL_FILES, "second_batch_ms": 1500}, Skin.COUPA),
}
HEADERS = ["portal", "side", "pages in flight", "POs", "POs/min", "popool / script", "wrong", "first result (s)"]


@dataclass(slots=True)
class Row:
    portal: str
    side: str
    in_flight: int
    pos: int
    per_min: float
    wrong: int
    first_s: float
    ratio: str = "-"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wrong_verdicts(demo: DemoPortal, skin: Skin, outcomes: dict[str, tuple[str, list[Path]]]) -> list[str]:
    """Each PO's (status, files) against the portal's data: the status, and for COMPLETED the files' bytes."""
    wrong = []
    for po_id, (status, files) in outcomes.items():
        want = expected_status(po_id, skin=skin)
        if status != want:
            wrong.append(f"{po_id}: {status} not {want}")
            continue
        if status != "COMPLETED":
            continue
        spec = demo.po_spec(po_id)
        files_of_po = spec.attachments or spec.requisition_attachments
        expected = Counter(digest(demo.file_bytes(po_id, a.file_id)) for a in files_of_po)
        if Counter(digest(p.read_bytes()) for p in files) != expected:
            wrong.append(f"{po_id}: {len(files)} files of {len(files_of_po)}, or their bytes differ")
    return wrong


# -- the plain script ------------------------------------------------------------------------------------------


async def script_po(page: Any, portal: PortalProfile, po_id: str, folder: Path) -> tuple[str, list[Path]]:
    await page.goto(portal.po_url_for(po_id))
    text = (await page.inner_text("body")).lower()
    if any(t.lower() in text for t in portal.detect.not_found_text):
        return "PO_NOT_FOUND", []
    denied = any(t.lower() in text for t in portal.detect.access_denied_text)
    if denied or any([await page.query_selector(s) for s in portal.detect.error_selectors]):
        return "ACCESS_DENIED", []
    links = await script_links(page, portal)
    if not links and portal.requisition.enabled:
        req = await page.query_selector(", ".join(portal.requisition.link_selectors))
        if req is not None:
            await page.goto(await req.evaluate("e => e.closest('a').href"))
            links = await script_links(page, portal)
    if not links:
        return "NO_ATTACHMENTS", []
    saved: list[Path] = []
    for number, link in enumerate(links):
        try:
            async with page.expect_download(timeout=30_000) as info:
                await link.click()
            download = await info.value
            path = folder / po_id / f"{number}_{download.suggested_filename}"
            await download.save_as(path)
            saved.append(path)
        except Exception:  # a failed download is a missing file, as the plain script counts it
            continue
    status = "COMPLETED" if len(saved) == len(links) else "PARTIAL" if saved else "FAILED"
    return status, saved


async def script_links(page: Any, portal: PortalProfile) -> list[Any]:
    """The list as a plain script sees it: once the first link shows and the network has gone idle, or none after
    the profile's empty wait."""
    selector = ", ".join(portal.attachments.selectors)
    with contextlib.suppress(Exception):  # Playwright's TimeoutError: no link within the wait
        await page.wait_for_selector(selector, timeout=portal.attachments.empty_wait_ms)
        await page.wait_for_load_state("networkidle")
    # A span inside its link matches as well as the link: one click per attachment.
    count = await page.eval_on_selector_all(selector, _MARK_JS)
    return [page.locator(f"[data-peer='{n}']") for n in range(count)]


_MARK_JS = """els => {
  const keep = [];
  for (const e of els) {
    const t = e.closest('a') || e;
    if (!keep.some(k => k.contains(t) || t.contains(k))) keep.push(t);
  }
  keep.forEach((t, i) => t.setAttribute('data-peer', String(i)));
  return keep.length;
}"""


async def run_script(demo: DemoPortal, portal: PortalProfile, ids: list[str], pages: int, folder: Path) -> Row:
    from playwright.async_api import async_playwright

    started = time.monotonic()
    first: list[float] = []
    outcomes: dict[str, tuple[str, list[Path]]] = {}
    queue = list(ids)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        context = await browser.new_context(accept_downloads=True)

        async def worker() -> None:
            page = await context.new_page()
            await page.goto(portal.base_url)  # signs in (the demo signs in on the home page)
            while queue:
                po_id = queue.pop(0)
                try:
                    outcomes[po_id] = await script_po(page, portal, po_id, folder)
                except Exception as exc:  # a timeout or a crashed page: the plain script's FAILED
                    outcomes[po_id] = (f"FAILED ({type(exc).__name__})", [])
                first.append(time.monotonic() - started)

        await asyncio.gather(*(worker() for _ in range(pages)))
        await browser.close()
    elapsed = time.monotonic() - started
    wrong = wrong_verdicts(demo, _skin(demo), outcomes)
    return Row("", "script", pages, len(ids), len(ids) / elapsed * 60, len(wrong), min(first, default=0.0))


# -- popool ------------------------------------------------------------------------------------------------------


def run_popool(settings: Settings, sample: Path, demo: DemoPortal) -> Row:
    plan = plan_run(settings, sample)
    listener = BenchListener()
    controller = PoolController(settings, plan.batch, listener, portal=plan.portal)
    listener.t0 = time.monotonic()
    controller.run()
    finals = listener.final
    last = max(listener.finish_times, default=float("nan"))
    out = Path(settings.output_dir)
    outcomes: dict[str, tuple[str, list[Path]]] = {}
    for record in plan.batch.records:
        result = finals.get(record.key)
        if result is None:
            outcomes[record.po_id] = ("MISSING", [])
            continue
        folder = out / result.folder if result.folder else None
        files = [p for p in folder.iterdir() if p.is_file()] if folder else []
        outcomes[record.po_id] = (str(result.status), files)
    wrong = wrong_verdicts(demo, _skin(demo), outcomes)
    in_flight = settings.workers * settings.tabs_per_worker
    first = min(listener.finish_times, default=float("nan"))
    return Row("", "popool", in_flight, len(outcomes), len(finals) / last * 60, len(wrong), first)


def _skin(demo: DemoPortal) -> Skin:
    return demo.knobs.skin


def run_portal(name: str, pos: int, tmp: Path, workers: int, tabs: int) -> list[Row]:
    profile, knobs, skin = PORTALS[name]
    rows: list[Row] = []
    with demo_portal(**knobs) as demo:
        sample = write_sample_csv(tmp / f"{name}.csv", pos, include_specials=False, skin=skin)
        settings = bench_settings(
            demo.url, tmp / f"{name}-popool", workers, portal=profile, page_timeout_s=30.0, tabs_per_worker=tabs
        )
        plan = plan_run(settings, sample)
        ids = [r.po_id for r in plan.batch.records]
        popool = run_popool(settings, sample, demo)
        rows.append(popool)
        for pages in sorted({popool.in_flight, 4}):
            rows.append(asyncio.run(run_script(demo, plan.portal, ids, pages, tmp / f"{name}-script-{pages}")))
    for row in rows:
        row.portal = name
    scripts = {r.in_flight: r for r in rows if r.side == "script"}
    at_four = scripts[4].per_min
    popool.ratio = (
        f"{popool.per_min / at_four:.2f}x at 4, {popool.per_min / scripts[popool.in_flight].per_min:.2f}x equal"
    )
    return rows


def cells(row: Row) -> list[str]:
    return [
        row.portal,
        row.side,
        str(row.in_flight),
        str(row.pos),
        f"{row.per_min:.1f}",
        row.ratio,
        str(row.wrong),
        f"{row.first_s:.1f}",
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pos", type=int, default=40, help="rows of the sample per portal (default 40)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--tabs", type=int, default=Settings().tabs_per_worker, help="popool's tabs per worker")
    p.add_argument("--portals", default=",".join(PORTALS), help=f"comma-separated, of {', '.join(PORTALS)}")
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = p.parse_args(argv)
    command = "python benchmarks/peer.py " + " ".join(argv if argv is not None else sys.argv[1:])
    rows: list[Row] = []
    started = time.monotonic()
    with quiet_logs(), tempfile.TemporaryDirectory(prefix="popool-peer-") as tmp:
        for name in [n.strip() for n in args.portals.split(",") if n.strip()]:
            t = time.monotonic()
            rows += run_portal(name, args.pos, Path(tmp), args.workers, args.tabs)
            print(f"[{time.monotonic() - started:5.0f} s] {name}: {time.monotonic() - t:.0f} s", file=sys.stderr)
    table = [cells(r) for r in rows]
    print(text_table(HEADERS, table))
    if not args.no_doc:
        facts = machine_facts()
        body = [
            "## Peer: popool against a plain Playwright script",
            "",
            f"Written by `benchmarks/peer.py` on {time.strftime('%Y-%m-%d %H:%M')} "
            f"(whole benchmark {(time.monotonic() - started) / 60:.1f} min), popool with {args.workers} workers "
            f"and {args.tabs} tabs per worker (the default is {Settings().tabs_per_worker}).",
            "",
            *provenance(facts, command),
            "- Portals: " + "; ".join(f"`{name}` {knobs}" for name, (_, knobs, _) in PORTALS.items()),
            "- Script: Playwright with the system Chromium, a page per PO in flight; not-found and denied texts, then "
            "a wait for the first link (up to `empty_wait_ms`) and network-idle, its links clicked and saved (the "
            "requisition's when the PO has none).",
            "",
            md_table(HEADERS, table),
        ]
        update_section("peer", "\n".join(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
