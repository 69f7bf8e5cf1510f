"""Inputs built to exhaust memory are refused (or read) by a popool process that stays under 300 MB and a few
seconds: the reader runs in a child process that reports its own peak RSS."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.xlsx_bombs import (
    SHEET,
    declared_whole_sheet,
    huge_shared_strings,
    repeated,
    sheet_without_dimension,
    small_workbook,
    write_workbook,
)

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS from Linux's /proc")

MAX_RSS_MB = 300
GIB = 1024**3
SHEET_HEAD = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_TAIL = b"</sheetData></worksheet>"
# The child's own high-water mark: VmHWM belongs to its address space. (getrusage's ru_maxrss would not do: Linux
# carries it over execve, so it can report the RSS of the test process that started the child.)
READER = """
import json, re, sys
from pathlib import Path
from popool_gui.batch.input import InputError, read_batch
try:
    batch = read_batch(Path(sys.argv[1]))
    outcome = f"read {len(batch.records)} POs"
except InputError as exc:
    outcome = str(exc)
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"outcome": outcome, "peak_mb": peak_kb / 1024}))
"""


def read_in_child(path: Path) -> tuple[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", READER, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    report = json.loads(done.stdout)
    return report["outcome"], report["peak_mb"]


def sheet(path: Path, body: bytes, inflated: int, head: bytes = SHEET_HEAD, tail: bytes = SHEET_TAIL) -> Path:
    members = small_workbook([["PO_NUMBER"]])
    members[SHEET] = repeated(head, body, tail, inflated)
    return write_workbook(path, members)


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "3 MB sheet inflating to 1 GB, no dimension": (
        lambda p: sheet_without_dimension(p, GIB),
        "is too big to read: it inflates to 1,024 MB, more than the 256 MB popool unpacks.",
    ),
    "1 GB shared-strings table": (
        lambda p: huge_shared_strings(p, GIB),
        "is too big to read: it inflates to 1,024 MB, more than the 256 MB popool unpacks.",
    ),
    "tiny file declaring A1:XFD1048576": (declared_whole_sheet, "read 1 POs"),
    "200 MB of rows within the inflated limit": (
        lambda p: sheet(p, b'<row><c t="inlineStr"><is><t>PO123456</t></is></c></row>', 200 * 1024**2),
        "is too big to read: it has a sheet of more than 100,000 rows.",
    ),
    "one row of 200 MB of cells": (
        lambda p: sheet(p, b"<c/>", 200 * 1024**2, SHEET_HEAD + b"<row>", b"</row>" + SHEET_TAIL),
        "is too big to read: it has a sheet of more than 1,000 columns.",
    ),
    "one text of 200 MB": (
        lambda p: sheet(p, b"x", 200 * 1024**2, SHEET_HEAD + b'<row><c t="inlineStr"><is><t>', b"</t></is></c></row>"),
        "more than an Excel cell can hold.",
    ),
    "one tag of 200 MB": (
        lambda p: sheet(p, b"y", 200 * 1024**2, SHEET_HEAD + b'<row><c r="A1" x="', b'"/></row>' + SHEET_TAIL),
        f"is too big to read: it has a tag larger than 1 MB in {SHEET}.",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_xlsx_bomb_costs_less_than_300_mb(tmp_path: Path, case: str) -> None:
    make, expected = CASES[case]
    path = make(tmp_path / "orders.xlsx")
    assert path.stat().st_size < 5 * 1024**2
    outcome, peak_mb = read_in_child(path)
    assert expected in outcome
    assert peak_mb < MAX_RSS_MB, f"{case}: peak {peak_mb:.0f} MB"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_link_to_dev_zero_costs_nothing(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").symlink_to("/dev/zero")
    outcome, peak_mb = read_in_child(tmp_path / "orders.csv")
    assert "it is a device" in outcome and peak_mb < MAX_RSS_MB
