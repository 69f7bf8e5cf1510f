"""`popool run` as a new user meets it with bad input: each case is one line naming the file, row, setting or flag
and what to do, its exit code, no traceback and no escape sequence on the terminal, within seconds, before any
browser starts (no case here has a PO a browser could open)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.xlsx_bombs import sheet_without_dimension

BASE_URL = ["--base-url", "http://127.0.0.1:9"]
GOOD = "PO_NUMBER\nPO100001\n"
CHOOSE = "Choose another output folder (Change... beside it in the window, or --output)."


@dataclass(frozen=True)
class Case:
    args: Callable[[Path], list[str]]  # `popool run` arguments, given a folder to make files in
    expected: str  # the line popool prints, `{tmp}` standing for that folder
    code: int = 2


def write(path: Path, text: str | bytes = GOOD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def good(tmp: Path) -> str:
    return str(write(tmp / "orders.csv"))


def a_file(tmp: Path) -> str:
    return str(write(tmp / "afile", "x"))


def damaged_journal(tmp: Path) -> str:
    write(tmp / "out" / ".popool" / "journal.sqlite3", b"garbage" * 100)
    return str(tmp / "out")


def results_folder(tmp: Path) -> str:
    (tmp / "out" / "popool-results.csv").mkdir(parents=True)
    return str(tmp / "out")


def settings_file(tmp: Path, text: str) -> str:
    return str(write(tmp / "settings.toml", text))


def fifo(tmp: Path) -> str:
    os.mkfifo(tmp / "orders.csv")
    return str(tmp / "orders.csv")


def dev_zero(tmp: Path) -> str:
    (tmp / "orders.csv").symlink_to("/dev/zero")
    return str(tmp / "orders.csv")


def bytes_name(tmp: Path, name: bytes, text: str) -> str:
    path = Path(os.fsdecode(os.fsencode(tmp) + b"/" + name))
    return str(write(path, text))


LONG = "o" * 300
CASES: dict[str, Case] = {
    "output is a file": Case(
        lambda t: [good(t), "--output", a_file(t)], f"the output folder {{tmp}}/afile is a file, not a folder. {CHOOSE}"
    ),
    "output is /dev/null": Case(
        lambda t: [good(t), "--output", "/dev/null"], f"the output folder /dev/null is a file, not a folder. {CHOOSE}"
    ),
    "output is the input file": Case(
        lambda t: [good(t), "--output", good(t)],
        f"the output folder {{tmp}}/orders.csv is the input file itself, not a folder. {CHOOSE}",
    ),
    "output under a file": Case(
        lambda t: [good(t), "--output", a_file(t) + "/sub"],
        f"the output folder {{tmp}}/afile/sub cannot be made: {{tmp}}/afile is a file. {CHOOSE}",
    ),
    "output name of 300 characters": Case(
        lambda t: [good(t), "--output", str(t / ("d" * 300))],
        f"the output folder {{tmp}}/{'d' * 300} has a name too long for the file system. Choose a shorter folder name.",
    ),
    "results file is a folder": Case(
        lambda t: [good(t), "--output", results_folder(t)],
        "the output folder {tmp}/out holds a folder named popool-results.csv where popool writes its results. "
        "Rename or move that folder, or choose another output folder.",
    ),
    "damaged journal": Case(
        lambda t: [good(t), "--output", damaged_journal(t)],
        "the journal {tmp}/out/.popool/journal.sqlite3 cannot be read (file is not a database): it is damaged or not "
        "a journal; move it aside to keep it, or delete it to start over in this output folder (the window offers "
        "Start over), or choose another output folder",
    ),
    "settings names a folder": Case(
        lambda t: [good(t), "--settings", str(t)],
        "invalid settings in {tmp}: setting '(file)': is a folder, not a settings file: name the .toml file inside it",
    ),
    "settings file missing": Case(
        lambda t: [good(t), "--settings", str(t / "missing.toml")],
        "invalid settings in {tmp}/missing.toml: setting '(file)': file not found: check the path, or leave "
        "--settings out to use your own settings",
    ),
    "tabs_per_worker = inf": Case(
        lambda t: [good(t), "--settings", settings_file(t, "tabs_per_worker = inf\n")],
        "invalid settings in {tmp}/settings.toml: setting 'tabs_per_worker': must be a whole number, not inf",
    ),
    "--base-url http://": Case(
        lambda t: [good(t), "--base-url", "http://"],
        "invalid settings in the command line: --base-url: must be an http:// or https:// address with a host "
        "name, e.g. https://acme.example.com, not 'http://'",
    ),
    "--portal file name of 300 characters": Case(
        lambda t: [good(t), "--portal", f"{LONG}.toml"],
        f"portal profile: not found: '{LONG}.toml' is neither a built-in profile (coupa, demo) nor a file",
    ),
    "--driver path of 300 characters": Case(
        lambda t: [good(t), "--driver", str(t / LONG)],
        f"invalid settings in the command line: --driver: file not found: {{tmp}}/{LONG} (leave empty to search PATH)",
    ),
    "--profile-dir path of 300 characters": Case(
        lambda t: [good(t), "--profile-dir", str(t / LONG)],
        f"invalid settings in the command line: --profile-dir: folder not found: {{tmp}}/{LONG}",
    ),
    "input name of 300 characters": Case(
        lambda t: [str(t / f"{LONG}.csv")],
        f"{{tmp}}/{LONG}.csv has a name too long for the file system. Rename it or its folder shorter.",
    ),
    "control characters in the file name": Case(
        lambda t: [str(write(t / "ctl\x1b]0;pwned\x07\x1b[2J.csv", "PO_NUMBER\n"))],
        "no PO numbers in {tmp}/ctl\\x1b]0;pwned\\x07\\x1b[2J.csv: the file has a header but no rows below it. Add "
        "the PO numbers under the PO_NUMBER column and load it again.",
    ),
    'sep=" line': Case(
        lambda t: [str(write(t / "orders.csv", 'sep="\n' + GOOD))],
        '{tmp}/orders.csv starts with the line sep=", which names no usable delimiter. Remove that first line, or '
        "write sep=; or sep=, instead.",
    ),
    "sep=CR line": Case(
        lambda t: [str(write(t / "orders.csv", b"sep=\r\n" + GOOD.encode()))],
        "{tmp}/orders.csv starts with the line sep=\\r, which names no usable delimiter. Remove that first line, or "
        "write sep=; or sep=, instead.",
    ),
    "one 10 MB cell": Case(
        lambda t: [str(write(t / "orders.csv", "PO_NUMBER;X\nPO100001;" + "y" * 10_000_000 + "\n"))],
        "{tmp}/orders.csv has a cell longer than 131,072 characters on line 2. A PO list has no such cells: check "
        "that this is the right file, or shorten that cell.",
    ),
    "named pipe": Case(
        lambda t: [fifo(t)],
        "{tmp}/orders.csv is not a file popool can read: it is a named pipe. Save the PO list as a .csv or .xlsx file.",
    ),
    "link to /dev/zero": Case(
        lambda t: [dev_zero(t)],
        "{tmp}/orders.csv is not a file popool can read: it is a device. Save the PO list as a .csv or .xlsx file.",
    ),
    "3 MB workbook inflating to 1 GB": Case(
        lambda t: [str(sheet_without_dimension(t / "orders.xlsx", 1024**3))],
        "{tmp}/orders.xlsx is too big to read: it inflates to 1,024 MB, more than the 256 MB popool unpacks. Keep "
        "only the PO numbers' sheet and columns (at most 100,000 rows), or export it as CSV.",
    ),
}


def run_popool(args: list[str], tmp: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "POPOOL_CONFIG_DIR": str(tmp / "config"), "POPOOL_LOG_DIR": str(tmp / "logs")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "popool_gui", "run", *args],
        env=env,
        cwd=tmp,
        capture_output=True,
        timeout=60,
        check=False,
    )
    text = subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())
    return text, time.monotonic() - started


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths, named pipes and devices")
@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_one_line_and_its_exit_code(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    # Flags given later win: each case's own replace these defaults, which keep a run out of the user's folders.
    defaults = [*BASE_URL, "--output", str(tmp_path / "default-out")]
    done, seconds = run_popool([*defaults, *case.args(tmp_path)], tmp_path)
    assert "Traceback" not in done.stderr and "\x1b" not in done.stderr
    assert done.returncode == case.code, done.stderr
    assert done.stderr.splitlines() == ["popool: " + case.expected.replace("{tmp}", str(tmp_path))]
    assert seconds < 30
    assert not list(tmp_path.rglob("run-*")), "no browser's run folder was made"


@pytest.mark.skipif(sys.platform == "win32", reason="Windows file names are always Unicode")
def test_rows_too_long_and_a_name_that_is_not_utf8_are_reported_without_a_browser(tmp_path: Path) -> None:
    # Only invalid rows: the run ends at once, without a worker, and writes its results.
    source = bytes_name(tmp_path, b"orders-\xff\xfe.csv", "PO_NUMBER\nPO" + "1" * 9998 + "\n" + "x" * 10_000 + "\n")
    done, _ = run_popool([source, "--output", str(tmp_path / "out"), *BASE_URL], tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    source_shown, cut = f"{tmp_path}/orders-\\xff\\xfe.csv", "… (10,000 characters)"
    assert lines[0] == f"0 POs from {source_shown} (2 invalid, 0 duplicate, 0 already completed) -> {tmp_path}/out"
    assert lines[1] == f"  row 1: 'PO{'1' * 78}{cut}': too long for a PO number (9,998 characters, at most 30)"
    assert lines[2].startswith(f"  row 2: '{'x' * 80}{cut}': not a PO number (expected e.g. PO15262984")
    assert max(len(line) for line in lines[1:3]) < 200, "a 10,000-character value is cut"
    assert (tmp_path / "out" / "popool-results.csv").is_file()
