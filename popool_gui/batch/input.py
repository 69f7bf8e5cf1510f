"""Reading a list of PO numbers (CSV/TXT or XLSX) into a `Batch`, with every data row accounted for.

A file that cannot be used raises `InputError`, whose message names the file and says what to do. A file that
can be used never loses a row: each one becomes a record, an invalid row, a duplicate or an already-completed row.
The input file is only ever read.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import hashlib
import io
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import openpyxl

from popool_gui.batch.model import (
    COL_PO_NUMBER,
    COL_STATUS,
    COL_SUPPLIER,
    DEFAULT_PO_ID_REGEX,
    HIERARCHY_SEPARATOR_COLUMN,
    UNKNOWN_LEVEL,
    Batch,
    PoRecord,
    PoStatus,
    RowProblem,
)
from popool_gui.batch.xlsx_limits import XlsxLimits, XlsxTooBig, check_workbook
from popool_gui.safe_text import ECHO_LIMIT, printable

MAX_INPUT_BYTES = 100 * 1024 * 1024  # a very wide 10,000-row export is ~50 MB; beyond this, a mistake
MAX_ROWS = 100_000  # ten times the largest batch seen in the field; a million rows would take seconds and GBs
MAX_COLUMNS = 1_000  # wide exports have a few hundred
MAX_CELLS = 2_000_000  # about 100 MB once read: 100,000 rows of 20 columns, or 10,000 of 200
PO_DATA_SHEET = "PO_Data"
TEXT_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
# What the CLI reads and the window accepts: the one list of input file types.
INPUT_SUFFIXES: tuple[str, ...] = tuple(sorted(TEXT_SUFFIXES | EXCEL_SUFFIXES))
XLSX_DELIMITER = ","

_DELIMITERS = (";", ",", "\t")  # order breaks ties: ";" is the house format
_STRICT_ENCODINGS = ("utf-8-sig", "cp1252")  # utf-8-sig also reads UTF-8 without a BOM
_FORMULA_STARTS = ("=", "+", "@")  # a spreadsheet would evaluate these: never treat them as data
_EXAMPLES = "PO15262984, PM15492200 or 15262984"
_MIN_DIGITS = 6
# Longer than any portal's PO number (Coupa's are 8-12 characters); a whole paragraph pasted in a cell is not one.
MAX_PO_CHARS = 30

_SHOWN_COLUMNS = 8  # header names a message lists before "and N more"

_EXCEL_INTEGER = re.compile(r"(\d+)\.0+")  # how Excel exports a number cell: 15262984.0
_EXCEL_SCIENTIFIC = re.compile(r"\d+(?:[.,]\d+)?E\+?\d+", re.IGNORECASE)
_PO_SHAPE = re.compile(r"(?:P[OM])?[\s-]*(\d*)", re.IGNORECASE | re.ASCII)
_SEP_LINE = re.compile(r"sep=(.)\r?\n")  # Excel's own hint line for the delimiter
_NOT_DELIMITERS = frozenset('"\r\n')  # a sep= line naming one of these would make the file unreadable as CSV
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_FIELD_LIMIT_ERROR = "field larger than field limit"  # how the csv module says a cell is too long

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook is one: if so, give it the .xlsx extension)"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls workbook (save it as .xlsx or .csv)"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode Text" export
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX only; Windows has no named pipes in its file system
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows only


class InputError(Exception):
    """The input file cannot be loaded; the message names the file and says what to do."""


def normalise_po(text: str, regex: str = DEFAULT_PO_ID_REGEX) -> tuple[str | None, str]:
    """Return `(po_id, "")` for a usable PO value, else `(None, reason)` with a reason a person understands.

    The value is trimmed and matched case-insensitively in full against `regex`, whose group 1 (or the whole
    match when it has no group) is the portal id, at most MAX_PO_CHARS long. Only ASCII digits count as digits.
    Never raises for any text; an invalid `regex` raises `re.error` (`read_batch` reports that as an `InputError`).
    """
    value = _clean(text)
    if not value:
        return None, "empty PO number"
    if value.startswith(_FORMULA_STARTS):
        return None, f"looks like a spreadsheet formula (starts with {value[0]!r}): type the PO number as plain text"
    number = _EXCEL_INTEGER.fullmatch(value)
    if number:
        value = number.group(1)
    match = _compile(regex).fullmatch(value)
    if match:
        po_id = match.group(1) if match.re.groups else match.group(0)
        if len(po_id) > MAX_PO_CHARS:
            return None, f"too long for a PO number ({len(po_id):,} characters, at most {MAX_PO_CHARS})"
        if po_id:
            return po_id, ""
    return None, _why_invalid(value, regex)


def read_batch(path: Path, po_id_regex: str = DEFAULT_PO_ID_REGEX) -> Batch:
    """Read a `.csv`/`.txt`/`.tsv` or `.xlsx` file of PO numbers into a `Batch`.

    Text files: encoding tried as UTF-16 (with BOM), UTF-8 (BOM stripped), cp1252, then latin-1; delimiter `;`,
    `,` or tab, counted in the header line (ties go to `;`), or Excel's `sep=` first line. Workbooks: sheet
    `PO_Data` if present, else the first sheet; numbers, dates and booleans become text as Excel shows them.

    The PO column is `PO_NUMBER` (case, surrounding spaces and underscore/space differences ignored). A file with a
    single column may lack it: when its first line looks like a PO (or holds digits) the file has no header and its
    column is named `PO_NUMBER`; otherwise the first line is the header and some values must be POs.

    `row_number` counts data rows after the header line, 1-based, blank rows included, so it is the spreadsheet
    row minus one when the header is on the first line. Blank rows are skipped. Duplicates are by portal id (the
    first row wins, later ones go to `duplicates`); rows whose `STATUS` is COMPLETED go to `already_completed`.
    Every column is kept with its value untouched; a blank or repeated header gets a generated name (`COLUMN_<n>`,
    `<name>_2`) so that no value is lost, as do values beyond the header's last column.
    """
    path = Path(path).absolute()
    _check_pattern(po_id_regex)
    data = _read_bytes(path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        table, delimiter = _xlsx_table(path, data), XLSX_DELIMITER
    else:
        table, delimiter = _text_table(path, data)
    return _BatchBuilder.build(path, data, table, delimiter, po_id_regex)


# --- PO values -----------------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _compile(regex: str) -> re.Pattern[str]:
    return re.compile(regex, re.IGNORECASE | re.ASCII)


def _clean(text: str) -> str:
    """Trim, and drop the invisible characters copy-paste brings along (NBSP, zero-width spaces, BOM)."""
    value = str(text)
    if not value.isascii():
        value = "".join(ch for ch in value if unicodedata.category(ch) != "Cf")
        value = " ".join(value.split())  # any Unicode space becomes a plain one the pattern's \s matches
    return value.strip()


def _why_invalid(value: str, regex: str) -> str:
    if _EXCEL_SCIENTIFIC.fullmatch(value):
        return "looks like Excel scientific notation, which loses digits: format the column as Text and export again"
    if regex != DEFAULT_PO_ID_REGEX:
        return f"not a PO number (does not match the pattern {regex})"
    shape = _PO_SHAPE.fullmatch(value)
    if shape:
        return f"fewer than {_MIN_DIGITS} digits (found {len(shape.group(1))})"
    return f"not a PO number (expected e.g. {_EXAMPLES})"


def _check_pattern(regex: str) -> None:
    try:
        _compile(regex)
    except re.error as exc:
        raise InputError(
            f"The PO id pattern {regex!r} is not a valid regular expression ({exc}). Fix it in the settings."
        ) from exc


# --- reading the file ----------------------------------------------------------------------------------------


def _fail(path: Path, problem: str, advice: str) -> InputError:
    return InputError(f"{printable(str(path))} {problem}. {advice}")


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, read only from a regular file and never more than MAX_INPUT_BYTES of them: a named pipe
    would block forever and a device (`/dev/zero`) or a file system that reports 0 bytes would read without end."""
    suffix = path.suffix.lower()
    try:
        kind = _file_kind(os.stat(path).st_mode)
        if kind == "a folder":
            raise _fail(path, "is a folder, not a file", "Choose the CSV or Excel file inside it.")
        if suffix not in INPUT_SUFFIXES:
            raise _fail(path, f"has an unsupported type ({suffix or 'no extension'})", _unsupported_advice(suffix))
        if kind:
            raise _not_regular(path, kind)
        # O_NONBLOCK: had the file become a pipe since the stat, opening it must not wait for a writer.
        with os.fdopen(os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_BINARY), "rb") as f:
            kind = _file_kind(os.fstat(f.fileno()).st_mode)
            if kind:
                raise _not_regular(path, kind)
            data = f.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError as exc:
        raise _fail(path, "was not found", "Check the path, or pick the file again.") from exc
    except PermissionError as exc:
        raise _fail(
            path,
            "cannot be read: another program has it open or you lack permission",
            "If it is open in Excel, close it in Excel and try again.",
        ) from exc
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise _fail(path, "has a name too long for the file system", "Rename it or its folder shorter.") from exc
        raise _fail(
            path, f"cannot be read ({exc.strerror or exc})", "Copy it to a local folder and try again."
        ) from exc
    if len(data) > MAX_INPUT_BYTES:
        raise _fail(
            path,
            f"is more than the {MAX_INPUT_BYTES // 1_048_576} MB popool reads",
            "Keep only the columns you need, or split it into several files.",
        )
    return data


def _file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words; "" for a regular file."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _not_regular(path: Path, kind: str) -> InputError:
    return _fail(path, f"is not a file popool can read: it is {kind}", "Save the PO list as a .csv or .xlsx file.")


def _unsupported_advice(suffix: str) -> str:
    if suffix in {".xls", ".xlsb", ".ods", ".numbers"}:
        return "Open it and save it as Excel Workbook (.xlsx) or CSV (.csv)."
    return "popool reads .csv, .txt and .xlsx files: export the PO list in one of those formats."


def _looks_like(data: bytes) -> str | None:
    return next((what for magic, what in _MAGIC if data.startswith(magic)), None)


def _empty(path: Path) -> InputError:
    return _fail(path, "is empty", f"It needs a {COL_PO_NUMBER} header line and one PO number per line.")


def _text_table(path: Path, data: bytes) -> tuple[list[list[str]], str]:
    text = _decode(path, data)
    if not text.strip():
        raise _empty(path)
    sep_line = _SEP_LINE.match(text)
    if sep_line:
        delimiter, text = sep_line.group(1), text[sep_line.end() :]
        if delimiter in _NOT_DELIMITERS:
            raise _fail(
                path,
                f"starts with the line sep={printable(delimiter)}, which names no usable delimiter",
                "Remove that first line, or write sep=; or sep=, instead.",
            )
    else:
        delimiter = _sniff_delimiter(text)
    return _parse_csv(path, text, delimiter), delimiter


def _parse_csv(path: Path, text: str, delimiter: str) -> list[list[str]]:
    """Parse strictly first: the lenient reader silently swallows the rest of a file after an unclosed quote."""
    reader = csv.reader(_lines(text), delimiter=delimiter, strict=True)
    rows = _RowLines(reader)
    try:
        return _limit_rows(path, rows)
    except csv.Error as exc:
        if "end of data" in str(exc) or _FIELD_LIMIT_ERROR in str(exc):
            raise _csv_error(path, rows, exc) from exc
    # Like Excel, accept text after a closing quote ("Acme"Ltd), which only the strict reader refuses.
    rows = _RowLines(csv.reader(_lines(text), delimiter=delimiter))
    try:
        return _limit_rows(path, rows)
    except csv.Error as exc:
        raise _csv_error(path, rows, exc) from exc


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` with their endings (\r\n, \r or \n), as a file opened with newline="" gives them,
    one at a time: io.StringIO would copy the text at four bytes a character."""
    return (match.group() for match in _LINE.finditer(text))


@dataclass
class _RowLines:
    """A CSV reader that remembers on which line the row it is reading began."""

    reader: Any  # a csv reader (its type is private to the csv module)
    row_start: int = 1

    def __iter__(self) -> Iterator[list[str]]:
        for row in self.reader:
            yield row
            self.row_start = self.reader.line_num + 1

    @property
    def line(self) -> int:
        return self.reader.line_num

    @property
    def one_line(self) -> bool:
        """Whether the row read so far lies on one line: no quoted cell has run on over line breaks."""
        return self.reader.line_num <= self.row_start


def _limit_rows(path: Path, rows: Iterable[list[str]]) -> list[list[str]]:
    """Stop reading as soon as the file proves too long or too wide, before it costs seconds and memory."""
    table: list[list[str]] = []
    cells = 0
    for cells_in_row in rows:
        table.append(cells_in_row)
        if len(table) > MAX_ROWS + 1:  # a header and MAX_ROWS data rows
            raise _fail(path, f"has more than {MAX_ROWS:,} rows", f"Split it into files of at most {MAX_ROWS:,} POs.")
        if len(cells_in_row) > MAX_COLUMNS:
            raise _fail(
                path,
                f"has more than {MAX_COLUMNS:,} columns (line {len(table)} has {len(cells_in_row):,})",
                "Keep only the columns you need: PO_NUMBER and the ones you want in the results.",
            )
        cells += len(cells_in_row)
        if cells > MAX_CELLS:
            raise _fail(
                path, f"has more than {MAX_CELLS:,} cells", "Keep only the columns you need, or split it into files."
            )
    return table


def _csv_error(path: Path, rows: _RowLines, exc: csv.Error) -> InputError:
    if _FIELD_LIMIT_ERROR in str(exc) and rows.one_line:
        return _fail(
            path,
            f"has a cell longer than {csv.field_size_limit():,} characters on line {rows.line}",
            "A PO list has no such cells: check that this is the right file, or shorten that cell.",
        )
    return _fail(
        path,
        f"could not be read as CSV near line {rows.line} ({exc})",
        'Look for a quote (") that is opened but never closed.',
    )


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _fail(path, "starts like UTF-16 text but is damaged", "Export it again as CSV UTF-8.") from exc
    else:
        what = _looks_like(data)
        if what:
            raise _fail(path, f"is not a text file: it looks like {what}", "Choose the CSV or Excel file of POs.")
        text = _decode_8bit(data)
    if "\x00" in text:
        raise _fail(path, "is not a text file (it contains NUL bytes)", "Export the PO list again as CSV UTF-8.")
    return text


def _decode_8bit(data: bytes) -> str:
    for encoding in _STRICT_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # maps every byte, so it cannot fail


def _sniff_delimiter(text: str) -> str:
    """The delimiter used most in the first non-blank line, counting outside quotes; `;` when none is."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    in_quotes = has_content = False
    for ch in text:
        if ch == '"':
            in_quotes, has_content = not in_quotes, True
        elif in_quotes:
            continue
        elif ch in counts:
            counts[ch] += 1
        elif ch in "\r\n":
            if has_content:
                break
            counts = dict.fromkeys(_DELIMITERS, 0)
        elif not ch.isspace():
            has_content = True
    return max(_DELIMITERS, key=counts.__getitem__)  # max keeps the first of equals: the preference order


def _xlsx_table(path: Path, data: bytes) -> list[list[str]]:
    if not data:
        raise _empty(path)
    if not data.startswith(b"PK"):  # every .xlsx is a ZIP archive
        what = _looks_like(data)
        raise _fail(
            path,
            f"is not an .xlsx workbook{f': it looks like {what}' if what else ''}",
            "If it is a CSV file, give it the .csv extension; otherwise open it in Excel and save it as .xlsx.",
        )
    advice = "Open it in Excel and save it again as .xlsx, or export it as CSV."
    try:
        # A header and MAX_ROWS data rows; shared strings are bounded like cells (no sheet uses more than it has).
        check_workbook(data, XlsxLimits(max_rows=MAX_ROWS + 1, max_columns=MAX_COLUMNS, max_cells=MAX_CELLS))
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except XlsxTooBig as exc:
        raise _fail(
            path,
            f"is too big to read: it {exc}",
            f"Keep only the PO numbers' sheet and columns (at most {MAX_ROWS:,} rows), or export it as CSV.",
        ) from exc
    except Exception as exc:  # openpyxl signals a damaged file with many types (BadZipFile, KeyError, ...)
        raise _fail(path, f"could not be opened as an Excel workbook ({type(exc).__name__}: {exc})", advice) from exc
    try:
        sheet = _pick_sheet(workbook)
        if sheet is None:
            raise _fail(path, "has no worksheet", f"Put the POs on a sheet named {PO_DATA_SHEET}.")
        # A declared size (<dimension ref="A1:XFD1048576">) would pad every row to 16,384 cells: go by the cells.
        sheet.reset_dimensions()
        return _limit_rows(path, ([_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)))
    except InputError:
        raise
    except Exception as exc:  # sheets are parsed lazily, so damage can surface only here
        raise _fail(path, f"has a damaged worksheet ({type(exc).__name__}: {exc})", advice) from exc
    finally:
        workbook.close()  # read-only workbooks keep the archive open until closed


def _pick_sheet(workbook: openpyxl.Workbook) -> Any:  # a read-only worksheet, or None
    sheets = workbook.worksheets
    wanted = PO_DATA_SHEET.casefold()
    return next((s for s in sheets if s.title.strip().casefold() == wanted), sheets[0] if sheets else None)


def _cell_text(value: object) -> str:
    """A cell as Excel shows it: whole numbers without `.0`, dates in ISO form, empty cells as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


# --- from a table of strings to a Batch ----------------------------------------------------------------------


def _is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _content_width(cells: list[str]) -> int:
    """Length without trailing blank cells (Excel's formatted-but-empty cells, trailing delimiters)."""
    width = len(cells)
    while width and not cells[width - 1].strip():
        width -= 1
    return width


def _header_key(name: str) -> str:
    return "_".join(name.replace("\ufeff", "").replace("_", " ").split()).upper()


def _find(columns: tuple[str, ...], wanted: str) -> str | None:
    return next((c for c in columns if _header_key(c) == wanted), None)


def _column_names(header: list[str], width: int) -> tuple[str, ...]:
    """Unique names for `width` columns, keeping the header's own names where it has usable ones."""
    names: list[str] = []
    taken: set[str] = set()
    for position in range(1, width + 1):
        written = header[position - 1] if position <= len(header) else ""
        name = written if written.strip() else f"COLUMN_{position}"
        candidate, copy = name, 1
        while candidate in taken:
            copy += 1
            candidate = f"{name}_{copy}"
        taken.add(candidate)
        names.append(candidate)
    return tuple(names)


@dataclass
class _BatchBuilder:
    """Sorts data rows into records, invalid rows, duplicates and already-completed rows."""

    columns: tuple[str, ...]
    po_column: str
    regex: str
    status_column: str | None
    supplier_column: str | None
    levels: tuple[str, ...]
    records: list[PoRecord] = field(default_factory=list)
    invalid: list[RowProblem] = field(default_factory=list)
    duplicates: list[RowProblem] = field(default_factory=list)
    completed: list[PoRecord] = field(default_factory=list)
    first_row: dict[str, int] = field(default_factory=dict)  # portal id -> row number of its first occurrence

    @classmethod
    def build(cls, path: Path, data: bytes, table: list[list[str]], delimiter: str, regex: str) -> Batch:
        start = next((i for i, cells in enumerate(table) if not _is_blank(cells)), None)
        if start is None:
            raise _empty(path)
        header = table[start][: _content_width(table[start])]
        rows = list(enumerate(table[start + 1 :], start=1))
        po_index = next((i for i, name in enumerate(header) if _header_key(name) == COL_PO_NUMBER), None)
        guessed = po_index is None
        if po_index is None:
            _require_single_column(path, header, regex)
            po_index = 0
            if _is_headerless(header[0], regex):
                rows = list(enumerate(table[start:], start=1))
                header = [COL_PO_NUMBER]
        width = max([len(header), *(_content_width(cells) for _, cells in rows)])
        columns = _column_names(header, width)
        builder = cls(
            columns=columns,
            po_column=columns[po_index],
            regex=regex,
            status_column=_find(columns, COL_STATUS),
            supplier_column=_find(columns, COL_SUPPLIER),
            levels=_hierarchy_columns(columns[: len(header)]),
        )
        for row_number, cells in rows:
            if not _is_blank(cells):
                builder.add(row_number, cells)
        if guessed and not builder.first_row:
            raise _fail(
                path,
                f"has no {COL_PO_NUMBER} column, and its only column '{printable(header[0], ECHO_LIMIT)}' holds no "
                "PO numbers",
                f"Name the column holding the PO numbers {COL_PO_NUMBER}.",
            )
        return builder.batch(path, data, delimiter)

    def add(self, row_number: int, cells: list[str]) -> None:
        padded = cells + [""] * (len(self.columns) - len(cells))
        row = dict(zip(self.columns, padded, strict=False))  # cells beyond the columns are blank by construction
        value = row[self.po_column].strip()
        po_id, reason = normalise_po(value, self.regex)
        if po_id is None:
            self.invalid.append(RowProblem(row_number, value, reason, row))
            return
        first = self.first_row.get(po_id)
        if first is not None:
            self.duplicates.append(RowProblem(row_number, value, f"duplicate of row {first}", row))
            return
        self.first_row[po_id] = row_number
        record = PoRecord(
            key=value,
            po_id=po_id,
            row_number=row_number,
            row=row,
            hierarchy=tuple(row[c].strip() or UNKNOWN_LEVEL for c in self.levels),
            input_supplier=row[self.supplier_column].strip() if self.supplier_column else "",
        )
        done = self.status_column is not None and row[self.status_column].strip().upper() == PoStatus.COMPLETED
        (self.completed if done else self.records).append(record)

    def batch(self, path: Path, data: bytes, delimiter: str) -> Batch:
        return Batch(
            source=str(path),
            source_hash=hashlib.sha256(data).hexdigest(),
            columns=self.columns,
            delimiter=delimiter,
            po_column=self.po_column,
            records=tuple(self.records),
            invalid=tuple(self.invalid),
            duplicates=tuple(self.duplicates),
            already_completed=tuple(self.completed),
        )


def _require_single_column(path: Path, header: list[str], regex: str) -> None:
    if len(header) == 1:
        return
    if any(normalise_po(name, regex)[0] for name in header):
        advice = f"Its first line looks like data: add a header line naming the PO column {COL_PO_NUMBER}."
    else:
        advice = f"Name the column holding the PO numbers {COL_PO_NUMBER}."
    found = ", ".join(f"'{printable(name, ECHO_LIMIT)}'" for name in header[:_SHOWN_COLUMNS])
    if len(header) > _SHOWN_COLUMNS:
        found += f" and {len(header) - _SHOWN_COLUMNS:,} more"
    raise _fail(path, f"has no {COL_PO_NUMBER} column (columns found: {found})", advice)


def _is_headerless(first: str, regex: str) -> bool:
    """A lone first value that is a PO, or holds digits like one, is data: as a header it would vanish unseen."""
    return normalise_po(first, regex)[0] is not None or any(ch.isdigit() for ch in first)


def _hierarchy_columns(columns: tuple[str, ...]) -> tuple[str, ...]:
    separator = next((i for i, name in enumerate(columns) if name.strip() == HIERARCHY_SEPARATOR_COLUMN), None)
    return () if separator is None else columns[separator + 1 :]
