"""The fast paths one at a time, each behind its setting, on one persistent browser (sequential mode).

    .venv/bin/python benchmarks/fastpaths.py               # 40 POs per variant, about 8 min on 2 cores
    .venv/bin/python benchmarks/fastpaths.py --pos 20

One browser without a pool isolates what each setting changes in the per-PO work: no process start-up or
dispatch is in the figures. Same PO list, fresh demo portal (realistic knobs) and fresh browser per variant.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from common import chromium_count, command_line, machine_facts, marked_leftovers, quiet_logs, write_pos  # type: ignore[import-not-found]
from report import md_table, text_table, update_section  # type: ignore[import-not-found]
from throughput import HEADERS, cells, parse_overrides, run_seq  # type: ignore[import-not-found]

VARIANTS: tuple[dict[str, object], ...] = (
    {},
    {"direct_download": True},
    {"block_resources": True},
    {"tabs_per_worker": 2},
    {"tabs_per_worker": 3},
    {"tabs_per_worker": 2, "direct_download": True, "block_resources": True},
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pos", type=int, default=40)
    p.add_argument("--variant", action="append", default=[], metavar="FIELD=VALUE[,FIELD=VALUE]",
                   help="run only these variants (repeatable); default: the built-in list")  # fmt: skip
    p.add_argument("--no-doc", action="store_true")
    args = p.parse_args(argv)
    variants = [parse_overrides(v.split(",")) for v in args.variant] if args.variant else list(VARIANTS)
    command = "python benchmarks/fastpaths.py " + " ".join(argv if argv is not None else sys.argv[1:])
    rows = []

    with quiet_logs(), tempfile.TemporaryDirectory(prefix="popool-fast-") as tmp:
        batch = write_pos(Path(tmp) / "pos.csv", args.pos)
        for overrides in variants:
            t = time.monotonic()
            row = run_seq(batch, dict(overrides))
            rows.append(row)
            print(f"{row.settings}: {row.per_min:.1f} POs/min ({time.monotonic() - t:.0f} s)", file=sys.stderr)
    table = [cells(r) for r in rows]
    print(text_table(HEADERS, table))
    print(f"chrom* processes on the machine (other users included): {chromium_count()}; "
          f"ours left (environment mark): {len(marked_leftovers())}")  # fmt: skip
    if not args.no_doc:
        facts = machine_facts()
        update_section(
            "fastpaths",
            "\n".join(
                [
                    "## Fast paths, one at a time (one persistent browser)",
                    "",
                    f"Written by `benchmarks/fastpaths.py` on {time.strftime('%Y-%m-%d %H:%M')}.",
                    "",
                    f"- Machine: {facts['cores']} cores, {facts['ram']} RAM, {facts['chromium']}",
                    command_line(command),
                    "",
                    md_table(HEADERS, table),
                ]
            ),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
