"""The results files: `popool-results.csv` (UTF-8 with BOM, the input's delimiter if `;` or `,`, else `;`) and
`popool-results.xlsx`.

Columns: the input's columns in their order, then the result columns of docs/domain.md. An input column that
already is a result column (a results file fed back as input, or an input with its own SUPPLIER) is written
once, at its input position, under the exact result column name.

Formulas: a cell from the input or the portal may start with `=`, `+`, `-` or `@`, and "Open results" opens the
CSV in Excel. In the CSV, a cell whose text came from the portal (`PORTAL_COLUMNS`: supplier, file names, errors,
folder, address) and starts with one of OWASP's formula triggers gets a leading `'`, which Excel shows as text;
the input's own cells stay exactly as the user wrote them. The xlsx keeps every value as is, stored as a string
cell, so Excel never evaluates one.

Both files are written to a temporary file in the output folder and moved into place with `os.replace`, so a
reader sees the old file or the new one, never half of one. When Excel holds the file open (Windows refuses
the replace), popool writes `popool-results-2.<ext>` instead: a fixed name, because the file is rewritten
every few seconds during a run and a new name each time would litter the folder.
"""

from __future__ import annotations

import csv
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.cell import Cell as XlsxCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from popool_gui.batch.input import PO_DATA_SHEET
from popool_gui.batch.layout import long_path, mkstemp_in
from popool_gui.batch.model import (
    ATTACHMENT_NAME_SEPARATOR,
    COL_DOWNLOADED,
    COL_ERROR,
    COL_FOLDER,
    COL_FOUND,
    COL_LAST_PROCESSED,
    COL_NAMES,
    COL_PO_NUMBER,
    COL_SOURCES,
    COL_STATUS,
    COL_SUPPLIER,
    COL_URL,
    PORTAL_COLUMNS,
    RESULT_COLUMNS,
    PoResult,
    PoStatus,
    merged_supplier,
)
from popool_gui.settings import ResultsFormat

log = logging.getLogger(__name__)

RESULTS_BASENAME = "popool-results"
ALTERNATE_SUFFIX = "-2"
REPLACE_TIMEOUT_S = 1.0  # antivirus scanners hold new files briefly; Excel holds them until closed
REPLACE_POLL_S = 0.1
XLSX_MAX_CELL = 32767  # Excel refuses to open a workbook with a longer cell
WIDTH_SAMPLE_ROWS = 500
MIN_WIDTH, MAX_WIDTH = 8, 60
RESULTS_DELIMITERS = (";", ",")  # ";" first: the house format
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's CSV injection list

Cell = str | int
Row = tuple[dict[str, str], PoResult]


@dataclass(frozen=True, slots=True)
class _Column:
    header: str
    input_name: str | None  # the input column at this position, if any
    result_name: str | None  # the result column this position shows, if any


def write_results(
    output_dir: Path,
    input_columns: Sequence[str],
    delimiter: str,
    rows: Iterable[Row],
    fmt: ResultsFormat,
    *,
    protect: Iterable[Path] = (),
) -> list[Path]:
    """Write the results file(s) atomically; return the paths written. `protect` lists files that must never
    be replaced (the input file: a results file fed back as input may sit in the output folder under the
    very name popool writes); a protected or locked target gets the alternate name instead."""
    columns = _columns(input_columns)
    rows = list(rows)
    table = [[_value(column, row, result) for column in columns] for row, result in rows]
    header = [column.header for column in columns]
    kept = [Path(p) for p in protect]
    writers: list[tuple[str, Callable[[Path], None]]] = []
    if fmt in (ResultsFormat.CSV, ResultsFormat.CSV_AND_XLSX):
        csv_table = [
            [_formula_safe(v) if _from_portal(c, row, v) else v for c, v in zip(columns, values, strict=True)]
            for (row, _), values in zip(rows, table, strict=True)
        ]
        writers.append((".csv", lambda tmp: _write_csv(tmp, header, csv_table, delimiter)))
    if fmt in (ResultsFormat.XLSX, ResultsFormat.CSV_AND_XLSX):
        writers.append((".xlsx", lambda tmp: _write_xlsx(tmp, header, table)))
    return [_publish(Path(output_dir), ext, write, kept) for ext, write in writers]


def results_path(output_dir: Path, ext: str) -> Path:
    return Path(output_dir) / f"{RESULTS_BASENAME}{ext}"


# ----------------------------------------------------------------- table


def _columns(input_columns: Sequence[str]) -> list[_Column]:
    columns = [_Column(name, name, None) for name in input_columns]
    for result_name in RESULT_COLUMNS:
        at = next((i for i, c in enumerate(columns) if c.result_name is None and _same(c.header, result_name)), None)
        if at is None:
            columns.append(_Column(result_name, None, result_name))
        else:
            columns[at] = _Column(result_name, columns[at].input_name, result_name)
    return columns


def _same(header: str, result_name: str) -> bool:
    return header.strip().lstrip("\ufeff").strip().casefold() == result_name.casefold()


def _value(column: _Column, row: dict[str, str], result: PoResult) -> Cell:
    given = row.get(column.input_name, "") if column.input_name is not None else ""
    if column.result_name is None:
        return given
    if column.result_name == COL_PO_NUMBER:
        return given if column.input_name is not None else result.key
    if column.result_name == COL_SUPPLIER:
        return merged_supplier(result.supplier, given)
    return _result_value(column.result_name, result)


def _from_portal(column: _Column, row: dict[str, str], value: Cell) -> bool:
    """A portal column's value, unless it is the very text the input has in that column (the user's own)."""
    if column.result_name not in PORTAL_COLUMNS:
        return False
    return column.input_name is None or value != row.get(column.input_name, "")


def _formula_safe(value: Cell) -> Cell:
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) else value


def _result_value(name: str, result: PoResult) -> Cell:
    values: dict[str, Callable[[], Cell]] = {
        # An interrupted PO is not done: the file shows it as PENDING, never as in flight.
        COL_STATUS: lambda: (PoStatus.PENDING if result.status is PoStatus.ASSIGNED else result.status).value,
        COL_FOUND: lambda: result.attachments_found,
        COL_DOWNLOADED: lambda: result.attachments_downloaded,
        COL_NAMES: lambda: ATTACHMENT_NAME_SEPARATOR.join(result.attachment_names),
        COL_SOURCES: lambda: ATTACHMENT_NAME_SEPARATOR.join(result.attachment_sources),
        COL_LAST_PROCESSED: lambda: _local_iso(result.finished_at),
        COL_ERROR: lambda: result.error,
        COL_FOLDER: lambda: result.folder,
        COL_URL: lambda: result.url,
    }
    return values[name]()


def _local_iso(epoch: float | None) -> str:
    return "" if epoch is None else datetime.fromtimestamp(epoch).isoformat(timespec="seconds")


# ----------------------------------------------------------------- formats


def results_delimiter(input_delimiter: str) -> str:
    """The results CSV's delimiter: the input's when it is `;` or `,`, else `;`. Excel opens those two by double
    click (which one depends on the locale), and popool reads both back; a tab, a `|` or whatever an input's
    `sep=` line named would give a file neither reads as the results."""
    return input_delimiter if input_delimiter in RESULTS_DELIMITERS else RESULTS_DELIMITERS[0]


def _write_csv(path: Path, header: list[str], table: list[list[Cell]], delimiter: str) -> None:
    # Excel reads UTF-8 only with a BOM; CRLF is what Excel writes and expects.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=results_delimiter(delimiter), lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(table)


def _write_xlsx(path: Path, header: list[str], table: list[list[Cell]]) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(PO_DATA_SHEET)  # the input reader's sheet: the xlsx can be fed back as input
    _set_widths(sheet, header, table)
    bold = Font(bold=True)
    header_cells = []
    for name in header:
        cell = _text_cell(sheet, name)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for values in table:
        sheet.append([v if isinstance(v, int) else _text_cell(sheet, v) for v in values])
    workbook.save(path)


def _text_cell(sheet: WriteOnlyWorksheet, text: str) -> XlsxCell:  # WriteOnlyCell is a function making a Cell
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", text)[:XLSX_MAX_CELL])
    cell.data_type = "s"  # openpyxl turns "=..." into a formula otherwise
    return cell


def _set_widths(sheet: WriteOnlyWorksheet, header: list[str], table: list[list[Cell]]) -> None:
    for index, name in enumerate(header):
        longest = max([len(name), *(len(str(values[index])) for values in table[:WIDTH_SAMPLE_ROWS])])
        width = min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))
        # The stubs miss column_dimensions, which Worksheet._setup() gives a write-only sheet too.
        sheet.column_dimensions[get_column_letter(index + 1)].width = width  # type: ignore[attr-defined]


# ----------------------------------------------------------------- atomic publish


def _publish(output_dir: Path, ext: str, write: Callable[[Path], None], protect: list[Path]) -> Path:
    target = results_path(output_dir, ext)
    candidates = [p for p in (target, target.with_stem(target.stem + ALTERNATE_SUFFIX)) if not _is_any(p, protect)]
    fd, tmp = mkstemp_in(output_dir, prefix=f".{RESULTS_BASENAME}-", suffix=f"{ext}.tmp")
    os.close(fd)
    try:
        write(tmp)
        for dest in candidates:
            try:
                _replace(tmp, long_path(dest))
            except PermissionError:
                log.warning("results file %s is locked (open in Excel?); trying another name", dest)
                continue
            if dest != target:
                log.warning("results written to %s instead of %s", dest, target)
            return dest
        raise PermissionError(
            f"cannot write the results file {target} or {target.stem}{ALTERNATE_SUFFIX}{ext}: they are the input "
            f"file or open in another program (Excel?); close them and the next write will succeed"
        )
    finally:
        tmp.unlink(missing_ok=True)


def _replace(tmp: Path, dest: Path) -> None:
    """os.replace, retried until REPLACE_TIMEOUT_S while Windows reports the target locked."""
    deadline = time.monotonic() + REPLACE_TIMEOUT_S
    while True:
        try:
            os.replace(tmp, dest)
            return
        except PermissionError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(REPLACE_POLL_S)


def _is_any(path: Path, others: list[Path]) -> bool:
    return any(_same_file(path, other) for other in others)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()
