"""Inputs that must be refused with one line, quickly: not a regular file, a name the file system refuses, cells or
PO values far beyond any real PO list, delimiters that cannot be, and names or values that would garble a terminal."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from popool_gui.batch.input import MAX_PO_CHARS, InputError, normalise_po, read_batch


def refusal(path: Path) -> str:
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        read_batch(path)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert "\n" not in message and "\x1b" not in message
    return message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    pipe = tmp_path / "orders.csv"
    os.mkfifo(pipe)
    assert (
        refusal(pipe)
        == f"{pipe} is not a file popool can read: it is a named pipe. Save the PO list as a .csv or .xlsx file."
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_link_to_an_endless_device_is_refused_before_reading(tmp_path: Path) -> None:
    link = tmp_path / "orders.csv"
    link.symlink_to("/dev/zero")
    assert "is not a file popool can read: it is a device" in refusal(link)


def test_a_file_bigger_than_its_size_says_is_read_only_up_to_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from popool_gui.batch import input as batch_input

    path = tmp_path / "orders.csv"
    path.write_text("PO_NUMBER\n" + "PO123456\n" * 1000, encoding="utf-8")
    monkeypatch.setattr(batch_input, "MAX_INPUT_BYTES", 1000)
    real_fstat = os.fstat

    def says_empty(fd: int) -> os.stat_result:  # as /proc files and some network file systems do
        info = list(real_fstat(fd))
        info[6] = 0
        return os.stat_result(info)

    monkeypatch.setattr(batch_input.os, "fstat", says_empty)
    assert "is more than the 0 MB popool reads" in refusal(path)


def test_a_name_too_long_for_the_file_system_is_named(tmp_path: Path) -> None:
    long = tmp_path / ("o" * 300 + ".csv")
    assert "has a name too long for the file system. Rename it or its folder shorter." in refusal(long)


@pytest.mark.skipif(sys.platform == "win32", reason="Windows refuses control characters in file names")
def test_control_characters_in_a_file_name_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "orders\x1b]0;pwned\x07\x1b[2J.csv"
    path.write_text("PO_NUMBER;X\n", encoding="utf-8")
    path.unlink()
    assert "orders\\x1b]0;pwned\\x07\\x1b[2J.csv was not found" in refusal(path)


@pytest.mark.skipif(sys.platform == "win32", reason="Windows file names are always Unicode")
def test_a_file_name_that_is_not_utf8_reads_and_is_shown_escaped(tmp_path: Path) -> None:
    path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/orders-\xff\xfe.csv"))
    path.write_bytes(b"PO_NUMBER\nPO123456\n")
    assert [r.po_id for r in read_batch(path).records] == ["123456"]
    path.write_bytes(b"")
    assert refusal(path).startswith(f"{tmp_path}/orders-\\xff\\xfe.csv is empty.")


@pytest.mark.parametrize(("line", "shown"), [('sep="', 'sep="'), ("sep=\r", "sep=\\r")])
def test_a_sep_line_naming_a_quote_or_a_line_break_is_refused(tmp_path: Path, line: str, shown: str) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(f"{line}\nPO_NUMBER\nPO123456\n".encode())
    assert (
        f"starts with the line {shown}, which names no usable delimiter. Remove that first line, "
        "or write sep=; or sep=, instead." in refusal(path)
    )


def test_a_ten_mb_cell_is_named_as_a_long_cell_not_a_quote(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("PO_NUMBER;X\nPO123456;" + "y" * 10_000_000 + "\n", encoding="utf-8")
    message = refusal(path)
    assert "has a cell longer than 131,072 characters on line 2" in message and "quote" not in message


def test_a_header_of_many_long_names_is_listed_briefly(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(";".join(f"{i}" + "h" * 500 for i in range(1000)) + "\n", encoding="utf-8")
    message = refusal(path)
    assert "and 992 more)" in message and len(message) < 1200


def test_a_po_number_has_a_maximum_length() -> None:
    assert normalise_po("PO" + "1" * MAX_PO_CHARS) == ("1" * MAX_PO_CHARS, "")
    assert normalise_po("PO" + "1" * 9998) == (
        None,
        f"too long for a PO number (9,998 characters, at most {MAX_PO_CHARS})",
    )


def test_a_csv_wider_than_the_column_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("PO_NUMBER\nPO123456" + ";" * 1500 + "\n", encoding="utf-8")
    assert "has more than 1,000 columns (line 2 has 1,501). Keep only the columns you need" in refusal(path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_file_with_more_cells_than_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    from popool_gui.batch import input as batch_input

    monkeypatch.setattr(batch_input, "MAX_CELLS", 50)
    path = tmp_path / f"orders{suffix}"
    rows = [["PO_NUMBER", "A", "B"]] + [[f"PO{100_000 + i}", "a", "b"] for i in range(20)]
    if suffix == ".csv":
        path.write_text("".join(";".join(r) + "\n" for r in rows), encoding="utf-8")
    else:
        book = openpyxl.Workbook()
        for r in rows:
            book.active.append(r)
        book.save(path)
    assert "more than 50 cells" in refusal(path)
