"""The .xlsx checks before openpyxl: each limit trips on a small workbook when set low, and says what was too big."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from popool_gui.batch.xlsx_limits import XlsxLimits, XlsxTooBig, check_workbook
from tests.xlsx_bombs import SHARED_STRINGS, SHEET, small_workbook, write_workbook

HEAD = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
TAIL = b"</sheetData></worksheet>"


def workbook_with(tmp_path: Path, **parts: bytes) -> bytes:
    members = small_workbook([["PO_NUMBER"], ["PO123456"]])
    members.update({{"sheet": SHEET, "strings": SHARED_STRINGS}.get(k, k): v for k, v in parts.items()})
    return write_workbook(tmp_path / "book.xlsx", members).read_bytes()


def limits_with(**limits: int) -> XlsxLimits:
    return XlsxLimits(**{"max_rows": 100, "max_columns": 1_000, "max_cells": 2_000_000, **limits})


def refusal(data: bytes, **limits: int) -> str:
    with pytest.raises(XlsxTooBig) as caught:
        check_workbook(data, limits_with(**limits))
    return str(caught.value)


def rows(count: int, cells: bytes = b'<c t="inlineStr"><is><t>PO123456</t></is></c>') -> bytes:
    return HEAD + b"".join(b"<row>" + cells + b"</row>" for _ in range(count)) + TAIL


def test_a_plain_workbook_passes(tmp_path: Path) -> None:
    check_workbook(workbook_with(tmp_path), limits_with())


def test_rows_are_counted_and_so_is_a_row_number_beyond_the_limit(tmp_path: Path) -> None:
    check_workbook(workbook_with(tmp_path, sheet=rows(100)), limits_with())
    assert refusal(workbook_with(tmp_path, sheet=rows(101))) == "has a sheet of more than 99 rows"
    far = HEAD + b'<row r="1"><c r="A1"/></row><row r="1048576"><c r="A1048576"/></row>' + TAIL
    assert refusal(workbook_with(tmp_path, sheet=far)) == "has a sheet of more than 99 rows"


def test_columns_are_counted_by_reference_and_by_position(tmp_path: Path) -> None:
    far = HEAD + b'<row><c r="XFD1"/></row>' + TAIL
    assert refusal(workbook_with(tmp_path, sheet=far)) == "has a sheet of more than 1,000 columns"
    wide = rows(1, b"<c/>" * 11)
    assert refusal(workbook_with(tmp_path, sheet=wide), max_columns=10) == "has a sheet of more than 10 columns"


def test_cells_are_counted(tmp_path: Path) -> None:
    assert refusal(workbook_with(tmp_path, sheet=rows(30, b"<c/>" * 4)), max_cells=100) == (
        "has a sheet of more than 100 cells"
    )


def test_shared_strings_are_counted_and_so_is_their_text(tmp_path: Path) -> None:
    table = b"<sst>" + b"<si><t>abcdefghij</t></si>" * 200 + b"</sst>"
    assert refusal(workbook_with(tmp_path, strings=table), max_cells=100) == "has more than 100 shared strings"
    assert refusal(workbook_with(tmp_path, strings=table), max_shared_text_chars=1000) == (
        "has shared strings of more than 1,000 characters in all"
    )


def test_a_text_longer_than_an_excel_cell_is_refused(tmp_path: Path) -> None:
    long = rows(1, b'<c t="inlineStr"><is><t>' + b"x" * 32_768 + b"</t></is></c>")
    assert refusal(workbook_with(tmp_path, sheet=long)) == (
        f"has a text of more than 32,767 characters in {SHEET}, more than an Excel cell can hold"
    )


def test_a_tag_larger_than_the_limit_is_refused_before_expat_holds_it(tmp_path: Path) -> None:
    huge_tag = HEAD + b'<row><c r="A1" x="' + b"y" * (2 * 1024 * 1024) + b'"/></row>' + TAIL
    assert refusal(workbook_with(tmp_path, sheet=huge_tag)) == f"has a tag larger than 1 MB in {SHEET}"


def test_a_dtd_is_refused_so_no_entity_can_expand(tmp_path: Path) -> None:
    laughs = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>'
    assert refusal(workbook_with(tmp_path, **{"xl/styles.xml": laughs})) == (
        "declares a DTD in xl/styles.xml, which no workbook does"
    )


def test_the_declared_inflated_size_is_checked_before_anything_is_inflated(tmp_path: Path) -> None:
    assert refusal(workbook_with(tmp_path, sheet=rows(50)), max_inflated_bytes=1024).startswith("inflates to 0 MB, ")


def test_a_part_openpyxl_loads_whole_has_its_own_limit(tmp_path: Path) -> None:
    styles = b"<styleSheet>" + b"<x/>" * 20_000 + b"</styleSheet>"
    assert refusal(workbook_with(tmp_path, **{"xl/styles.xml": styles}), max_loaded_part_bytes=40_000) == (
        "has a part xl/styles.xml of 0 MB, far larger than workbooks have"
    )


def test_a_member_count_beyond_the_limit_is_refused_before_zipfile_reads_them(tmp_path: Path) -> None:
    members = {**small_workbook([["PO_NUMBER"]]), **{f"xl/media/{i}.bin": b"" for i in range(50)}}
    data = write_workbook(tmp_path / "many.xlsx", members).read_bytes()
    assert refusal(data, max_members=20) == "holds more than 20 parts, more than any workbook of PO numbers"


def test_a_part_that_is_not_xml_is_damage(tmp_path: Path) -> None:
    with pytest.raises(zipfile.BadZipFile, match="is not well-formed XML"):
        check_workbook(workbook_with(tmp_path, sheet=b"<worksheet><row>"), limits_with())


def test_a_large_pivot_cache_is_not_unpacked_since_openpyxl_never_opens_it(tmp_path: Path) -> None:
    cache = b"<pivotCacheRecords>" + b"<r><n v='1'/></r>" * 100_000 + b"</pivotCacheRecords>"
    data = workbook_with(tmp_path, **{"xl/pivotCache/pivotCacheRecords1.xml": cache})
    check_workbook(data, limits_with(max_loaded_part_bytes=100_000, max_inflated_bytes=1_000_000))


def test_a_member_that_inflates_beyond_what_it_declares_is_damage(tmp_path: Path) -> None:
    data = bytearray(workbook_with(tmp_path, sheet=rows(5000)))
    entry = data.index(b"PK\x01\x02")  # the first central directory entry...
    while not data[entry + 46 :].startswith(SHEET.encode()):  # ...walked to the sheet's
        entry = data.index(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", data, entry + 24, 1000)  # its uncompressed size: 1,000 bytes, a lie
    with pytest.raises(zipfile.BadZipFile, match="Bad CRC-32"):
        check_workbook(bytes(data), limits_with())
