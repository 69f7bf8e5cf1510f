"""The output folder is checked and made before a run: each way it cannot be used is one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from popool_gui.pool.output_folder import OutputFolderError, ensure_output_dir
from popool_gui.settings import ResultsFormat

CHOOSE = "Choose another output folder (Change... beside it in the window, or --output)."


def refusal(folder: Path, input_path: Path | None = None, fmt: ResultsFormat = ResultsFormat.CSV_AND_XLSX) -> str:
    with pytest.raises(OutputFolderError) as caught:
        ensure_output_dir(folder, fmt, input_path)
    return str(caught.value)


def test_a_missing_folder_is_made(tmp_path: Path) -> None:
    ensure_output_dir(tmp_path / "a" / "b", ResultsFormat.CSV)
    assert (tmp_path / "a" / "b").is_dir()


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    assert refusal(tmp_path / "afile") == f"the output folder {tmp_path / 'afile'} is a file, not a folder. {CHOOSE}"


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="POSIX")
def test_dev_null_is_not_a_folder() -> None:
    assert refusal(Path("/dev/null")) == f"the output folder /dev/null is a file, not a folder. {CHOOSE}"


def test_the_input_file_is_not_a_folder(tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("PO_NUMBER\n", encoding="utf-8")
    assert refusal(orders, orders) == f"the output folder {orders} is the input file itself, not a folder. {CHOOSE}"


def test_a_folder_under_a_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    assert refusal(tmp_path / "afile" / "sub" / "deeper") == (
        f"the output folder {tmp_path / 'afile' / 'sub' / 'deeper'} cannot be made: {tmp_path / 'afile'} is a file. "
        f"{CHOOSE}"
    )


def test_a_name_too_long_for_the_file_system(tmp_path: Path) -> None:
    assert refusal(tmp_path / ("d" * 300)).endswith(
        "has a name too long for the file system. Choose a shorter folder name."
    )


@pytest.mark.parametrize(
    ("fmt", "name"), [(ResultsFormat.CSV, "popool-results.csv"), (ResultsFormat.XLSX, "popool-results.xlsx")]
)
def test_a_folder_where_the_results_file_goes_is_refused(tmp_path: Path, fmt: ResultsFormat, name: str) -> None:
    (tmp_path / name).mkdir()
    assert refusal(tmp_path, fmt=fmt) == (
        f"the output folder {tmp_path} holds a folder named {name} where popool writes its results. "
        "Rename or move that folder, or choose another output folder."
    )


def test_a_file_where_the_journal_and_lock_go_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".popool").write_text("x", encoding="utf-8")
    assert refusal(tmp_path) == (
        f"the output folder {tmp_path} holds a file named .popool where popool keeps its journal and lock. "
        "Rename or move that file, or choose another output folder."
    )
