"""Checks a finished run against what the embedded demo portal served: statuses and every file's bytes.

Used by `popool self-test` (a packaged build checks itself with it) and by the integration tests.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path

from popool_gui.batch.input import normalise_po
from popool_gui.batch.model import COL_DOWNLOADED, COL_FOLDER, COL_FOUND, COL_PO_NUMBER, COL_STATUS, PoStatus
from popool_gui.batch.report import RESULTS_BASENAME
from popool_gui.demo.sample import expected_status
from popool_gui.demo.server import DemoPortal


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected_digests(portal: DemoPortal, po_id: str) -> Counter[str]:
    """The bytes popool should have saved for one PO: its own files, or its requisition's when it has none."""
    spec = portal.po_spec(po_id)
    files = [portal.file_bytes(po_id, a.file_id) for a in spec.attachments]
    if not files:
        files = [portal.file_bytes(po_id, a.file_id) for a in spec.requisition_attachments]
    return Counter(_digest(b) for b in files)


def read_results(output_dir: Path) -> list[dict[str, str]]:
    path = output_dir / f"{RESULTS_BASENAME}.csv"
    text = path.read_text(encoding="utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=";,\t")
    return list(csv.DictReader(text.splitlines(), dialect=dialect))


def verify_run(portal: DemoPortal, output_dir: Path) -> list[str]:
    """Every problem found, as sentences; an empty list means the run is right."""
    problems: list[str] = []
    rows = read_results(output_dir)
    if not rows:
        return [f"no rows in the results file of {output_dir}"]
    for row in rows:
        key, status = row[COL_PO_NUMBER], row[COL_STATUS]
        po_id, _ = normalise_po(key)
        if po_id is None:
            if status != PoStatus.INVALID_PO:
                problems.append(f"{key!r}: expected INVALID_PO, got {status}")
            continue
        want = expected_status(po_id)
        if status != want:
            problems.append(f"{key}: expected {want}, got {status} ({row.get('ERROR_MESSAGE', '')})")
            continue
        if status != PoStatus.COMPLETED:
            continue
        folder = Path(row[COL_FOLDER])
        if not folder.is_absolute():
            folder = output_dir / folder
        if not folder.resolve().is_relative_to(output_dir.resolve()):
            problems.append(f"{key}: folder {folder} is outside {output_dir}")
            continue
        got = Counter(_digest(p.read_bytes()) for p in folder.iterdir() if p.is_file())
        if got != expected_digests(portal, po_id):
            problems.append(f"{key}: files in {folder} differ from what the portal served")
        if row[COL_FOUND] != row[COL_DOWNLOADED]:
            problems.append(f"{key}: COMPLETED with {row[COL_DOWNLOADED]} of {row[COL_FOUND]} files")
    return problems
