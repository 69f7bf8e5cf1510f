"""An .xlsx workbook checked within fixed bounds before openpyxl holds any of it in memory.

An .xlsx is a ZIP of XML parts, so a few megabytes on disk can inflate to gigabytes: a sheet of a billion
cells, a shared-strings table of a gigabyte, one enormous cell or tag, entities that expand (billion laughs), a
million tiny members. openpyxl's read-only mode streams a sheet's rows but loads the shared strings and the
workbook's other parts whole. So every XML part is first inflated in chunks and run through a streaming expat
parser that keeps counts, never content: the declared and the actual inflated sizes, rows, columns, cells,
shared strings and their text, the longest text and the longest tag. A workbook inside the limits costs openpyxl
a bounded amount of memory; one outside them is refused with what was too big. Parts that are not XML (images,
VBA) and pivot caches are never opened by openpyxl's read-only mode, so they are not inflated here either.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

_MIB = 1024 * 1024
CHUNK_BYTES = 64 * 1024
EXCEL_MAX_CELL_CHARS = 32_767  # Excel's own limit for a cell's text: no real workbook has a longer text run
_EOCD = b"PK\x05\x06"  # end of a ZIP's central directory, which holds its member count
_EOCD_SEARCH = 22 + 0xFFFF  # the record and the longest comment a ZIP may end with
_CELL_COLUMN = re.compile(r"([A-Za-z]{1,3})\d*")
_SHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml", re.IGNORECASE)
_SHARED_STRINGS_PART = re.compile(r"xl/sharedStrings\.xml", re.IGNORECASE)
_XML_PART = re.compile(r".+\.(?:xml|rels)", re.IGNORECASE)
# Parts openpyxl's read-only mode never opens, and the only ones that are large in real workbooks besides the
# sheets: a pivot table's cache holds a copy of its source data.
_NEVER_OPENED = re.compile(r"xl/pivot(?:Cache|Tables)/.*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class XlsxLimits:
    max_rows: int  # rows of a sheet, blank ones and the header included
    max_columns: int
    max_cells: int  # of a sheet, and of the shared strings
    max_shared_text_chars: int = 32 * _MIB
    max_inflated_bytes: int = 256 * _MIB  # every member together; read in chunks, so a cost in time only
    max_loaded_part_bytes: int = 16 * _MIB  # a part openpyxl parses whole: workbook, styles, theme...
    max_members: int = 10_000
    max_text_chars: int = EXCEL_MAX_CELL_CHARS
    max_tag_bytes: int = _MIB  # expat buffers a tag (or comment) whole before it reports it


class XlsxTooBig(Exception):
    """The workbook is over a limit; `str()` says which, in words for the user."""


def check_workbook(data: bytes, limits: XlsxLimits) -> None:
    """Raise XlsxTooBig when the workbook in `data` is over `limits`, zipfile.BadZipFile when it is no ZIP."""
    _check_member_count(data, limits)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # BytesIO shares the bytes, no copy
        members = [m for m in archive.infolist() if _XML_PART.fullmatch(m.filename)]
        members = [m for m in members if not _NEVER_OPENED.fullmatch(m.filename)]
        declared = sum(m.file_size for m in members)
        if declared > limits.max_inflated_bytes:
            raise XlsxTooBig(
                f"inflates to {declared / _MIB:,.0f} MB, more than the {limits.max_inflated_bytes // _MIB} MB "
                "popool unpacks"
            )
        budget = _Budget(limits.max_inflated_bytes)
        for member in members:
            _scan_part(archive, member, limits, budget)


def _check_member_count(data: bytes, limits: XlsxLimits) -> None:
    """Before zipfile reads the central directory into memory, one object per member."""
    at = data.rfind(_EOCD, max(0, len(data) - _EOCD_SEARCH))
    if at < 0 or at + 22 > len(data):
        return  # no end record: zipfile reports the damage
    (entries,) = struct.unpack_from("<H", data, at + 10)
    if entries > limits.max_members:  # 0xFFFF: a ZIP64 archive, whose count is larger still
        raise XlsxTooBig(f"holds more than {limits.max_members:,} parts, more than any workbook of PO numbers")


@dataclass
class _Budget:
    """Inflated bytes for the whole archive, counted as each member really inflates, whatever it declares.

    Today's zipfile stops a member at its declared size (and reports a CRC error), so the declared sizes
    already bound this; counting what arrives keeps the bound true without relying on that."""

    limit: int
    spent: int = 0

    def spend(self, size: int) -> None:
        self.spent += size
        if self.spent > self.limit:
            raise XlsxTooBig(f"inflates to more than the {self.limit // _MIB} MB popool unpacks")


def _scan_part(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: XlsxLimits, budget: _Budget) -> None:
    name = member.filename
    streamed = bool(_SHEET_PART.fullmatch(name) or _SHARED_STRINGS_PART.fullmatch(name))
    if not streamed and member.file_size > limits.max_loaded_part_bytes:
        raise XlsxTooBig(f"has a part {name} of {member.file_size / _MIB:,.0f} MB, far larger than workbooks have")
    scan = _PartScan(name, limits)
    inflated = 0
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            inflated += len(chunk)
            budget.spend(len(chunk))
            if not streamed and inflated > limits.max_loaded_part_bytes:
                raise XlsxTooBig(f"has a part {name} that inflates beyond what it declares")
            scan.feed(chunk)
    scan.finish()


class _PartScan:
    """Counts what one XML part holds as expat reports it; holds no text and no tree."""

    def __init__(self, name: str, limits: XlsxLimits) -> None:
        self.name = name
        self.limits = limits
        self.sheet = bool(_SHEET_PART.fullmatch(name))
        self.rows = self.cells = self.strings = self.shared_chars = 0
        self.column = 0  # of the last cell in the current row
        self.text = 0  # characters of the current text run
        self.fed = 0
        self.last_event = 0  # byte offset of the last thing expat reported
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._characters
        self.parser.CommentHandler = self._other
        self.parser.ProcessingInstructionHandler = self._other
        self.parser.StartDoctypeDeclHandler = self._doctype

    def feed(self, chunk: bytes) -> None:
        self.fed += len(chunk)
        self._parse(chunk, final=False)
        if self.fed - self.last_event > self.limits.max_tag_bytes:
            raise XlsxTooBig(f"has a tag larger than {self.limits.max_tag_bytes // _MIB} MB in {self.name}")

    def finish(self) -> None:
        self._parse(b"", final=True)

    def _parse(self, chunk: bytes, *, final: bool) -> None:
        try:
            self.parser.Parse(chunk, final)
        except expat.ExpatError as exc:
            raise zipfile.BadZipFile(f"{self.name} is not well-formed XML ({exc})") from exc

    def _seen(self) -> None:
        self.last_event = self.parser.CurrentByteIndex
        self.text = 0

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        self._seen()
        local = tag.rpartition(":")[2]  # SpreadsheetML may come with a prefix (x:row)
        if self.sheet and local == "row":
            self._row(attributes.get("r", ""))
        elif self.sheet and local == "c":
            self._cell(attributes.get("r", ""))
        elif local == "si":
            self.strings += 1
            if self.strings > self.limits.max_cells:
                raise XlsxTooBig(f"has more than {self.limits.max_cells:,} shared strings")

    def _row(self, number: str) -> None:
        self.rows += 1
        self.column = 0
        index = int(number) if number.isdigit() else self.rows
        if max(self.rows, index) > self.limits.max_rows:
            raise XlsxTooBig(f"has a sheet of more than {self.limits.max_rows - 1:,} rows")

    def _cell(self, reference: str) -> None:
        self.cells += 1
        letters = _CELL_COLUMN.fullmatch(reference)
        self.column = _column_index(letters.group(1)) if letters else self.column + 1
        if self.column > self.limits.max_columns:
            raise XlsxTooBig(f"has a sheet of more than {self.limits.max_columns:,} columns")
        if self.cells > self.limits.max_cells:
            raise XlsxTooBig(f"has a sheet of more than {self.limits.max_cells:,} cells")

    def _end(self, _tag: str) -> None:
        self._seen()

    def _characters(self, text: str) -> None:
        self.last_event = self.parser.CurrentByteIndex
        self.text += len(text)
        if self.text > self.limits.max_text_chars:
            raise XlsxTooBig(
                f"has a text of more than {self.limits.max_text_chars:,} characters in {self.name}, "
                "more than an Excel cell can hold"
            )
        if self.strings:
            self.shared_chars += len(text)
            if self.shared_chars > self.limits.max_shared_text_chars:
                raise XlsxTooBig(
                    f"has shared strings of more than {self.limits.max_shared_text_chars:,} characters in all"
                )

    def _other(self, *_args: Any) -> None:
        self._seen()

    def _doctype(self, *_args: Any) -> None:
        # Workbooks never declare a DTD; one here could define entities that expand without end.
        raise XlsxTooBig(f"declares a DTD in {self.name}, which no workbook does")


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - ord("A") + 1
    return index
