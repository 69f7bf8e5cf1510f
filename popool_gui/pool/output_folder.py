"""The output folder checked and made before a run starts, so that no problem with it surfaces mid-run."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from popool_gui.batch import report
from popool_gui.batch.journal import JOURNAL_DIR
from popool_gui.safe_text import printable
from popool_gui.settings import ResultsFormat

_WHERE = "Choose another output folder (Change... beside it in the window, or --output)."
_RESULTS_EXTENSIONS = {
    ResultsFormat.CSV: (".csv",),
    ResultsFormat.XLSX: (".xlsx",),
    ResultsFormat.CSV_AND_XLSX: (".csv", ".xlsx"),
}


class OutputFolderError(Exception):
    """The output folder cannot be used; the message names it and says what to do."""


def ensure_output_dir(folder: Path, results_format: ResultsFormat, input_path: Path | None = None) -> None:
    """Make `folder` if needed and make sure popool can write there: its files, its journal, its results."""
    if input_path is not None and _same(folder, input_path):
        raise _fail(folder, "is the input file itself, not a folder", _WHERE)
    try:
        if folder.exists() and not folder.is_dir():
            raise _fail(folder, "is a file, not a folder", _WHERE)
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # the rights to create a file there, whatever the mode bits say
            pass
    except NotADirectoryError as exc:
        blocker = next((p for p in folder.parents if p.exists() and not p.is_dir()), None)
        what = f"{printable(str(blocker))} is a file" if blocker else "a part of its path is a file"
        raise _fail(folder, f"cannot be made: {what}", _WHERE) from exc
    except PermissionError as exc:
        raise _fail(folder, "cannot be written to: you lack permission there", _WHERE) from exc
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise _fail(folder, "has a name too long for the file system", "Choose a shorter folder name.") from exc
        raise _fail(folder, f"cannot be used ({exc.strerror or exc})", _WHERE) from exc
    for ext in _RESULTS_EXTENSIONS[results_format]:
        target = report.results_path(folder, ext)
        if target.is_dir():  # the results write at the end of the run would fail
            raise _fail(
                folder,
                f"holds a folder named {target.name} where popool writes its results",
                "Rename or move that folder, or choose another output folder.",
            )
    own = folder / JOURNAL_DIR
    if own.exists() and not own.is_dir():
        raise _fail(
            folder,
            f"holds a file named {JOURNAL_DIR} where popool keeps its journal and lock",
            "Rename or move that file, or choose another output folder.",
        )


def _fail(folder: Path, problem: str, advice: str) -> OutputFolderError:
    return OutputFolderError(f"the output folder {printable(str(folder))} {problem}. {advice}")


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
