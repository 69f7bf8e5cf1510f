"""Workbooks that inflate far beyond their size on disk, written in seconds without holding what they inflate to."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

import openpyxl

SHEET = "xl/worksheets/sheet1.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"
_SHEET_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
_CONTENT_TYPE_STRINGS = (
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def small_workbook(rows: list[list[str]]) -> dict[str, bytes]:
    """The members of a real workbook openpyxl wrote, by name."""
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_workbook(path: Path, members: dict[str, bytes | Iterable[bytes]]) -> Path:
    """Members given as bytes, or as chunks streamed into the archive (gigabytes cost only the time to deflate)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in members.items():
            if isinstance(content, bytes):
                archive.writestr(name, content)
                continue
            with archive.open(name, "w", force_zip64=True) as member:
                for chunk in content:
                    member.write(chunk)
    return path


def repeated(head: bytes, body: bytes, tail: bytes, total: int) -> Iterable[bytes]:
    yield head
    block = body * max(1, (1024 * 1024) // len(body))
    for _ in range(total // len(block)):
        yield block
    yield tail


def sheet_without_dimension(path: Path, inflated: int) -> Path:
    """One sheet of identical rows and no <dimension>, `inflated` bytes of XML."""
    members = small_workbook([["PO_NUMBER"]])
    row = b'<row><c t="inlineStr"><is><t>PO123456</t></is></c></row>'
    members[SHEET] = repeated(_SHEET_HEAD + b"<sheetData>", row, b"</sheetData></worksheet>", inflated)
    return write_workbook(path, members)


def huge_shared_strings(path: Path, inflated: int) -> Path:
    members = small_workbook([["PO_NUMBER"], ["PO123456"]])
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"</Types>", _CONTENT_TYPE_STRINGS + b"</Types>"
    )
    head = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    )
    members[SHARED_STRINGS] = repeated(head, b"<si><t>supplier name</t></si>", b"</sst>", inflated)
    return write_workbook(path, members)


def declared_whole_sheet(path: Path) -> Path:
    """A tiny workbook whose <dimension> claims every cell Excel has: A1:XFD1048576."""
    members = small_workbook([["PO_NUMBER"], ["PO123456"]])
    sheet = members[SHEET]
    start = sheet.index(b"<dimension")
    end = sheet.index(b"/>", start) + 2
    members[SHEET] = sheet[:start] + b'<dimension ref="A1:XFD1048576"/>' + sheet[end:]
    return write_workbook(path, members)
