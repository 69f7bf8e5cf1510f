"""popool on a real Selenium Grid 4.20 against local browsers, and a Grid of two nodes against one.

    .venv/bin/python benchmarks/grid.py                # 30 POs per run (about 10 min on 2 shared cores)
    .venv/bin/python benchmarks/grid.py --pos 100

Four runs of the same PO list, each with a fresh demo portal with the realistic knobs (`common.REALISTIC_KNOBS`):

- `local`: 2 workers, browsers on this machine (the reference);
- `standalone`: 2 workers on a standalone Grid (one node in the same process, max-sessions 2);
- `hub, 1 node`: 2 workers through a hub and one node with max-sessions 2;
- `hub, 2 nodes`: 4 workers through a hub and two nodes with max-sessions 2 each.

Every Grid is started for its run (tests/grid_server.py: free 127.0.0.1 ports, managed downloads) and stopped
after it. All of it runs on this one machine, so two nodes share its two cores with the hub and popool: the
"two nodes" figure shows what the Grid's scheduling adds, not what two machines would give. The Grid's overhead
per PO is the difference of the median per-PO seconds (the worker's own clock, from taking a PO to its result),
so the sign-in and the browsers' start do not count in it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from common import ROOT, machine_facts, quiet_logs, write_pos  # type: ignore[import-not-found]
from report import DOC, md_table, text_table, update_section  # type: ignore[import-not-found]
from throughput import Row, run_pool  # type: ignore[import-not-found]

from popool_gui.batch.model import Batch
from tests.grid_server import Grid

SECTION = "grid"


def on_grid(batch: Batch, workers: int, folder: Path, **grid_options: object) -> Row:
    """One pool run of `batch` with its browsers on a Grid started for it."""
    started = Grid(folder, **grid_options).start()  # type: ignore[arg-type]
    try:
        return run_pool(batch, workers, per_po=False, overrides={"grid_url": started.url})
    finally:
        started.stop()


def measure(pos: int) -> dict[str, Row]:
    with tempfile.TemporaryDirectory(prefix="popool-bench-grid-") as tmp:
        root = Path(tmp)
        batch = write_pos(root / "pos.csv", pos)
        runs: dict[str, Callable[[], Row]] = {
            "local": lambda: run_pool(batch, 2, per_po=False, overrides={}),
            "standalone": lambda: on_grid(batch, 2, root / "standalone", max_sessions=2),
            "hub, 1 node": lambda: on_grid(batch, 2, root / "hub1", distributed=True, max_sessions=2),
            "hub, 2 nodes": lambda: on_grid(batch, 4, root / "hub2", distributed=True, nodes=2, max_sessions=2),
        }
        rows = {}
        for name, run in runs.items():
            rows[name] = run()
            row = rows[name]
            print(f"{name}: {row.per_min:.1f} POs/min, median {row.median_s:.2f} s/PO, {row.errors} wrong", flush=True)
        return rows


def render(rows: dict[str, Row], pos: int, markdown: bool) -> str:
    headers = ["run", "workers", "POs", "wrong", "POs/min", "median s/PO", "p95 s/PO", "first result s", "load"]
    table = [
        [
            name,
            str(r.workers),
            str(r.pos),
            str(r.errors),
            f"{r.per_min:.1f}",
            f"{r.median_s:.2f}",
            f"{r.p95_s:.2f}",
            f"{r.first_s:.1f}",
            f"{r.load:.1f}",
        ]
        for name, r in rows.items()
    ]
    local, standalone = rows["local"], rows["standalone"]
    one, two = rows["hub, 1 node"], rows["hub, 2 nodes"]
    lines = [
        f"Grid against local, 2 workers each: {standalone.per_min / local.per_min:.2f}x the POs/min; "
        f"the Grid adds {standalone.median_s - local.median_s:+.2f} s per PO (median).",
        f"4 workers on two nodes against 2 workers on one node: {two.per_min / one.per_min:.2f}x the POs/min.",
    ]
    grid = md_table(headers, table) if markdown else text_table(headers, table)
    if not markdown:
        return grid + "\n\n" + "\n".join(lines)
    command = f"`.venv/bin/python benchmarks/grid.py --pos {pos}`"
    return "\n".join(
        [
            "## Selenium Grid",
            "",
            f"Measured with {command} on {_machine()}. Grid 4.20 on this same machine (hub, nodes and "
            "browsers share its cores with popool), demo portal with the realistic knobs, managed downloads, "
            "the local sign-in included in each Grid run. `load` is the machine's 1-minute load average at the "
            "end of each run: the machine is shared, and at loads far above its core count the runs' order "
            "matters more than where the browsers run, so treat single runs as rough.",
            "",
            grid,
            "",
            *(f"- {line}" for line in lines),
        ]
    )


def _machine() -> str:
    facts = machine_facts()
    return f"{facts['cores']} cores, {facts['ram']}, {facts['chromium']}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pos", type=int, default=30, help="POs per run (default 30)")
    p.add_argument("--json", type=Path, help="also write the rows here")
    p.add_argument("--no-doc", action="store_true", help=f"do not update {DOC.relative_to(ROOT)}")
    args = p.parse_args(argv)
    with quiet_logs():
        rows = measure(args.pos)
    print(render(rows, args.pos, markdown=False))
    if args.json:
        args.json.write_text(json.dumps({name: asdict(row) for name, row in rows.items()}, indent=2))
    if not args.no_doc:
        update_section(SECTION, render(rows, args.pos, markdown=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
