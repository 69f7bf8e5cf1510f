"""The results files: columns, encodings, formats, and atomic replacement under a concurrent reader."""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import openpyxl
import pytest

from popool_gui.batch.input import read_batch
from popool_gui.batch.model import (
    COL_NAMES,
    COL_SOURCES,
    RESULT_COLUMNS,
    AttachmentSource,
    PoResult,
    PoStatus,
    source_label,
)
from popool_gui.batch.report import write_results
from popool_gui.settings import ResultsFormat


def rows(n: int) -> list[tuple[dict[str, str], PoResult]]:
    return [
        (
            {"PO_NUMBER": f"PO{100000 + i}", "Cost centre": "Zürich", "Note": '=HYPERLINK("x")'},
            PoResult(
                key=f"PO{100000 + i}",
                status=PoStatus.COMPLETED,
                supplier="Société Générale",
                attachments_found=2,
                attachments_downloaded=2,
                attachment_names=["a.pdf", "b.xlsx"],
                finished_at=1_790_000_000.0,
            ),
        )
        for i in range(n)
    ]


def read_csv(path: Path, delimiter: str) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=delimiter))


def test_csv_and_xlsx_have_input_columns_then_result_columns(tmp_path):
    columns = ("PO_NUMBER", "Cost centre", "Note")
    paths = write_results(tmp_path, columns, ";", rows(3), ResultsFormat.CSV_AND_XLSX)
    assert [p.name for p in paths] == ["popool-results.csv", "popool-results.xlsx"]
    table = read_csv(paths[0], ";")
    expected = [*columns, *(c for c in RESULT_COLUMNS if c not in columns)]
    assert table[0] == expected
    assert len(table) == 4
    record = dict(zip(table[0], table[1], strict=True))
    assert record["STATUS"] == "COMPLETED" and record["SUPPLIER"] == "Société Générale"
    assert record["Cost centre"] == "Zürich"
    sheet = openpyxl.load_workbook(paths[1], read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == expected
    note = values[1][2]
    assert note == '=HYPERLINK("x")', "input text is stored as text, never as a formula"


def test_attachment_sources_follow_the_names(tmp_path):
    result = PoResult(
        key="PO100001",
        status=PoStatus.COMPLETED,
        attachment_names=["PO100001_a.pdf", "PO100001_b.pdf", "PO100001_c.msg"],
        attachment_sources=["header (Supplier)", source_label(AttachmentSource.LINE), "comment (Internal)"],
    )
    [path] = write_results(tmp_path, ("PO_NUMBER",), ";", [({"PO_NUMBER": "PO100001"}, result)], ResultsFormat.CSV)
    header, row = read_csv(path, ";")
    record = dict(zip(header, row, strict=True))
    assert header.index(COL_SOURCES) == header.index(COL_NAMES) + 1
    assert record[COL_SOURCES] == "header (Supplier);line;comment (Internal)"


@pytest.mark.parametrize(
    ("intent", "label"),
    [("Supplier", "line (Supplier)"), ("", "line"), ("=cmd|' /C calc'!A0", "line"), ("x" * 40, "line")],
)
def test_a_source_label_keeps_only_a_plain_intent(intent, label):
    assert source_label(AttachmentSource.LINE, intent) == label


def test_results_file_reads_back_as_input_and_skips_completed(tmp_path):
    paths = write_results(tmp_path, ("PO_NUMBER", "Cost centre", "Note"), ",", rows(5), ResultsFormat.CSV)
    batch = read_batch(paths[0])
    assert batch.delimiter == ","
    assert len(batch.already_completed) == 5 and not batch.records


def test_input_file_is_never_replaced(tmp_path):
    source = tmp_path / "popool-results.csv"
    source.write_text("PO_NUMBER\nPO100000\n", encoding="utf-8")
    before = source.read_bytes()
    paths = write_results(tmp_path, ("PO_NUMBER",), ";", rows(1), ResultsFormat.CSV, protect=[source])
    assert source.read_bytes() == before
    assert paths == [tmp_path / "popool-results-2.csv"]


def test_a_reader_never_sees_a_half_written_file(tmp_path):
    columns = ("PO_NUMBER", "Cost centre", "Note")
    write_results(tmp_path, columns, ";", rows(2000), ResultsFormat.CSV)
    target = tmp_path / "popool-results.csv"
    stop = threading.Event()
    seen: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            seen.append(len(read_csv(target, ";")))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(15):
            write_results(tmp_path, columns, ";", rows(2000), ResultsFormat.CSV)
    finally:
        stop.set()
        thread.join()
    assert seen and set(seen) == {2001}
    assert not list(tmp_path.glob(".popool-results-*")), "no temporary file is left behind"


ODD_DELIMITERS = [(";", ";"), (",", ","), ("\t", ";"), ("|", ";"), ('"', ";"), ("\r", ";")]


@pytest.mark.parametrize(("given", "written"), ODD_DELIMITERS)
def test_the_results_csv_is_delimited_by_a_semicolon_or_a_comma(tmp_path, given, written):
    paths = write_results(tmp_path, ("PO_NUMBER", "Note"), given, rows(3), ResultsFormat.CSV)
    assert paths[0].read_bytes().decode("utf-8-sig").splitlines()[0] == written.join(
        ["PO_NUMBER", "Note", *RESULT_COLUMNS[1:]]
    )
    batch = read_batch(paths[0])
    assert batch.delimiter == written and len(batch.already_completed) == 3


def test_an_input_with_a_pipe_sep_line_gives_results_popool_reads_back(tmp_path):
    source = tmp_path / "orders.csv"
    source.write_text("sep=|\nPO_NUMBER|Note\nPO100000|a;b\n", encoding="utf-8")
    batch = read_batch(source)
    assert batch.delimiter == "|"
    result = PoResult(key="PO100000", status=PoStatus.COMPLETED)
    paths = write_results(tmp_path, batch.columns, batch.delimiter, [(batch.records[0].row, result)], ResultsFormat.CSV)
    back = read_batch(paths[0])
    assert back.delimiter == ";" and back.already_completed[0].row["Note"] == "a;b"
