"""Reading PO lists: a table of malformed and edge-case inputs, properties of normalise_po, and load time."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import string
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from popool_gui.batch import input as batch_input
from popool_gui.batch.input import DEFAULT_PO_ID_REGEX, InputError, normalise_po, read_batch
from popool_gui.batch.model import UNKNOWN_LEVEL, Batch

Maker = Callable[[Path], Path]
HOUSE = "PO_NUMBER;SUPPLIER\n"


def text_file(content: str | bytes, name: str = "input.csv", encoding: str = "utf-8") -> Maker:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
        return path

    return make


def workbook(sheets: dict[str, list[list[object]]], name: str = "input.xlsx") -> Maker:
    def make(tmp_path: Path) -> Path:
        book = openpyxl.Workbook()
        book.remove(book.active)
        for title, rows in sheets.items():
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
        path = tmp_path / name
        book.save(path)
        return path

    return make


def corrupt_xlsx(tmp_path: Path) -> Path:
    good = workbook({"PO_Data": [["PO_NUMBER"], ["PO123456"]]})(tmp_path)
    path = tmp_path / "corrupt.xlsx"
    path.write_bytes(good.read_bytes()[:300])  # a truncated download
    return path


def directory(tmp_path: Path) -> Path:
    path = tmp_path / "folder.csv"
    path.mkdir()
    return path


def zip_as_csv(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "PO123456")
    path = tmp_path / "input.csv"
    path.write_bytes(buffer.getvalue())
    return path


FIFTY_MB_ROWS = 10_000


def fifty_mb(tmp_path: Path) -> Path:
    """A wide export: 10,000 POs with 50 long columns each, 50 MB in all."""
    path = tmp_path / "big.csv"
    filler = ";".join(["x" * 99] * 50)
    header = "PO_NUMBER;" + ";".join(f"C{i}" for i in range(50)) + "\n"
    body = "".join(f"PO{1_000_000 + i};{filler}\n" for i in range(FIFTY_MB_ROWS))
    path.write_text(header + body, encoding="utf-8")
    assert path.stat().st_size >= 50_000_000
    return path


@dataclass(frozen=True)
class Case:
    id: str
    make: Maker
    records: tuple[str, ...] = ()  # portal ids of the records, in order
    invalid: tuple[tuple[int, str], ...] = ()  # (row number, start of the reason)
    duplicates: tuple[tuple[int, str], ...] = ()
    completed: tuple[str, ...] = ()
    columns: tuple[str, ...] | None = None
    delimiter: str | None = None
    error: str | None = None  # a fragment of the InputError message
    check: Callable[[Batch], None] | None = None


def check_cp1252(batch: Batch) -> None:
    assert batch.records[0].input_supplier == "Fornecedor São João"


def check_latin1(batch: Batch) -> None:
    assert batch.records[0].row["SUPPLIER"] == "Señor Ñandú ÿ"


def check_quoted(batch: Batch) -> None:
    assert batch.records[0].row["SUPPLIER"] == "Acme; Ltd"
    assert batch.records[1].row["NOTE"] == "line one\nline two"


def check_hierarchy(batch: Batch) -> None:
    assert [r.hierarchy for r in batch.records] == [("EU", "Paris"), ("EU", UNKNOWN_LEVEL), (UNKNOWN_LEVEL,) * 2]
    assert batch.records[0].row == {"PO_NUMBER": "PO123456", "Owner": "ann", "<|>": "", "Region": "EU", "City": "Paris"}


def check_extra_columns(batch: Batch) -> None:
    record = batch.records[0]
    assert list(record.row.items()) == [("Z", " z "), ("PO_NUMBER", " PO123456 "), ("A", "=1+1"), ("M", "")]
    assert record.key == "PO123456"


def check_keys(batch: Batch) -> None:
    assert [r.key for r in batch.records] == ["PO 123456", "pm234567", "PO-15262984"]


def check_xlsx_values(batch: Batch) -> None:
    assert batch.records[0].row == {"PO_NUMBER": "15262984", "AMOUNT": "12.5", "DUE": "2024-05-01", "OK": "TRUE"}


def check_lenient_quotes(batch: Batch) -> None:
    assert batch.records[0].input_supplier == "AcmeLtd"  # as Excel reads it


def check_single_header(batch: Batch) -> None:
    assert batch.po_column == "Orders"


CASES: list[Case] = [
    Case("empty file", text_file(b""), error="is empty"),
    Case("whitespace only", text_file(" \r\n\t\n  \n"), error="is empty"),
    Case("header only", text_file("PO_NUMBER;SUPPLIER\n"), columns=("PO_NUMBER", "SUPPLIER"), delimiter=";"),
    Case("BOM", text_file("\ufeffpo_number\nPO123456\n"), records=("123456",), columns=("po_number",)),
    Case("semicolon", text_file(HOUSE + "PO123456;Acme\n"), records=("123456",), delimiter=";"),
    Case("comma", text_file("PO_NUMBER,SUPPLIER\nPO123456,Acme\n"), records=("123456",), delimiter=","),
    Case(
        "delimiter tie goes to ;",
        text_file("PO_NUMBER;A,B\nPO123456;1,2\n"),
        columns=("PO_NUMBER", "A,B"),
        delimiter=";",
        records=("123456",),
    ),
    Case("tab", text_file("PO_NUMBER\tSUPPLIER\nPO123456\tAcme\n"), records=("123456",), delimiter="\t"),
    Case(
        "cp1252 accents",
        text_file(HOUSE + "PO123456;Fornecedor São João\n", encoding="cp1252"),
        records=("123456",),
        check=check_cp1252,
    ),
    Case(
        "latin-1",
        text_file(HOUSE.replace(";", ",") + "PO123456,Señor Ñandú ÿ\n", encoding="latin-1"),
        records=("123456",),
        check=check_latin1,
    ),
    Case(
        "quoted delimiter and newline",
        text_file('PO_NUMBER;SUPPLIER;NOTE\nPO123456;"Acme; Ltd";x\r\nPO234567;B;"line one\nline two"\r\n'),
        records=("123456", "234567"),
        check=check_quoted,
    ),
    Case(
        "blank lines",
        text_file("\n\nPO_NUMBER;SUPPLIER\n\nPO123456;A\n;\n  \nPO234567;B\n\n"),
        records=("123456", "234567"),
    ),
    Case(
        "duplicates by portal id",
        text_file("PO_NUMBER\nPO123456\n123456\npm123456\nPO234567\n"),
        records=("123456", "234567"),
        duplicates=((2, "duplicate of row 1"), (3, "duplicate of row 1")),
    ),
    Case(
        "prefix variants",
        text_file("PO_NUMBER\nPO 123456\npm234567\nPO-15262984\n"),
        records=("123456", "234567", "15262984"),
        check=check_keys,
    ),
    Case("5 digits", text_file("PO_NUMBER\nPO12345\n12345\n"), invalid=((1, "fewer than 6"), (2, "fewer than 6"))),
    Case("letters", text_file("PO_NUMBER\nABCDEFG\nPO123456X\n"), invalid=((1, "not a PO"), (2, "not a PO"))),
    Case(
        "formulas",
        text_file('PO_NUMBER;X\n"=HYPERLINK(""http://x"",""PO123456"")";1\n+123456;2\n@SUM(A1);3\n'),
        invalid=tuple((n, "looks like a spreadsheet formula") for n in (1, 2, 3)),
    ),
    Case("empty PO cell", text_file(HOUSE + ";Acme\n"), invalid=((1, "empty PO number"),)),
    Case("PNG renamed .csv", text_file(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), error="looks like a PNG image"),
    Case("ZIP renamed .csv", zip_as_csv, error="looks like a ZIP archive"),
    Case("NUL bytes", text_file(b"PO_NUMBER\nPO123456\x00\x00\n"), error="NUL bytes"),
    Case("50 MB file", fifty_mb, records=tuple(str(1_000_000 + i) for i in range(FIFTY_MB_ROWS))),
    Case("directory", directory, error="is a folder"),
    Case("missing file", lambda tmp_path: tmp_path / "nope.csv", error="was not found"),
    Case("old .xls", text_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", name="po.xls"), error="save it as Excel Workbook"),
    Case("unsupported type", text_file("PO_NUMBER\nPO123456\n", name="po.json"), error="reads .csv, .txt and .xlsx"),
    Case("no PO column", text_file("ORDER;SUPPLIER;AMOUNT\n123456;A;1\n"), error="'ORDER', 'SUPPLIER', 'AMOUNT'"),
    Case("headerless data row", text_file("PO123456;Acme\n"), error="first line looks like data"),
    Case(
        "single column without header",
        text_file("PO123456\r\n15262984\r\n"),
        records=("123456", "15262984"),
        columns=("PO_NUMBER",),
    ),
    Case(
        "single column, bad first value",
        text_file("PO12345\nPO123456\n", name="po.txt"),
        records=("123456",),
        invalid=((1, "fewer than 6"),),
        columns=("PO_NUMBER",),
    ),
    Case(
        "single column with other header",
        text_file("Orders\nPO123456\n\nnope\n"),
        records=("123456",),
        invalid=((3, "not a PO"),),
        columns=("Orders",),
        check=check_single_header,
    ),
    Case("single column of names", text_file("Supplier\nAcme\nGlobex\n"), error="holds no PO numbers"),
    Case(
        "hierarchy with blanks",
        text_file("PO_NUMBER;Owner;<|>;Region;City\nPO123456;ann;;EU;Paris\nPO234567;bob;;EU;\nPO345678;cy;;;\n"),
        records=("123456", "234567", "345678"),
        check=check_hierarchy,
    ),
    Case(
        "STATUS COMPLETED rows",
        text_file("PO_NUMBER;STATUS\nPO123456;COMPLETED\nPO234567;FAILED\nPO345678; completed \nPO456789;\n"),
        records=("234567", "456789"),
        completed=("123456", "345678"),
    ),
    Case(
        "extra columns preserved in order",
        text_file("Z;PO_NUMBER;A;M\n z ; PO123456 ;=1+1;\n"),
        records=("123456",),
        columns=("Z", "PO_NUMBER", "A", "M"),
        check=check_extra_columns,
    ),
    Case(
        "blank and repeated headers, ragged rows",
        text_file("PO_NUMBER;Note;;Note;\nPO123456;a;b;c;;;\nPO234567;x\nPO345678;1;2;3;4;5\n"),
        records=("123456", "234567", "345678"),
        columns=("PO_NUMBER", "Note", "COLUMN_3", "Note_2", "COLUMN_5", "COLUMN_6"),
    ),
    Case(
        "Excel sep= line",
        text_file("sep=,\nPO_NUMBER,X;Y\nPO123456,1;2\n"),
        records=("123456",),
        columns=("PO_NUMBER", "X;Y"),
        delimiter=",",
    ),
    Case(
        "UTF-16 Unicode Text export",
        text_file("PO_NUMBER\tSUPPLIER\r\nPO123456\tSão\r\n", encoding="utf-16"),
        records=("123456",),
        delimiter="\t",
    ),
    Case("unclosed quote", text_file('PO_NUMBER;X\nPO123456;"abc\n' + "y" * 200_000 + "\n"), error="never closed"),
    Case("unclosed quote at the end", text_file('PO_NUMBER;X\nPO123456;"abc\nPO234567;x\n'), error="never closed"),
    Case(
        "text after a closing quote",
        text_file('PO_NUMBER;SUPPLIER\nPO123456;"Acme"Ltd\n'),
        records=("123456",),
        check=check_lenient_quotes,
    ),
    Case(
        "xlsx PO_Data sheet",
        workbook({"Notes": [["x"]], "PO_Data": [["PO_NUMBER", "SUPPLIER"], ["PO123456", "Acme"], [None, None]]}),
        records=("123456",),
        columns=("PO_NUMBER", "SUPPLIER"),
        delimiter=",",
    ),
    Case(
        "xlsx numbers as floats",
        workbook(
            {"PO_Data": [["PO_NUMBER", "AMOUNT", "DUE", "OK"], [15262984.0, 12.5, dt.datetime(2024, 5, 1), True]]}
        ),
        records=("15262984",),
        check=check_xlsx_values,
    ),
    Case(
        "xlsx first sheet when PO_Data absent",
        workbook({"Export": [["po number"], [123456], [15262984]], "Other": [["PO_NUMBER"], ["PO999999"]]}),
        records=("123456", "15262984"),
        columns=("po number",),
    ),
    Case("corrupt xlsx", corrupt_xlsx, error="could not be opened as an Excel workbook"),
    Case("CSV renamed .xlsx", text_file("PO_NUMBER\nPO123456\n", name="po.xlsx"), error="give it the .csv extension"),
    Case("PDF renamed .xlsx", text_file(b"%PDF-1.7\n", name="po.xlsx"), error="looks like a PDF document"),
    Case("empty xlsx sheet", workbook({"PO_Data": []}), error="is empty"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_input_table(case: Case, tmp_path: Path) -> None:
    path = case.make(tmp_path)
    if case.error is not None:
        with pytest.raises(InputError) as caught:
            read_batch(path)
        message = str(caught.value)
        assert case.error in message
        assert path.name in message  # the message names the file
        return
    batch = read_batch(path)
    assert [r.po_id for r in batch.records] == list(case.records)
    assert len(batch.invalid) == len(case.invalid)
    for problem, (row_number, reason) in zip(batch.invalid, case.invalid, strict=True):
        assert (problem.row_number, problem.reason[: len(reason)]) == (row_number, reason)
    assert [(p.row_number, p.reason) for p in batch.duplicates] == list(case.duplicates)
    assert [r.po_id for r in batch.already_completed] == list(case.completed)
    if case.columns is not None:
        assert batch.columns == case.columns
    if case.delimiter is not None:
        assert batch.delimiter == case.delimiter
    if case.check is not None:
        case.check(batch)
    assert batch.source == str(path.absolute())
    assert batch.source_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_row_numbers_and_problem_rows_keep_every_column(tmp_path: Path) -> None:
    path = text_file("PO_NUMBER;SUPPLIER\nPO123456;A\n\nbad;B\nPO123456;C\n")(tmp_path)
    batch = read_batch(path)
    assert batch.records[0].row_number == 1
    assert batch.invalid[0].row_number == 3 and batch.invalid[0].row == {"PO_NUMBER": "bad", "SUPPLIER": "B"}
    assert batch.duplicates[0].row_number == 4 and batch.duplicates[0].row["SUPPLIER"] == "C"
    assert batch.invalid[0].value == "bad"


def test_input_file_is_never_modified(tmp_path: Path) -> None:
    path = text_file("\ufeffPO_NUMBER;STATUS\nPO123456;COMPLETED\n", encoding="utf-8")(tmp_path)
    before, stamp = path.read_bytes(), path.stat().st_mtime_ns
    read_batch(path)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stamp


def test_locked_file_says_close_excel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = text_file(HOUSE + "PO123456;A\n")(tmp_path)

    def locked(*_args: object) -> int:
        raise PermissionError(13, "The process cannot access the file because it is being used by another process")

    monkeypatch.setattr(batch_input.os, "open", locked)
    with pytest.raises(InputError, match="close it in Excel and try again"):
        read_batch(path)


def test_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = text_file(HOUSE + "PO123456;A\n" * 100)(tmp_path)
    monkeypatch.setattr(batch_input, "MAX_INPUT_BYTES", 1000)
    with pytest.raises(InputError, match="split it into several files"):
        read_batch(path)


def po_list(values: list[str], name: str) -> Maker:
    """A one-column PO list as CSV or XLSX, chosen by the name's extension."""
    if name.endswith(".xlsx"):
        return workbook({"PO_Data": [[v] for v in values]}, name=name)
    return text_file("\n".join(values) + "\n", name=name)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_row_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    monkeypatch.setattr(batch_input, "MAX_ROWS", 5)
    values = ["PO_NUMBER"] + [f"PO{100_000 + i}" for i in range(5)]
    assert len(read_batch(po_list(values, f"five{suffix}")(tmp_path)).records) == 5
    with pytest.raises(InputError, match="more than 5 rows"):
        read_batch(po_list([*values, "PO999999"], f"six{suffix}")(tmp_path))


def test_custom_pattern_and_bad_pattern(tmp_path: Path) -> None:
    path = text_file("PO_NUMBER\nX-12\nPO123456\n")(tmp_path)
    batch = read_batch(path, po_id_regex=r"X-(\d+)")
    assert [r.po_id for r in batch.records] == ["12"]
    assert batch.invalid[0].reason.startswith("not a PO number (does not match the pattern")
    with pytest.raises(InputError, match="not a valid regular expression"):
        read_batch(path, po_id_regex="(")


def test_excel_number_text_and_scientific_notation() -> None:
    assert normalise_po("15262984.0") == ("15262984", "")
    assert normalise_po("\u00a0PO\u00a015262984\u200b") == ("15262984", "")
    po_id, reason = normalise_po("1.53E+07")
    assert po_id is None and "scientific notation" in reason


@pytest.mark.alone
def test_10k_rows_load_quickly(tmp_path: Path) -> None:
    path = tmp_path / "10k.csv"
    lines = [f"PO{10_000_000 + i};Supplier {i % 97};<|>;Region {i % 5};;note {i}" for i in range(10_000)]
    path.write_text("PO_NUMBER;SUPPLIER;<|>;REGION;CITY;NOTE\n" + "\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    batch = read_batch(path)
    elapsed = time.perf_counter() - started
    assert len(batch.records) == 10_000
    assert elapsed < 1.0, f"10,000 rows took {elapsed:.3f} s"


# --- properties of normalise_po ------------------------------------------------------------------------------

digits = st.text(alphabet=string.digits, min_size=6, max_size=30)
short_digits = st.text(alphabet=string.digits, max_size=5)
prefixes = st.sampled_from(["", "PO", "PM"]).flatmap(
    lambda p: st.tuples(*(st.sampled_from([c.lower(), c.upper()]) for c in p)).map("".join)
)
separators = st.text(alphabet=" -\t", max_size=4)
padding = st.text(alphabet=" \t", max_size=3)


@given(prefix=prefixes, separator=separators, number=digits, left=padding, right=padding)
def test_prefixed_digits_normalise_to_the_digits(prefix: str, separator: str, number: str, left: str, right: str):
    assert normalise_po(f"{left}{prefix}{separator}{number}{right}") == (number, "")


@given(prefix=prefixes, separator=separators, number=short_digits)
def test_fewer_than_six_digits_is_invalid(prefix: str, separator: str, number: str) -> None:
    po_id, reason = normalise_po(f"{prefix}{separator}{number}")
    assert po_id is None and reason


@given(
    prefix=prefixes,
    separator=separators,
    number=digits,
    letter=st.sampled_from(string.ascii_letters),
    where=st.integers(min_value=0),
)
def test_extra_letters_are_invalid(prefix: str, separator: str, number: str, letter: str, where: int) -> None:
    body = number[: where % (len(number) + 1)] + letter + number[where % (len(number) + 1) :]
    for text in (f"{prefix}{separator}{body}", f"{letter}{prefix}{separator}{number}"):
        po_id, reason = normalise_po(text)
        assert po_id is None and reason


@given(st.text())
def test_normalise_po_never_raises(text: str) -> None:
    po_id, reason = normalise_po(text)
    if po_id is None:
        assert reason
    else:
        assert reason == "" and po_id.isascii() and po_id.isdigit() and len(po_id) >= 6


@given(st.text(), st.sampled_from([DEFAULT_PO_ID_REGEX, r"(\d+)", r"[A-Z]+-\d+", r"(x)?"]))
def test_normalise_po_never_raises_with_other_patterns(text: str, regex: str) -> None:
    po_id, reason = normalise_po(text, regex)
    assert (po_id is None) != (reason == "")


cell_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(digits, cell_text, cell_text), min_size=1, max_size=20),
    delimiter=st.sampled_from([";", ",", "\t"]),
)
def test_csv_round_trip_keeps_every_value(tmp_path: Path, rows: list[tuple[str, str, str]], delimiter: str) -> None:
    path = tmp_path / "round.csv"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["PO_NUMBER", "A", "B"])
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    batch = read_batch(path)
    assert batch.delimiter == delimiter
    kept = [(r.row_number, r.row) for r in batch.records] + [(p.row_number, p.row) for p in batch.duplicates]
    kept.sort(key=lambda pair: pair[0])
    assert [(row["PO_NUMBER"], row["A"], row["B"]) for _, row in kept] == rows
