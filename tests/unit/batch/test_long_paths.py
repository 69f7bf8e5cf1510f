r"""Windows paths beyond MAX_PATH: the extended form (`\\?\`) for file operations, the plain form for people.

The Windows form is built with `windows=True` (or a Windows `sys.platform`), so these run anywhere; on other
systems `long_path` changes nothing and the real file operations are tested as they are.
"""

from __future__ import annotations

import ntpath
import os
import sys
from pathlib import Path, PureWindowsPath
from xml.dom import minidom

import pytest

from popool_gui.batch import layout, report, run_report
from popool_gui.batch.layout import (
    MAX_PLAIN_PATH,
    attachment_file_name,
    final_folder,
    long_path,
    os_error_text,
    parent_levels,
    plain_path,
    po_folder_name,
    work_folder,
)
from popool_gui.batch.model import PoRecord, PoResult, PoStatus, RunState, RunSummary
from popool_gui.browser import downloads
from popool_gui.browser.tab_runner import crash_text
from popool_gui.settings import ResultsFormat

ROOT = Path(__file__).resolve().parents[3]
EXTENDED = "\\\\?\\"
# A OneDrive-synced Documents folder of a company with a long name, 200 characters in all: about the longest
# output folder a user can reasonably have.
ONEDRIVE = (
    "C:\\Users\\firstname.lastname-contractor\\OneDrive - Contoso International Procurement Services GmbH\\Documents"
)
OUTPUT = ONEDRIVE + "\\" + "Purchase orders " + "x" * (200 - len(ONEDRIVE) - 17)
LEVELS = 4  # hierarchy columns after `<|>`: region, business unit, category, supplier
LONGEST_STATUS = max(PoStatus, key=lambda status: len(str(status)))


def longest_record() -> PoRecord:
    """A PO whose every name is cut by the layout's own limits: hierarchy levels, key and all."""
    key = "PO" + "7" * 300
    return PoRecord(key=key, po_id=key[2:], row_number=1, row={}, hierarchy=("Hierarchy" * 40,) * LEVELS)


def longest_attachment_path(output: str) -> str:
    """The plain Windows path of the longest attachment file popool can file below `output`."""
    record = longest_record()
    name = attachment_file_name(record.key, "Signed contract amendment " * 20 + ".pdf")
    return str(PureWindowsPath(output, *parent_levels(record, ""), po_folder_name(record.key, LONGEST_STATUS), name))


def test_the_composed_path_is_the_layouts_own(tmp_path: Path) -> None:
    record = longest_record()
    folder = final_folder(tmp_path, record, "", LONGEST_STATUS)
    assert folder.relative_to(tmp_path).parts == (
        *parent_levels(record, ""),
        po_folder_name(record.key, LONGEST_STATUS),
    )


def test_the_longest_path_popool_makes_gets_the_extended_form_on_windows() -> None:
    assert len(OUTPUT) == 200
    plain = longest_attachment_path(OUTPUT)
    names = PureWindowsPath(plain).parts[-(LEVELS + 2) :]  # the levels, the PO folder, the file
    assert [len(name) for name in names] == [layout.DEFAULT_MAX_LEN] * (LEVELS + 2)
    assert len(plain) > 3 * 260
    extended = long_path(Path(plain), windows=True)
    assert str(extended) == EXTENDED + plain
    assert str(plain_path(extended)) == plain


def test_work_folder_of_the_longest_po_gets_the_extended_form(tmp_path: Path) -> None:
    record = longest_record()
    folder = work_folder(tmp_path, record, "")
    plain = str(PureWindowsPath(OUTPUT, *folder.relative_to(tmp_path).parts))
    assert str(long_path(Path(plain), windows=True)) == EXTENDED + plain


@pytest.mark.parametrize("windows", [True, False])
def test_short_paths_stay_as_they_are(windows: bool) -> None:
    short = Path("C:\\Users\\ana\\Documents\\popool\\orders\\Acme\\PO15262984_COMPLETED\\PO15262984_invoice.pdf")
    assert long_path(short, windows=windows) is short


def test_the_bound_is_max_plain_path() -> None:
    at_bound = "C:\\" + "a" * (MAX_PLAIN_PATH - 3)
    assert long_path(Path(at_bound), windows=True) == Path(at_bound)
    assert str(long_path(Path(at_bound + "b"), windows=True)) == EXTENDED + at_bound + "b"


def test_other_systems_are_never_changed() -> None:
    plain = Path(longest_attachment_path(OUTPUT))
    assert long_path(plain, windows=False) is plain
    deep = Path("/home/ana/" + "x/" * 200)
    assert long_path(deep, windows=False) is deep


@pytest.mark.skipif(sys.platform == "win32", reason="the default follows this system")
def test_the_default_follows_the_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = longest_attachment_path(OUTPUT)
    assert long_path(Path(plain)) == Path(plain)
    monkeypatch.setattr(sys, "platform", "win32")
    assert str(long_path(Path(plain))) == EXTENDED + plain


def test_unc_paths_get_the_unc_form() -> None:
    share = "\\\\fileserver.contoso.local\\Procurement$\\Purchase orders"
    plain = longest_attachment_path(share)
    extended = long_path(Path(plain), windows=True)
    assert str(extended) == "\\\\?\\UNC\\" + plain[2:]
    assert str(plain_path(extended)) == plain


@pytest.mark.parametrize(
    "given",
    [
        EXTENDED + "C:\\" + "a\\" * 200 + "f.pdf",
        "\\\\?\\UNC\\server\\share\\" + "a\\" * 200 + "f.pdf",
        "\\\\.\\C:\\" + "a\\" * 200 + "f.pdf",  # a device path is left to whoever wrote it
    ],
)
def test_never_applied_twice(given: str) -> None:
    once = long_path(Path(given), windows=True)
    assert str(once) == given
    assert long_path(once, windows=True) == once


def test_the_extended_form_is_absolute_and_normalised() -> None:
    # Under the prefix Windows takes the path literally: forward slashes and ".." must be gone before.
    messy = "C:/Users/ana/../ana/./OneDrive/" + "/".join(["Level " * 20] * 3) + "/PO1_COMPLETED/PO1_a.pdf"
    extended = str(long_path(Path(messy), windows=True))
    assert extended == EXTENDED + ntpath.normpath(messy)
    assert "/" not in extended and "\\..\\" not in extended and "\\.\\" not in extended


def test_room_counts_the_names_made_inside_a_folder() -> None:
    folder = Path("C:\\" + "f" * 230)
    assert long_path(folder, windows=True) == folder
    assert str(long_path(folder, room=40, windows=True)) == EXTENDED + str(folder)


def test_plain_path_leaves_plain_paths_alone() -> None:
    for text in ("C:\\Users\\ana\\x.pdf", "\\\\server\\share\\x.pdf", "/home/ana/x.pdf"):
        assert plain_path(Path(text)) == Path(text)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError(2, "No such file or directory", EXTENDED + "C:\\a\\b.pdf"), "No such file or directory: C:\\a\\b.pdf"),
        (
            OSError(13, "Permission denied", "\\\\?\\UNC\\srv\\s\\a.pdf", None, EXTENDED + "C:\\b.pdf"),
            "Permission denied: \\\\srv\\s\\a.pdf -> C:\\b.pdf",
        ),
        (OSError(28, "No space left on device"), "No space left on device"),
        (OSError("something else"), "something else"),
    ],
)
def test_os_errors_name_plain_paths(error: OSError, expected: str) -> None:
    assert os_error_text(error) == expected


def test_mkstemp_in_makes_the_file_in_the_folder(tmp_path: Path) -> None:
    fd, tmp = layout.mkstemp_in(tmp_path, prefix=".x-", suffix=".tmp")
    os.close(fd)
    assert tmp.parent == tmp_path and tmp.name.startswith(".x-") and tmp.is_file()
    assert len(tmp.name) == len(".x-") + layout.TEMP_RANDOM_CHARS + len(".tmp")


class _Recorder:
    """long_path as a spy: what went through it, still a no-op so the real file operations run."""

    def __init__(self) -> None:
        self.seen: list[Path] = []

    def __call__(self, path: Path, *, room: int = 0, windows: bool | None = None) -> Path:
        self.seen.append(Path(path))
        return path


def test_file_operations_go_through_long_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _Recorder()
    monkeypatch.setattr(layout, "long_path", spy)
    monkeypatch.setattr(downloads, "long_path", spy)
    work, final = tmp_path / "Acme" / "PO1__WORK", tmp_path / "Acme" / "PO1_COMPLETED"
    earlier = tmp_path / "Acme" / "PO1_PARTIAL"
    earlier.mkdir(parents=True)
    (earlier / "PO1_old.pdf").write_bytes(b"old")
    staged = tmp_path / "staged.pdf"
    staged.write_bytes(b"new")
    dest = layout.unique_path(work, "PO1_new.pdf")
    downloads.move_verified(staged, dest)
    assert {staged, dest} <= set(spy.seen)
    assert layout.finalize(work, final) == final
    assert {work, final, earlier / "PO1_old.pdf", final / "PO1_old.pdf", earlier} <= set(spy.seen)
    assert sorted(p.name for p in final.iterdir()) == ["PO1_new.pdf", "PO1_old.pdf"]


def test_results_and_report_are_written_through_long_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _Recorder()
    for module in (layout, report, run_report):
        monkeypatch.setattr(module, "long_path", spy)
    done = PoResult(key="PO1", status=PoStatus.COMPLETED, finished_at=1_790_000_000.0)
    written = report.write_results(tmp_path, ("PO_NUMBER",), ";", [({"PO_NUMBER": "PO1"}, done)], ResultsFormat.CSV)
    summary = RunSummary(RunState.FINISHED, {"COMPLETED": 1}, 1, 1, 1.0, 1.0, str(tmp_path), ())
    page = run_report.write_report(tmp_path, [done], run_report.RunFacts(summary, 1))
    assert written == [report.results_path(tmp_path, ".csv")] and page == tmp_path / run_report.REPORT_FILE
    assert {tmp_path, *written, page} <= set(spy.seen)  # the folder of the temporary files, then their targets
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([written[0].name, page.name])


def test_the_windows_manifest_declares_long_path_awareness() -> None:
    manifest = minidom.parse(str(ROOT / "resources" / "popool.manifest"))
    aware = manifest.getElementsByTagNameNS("http://schemas.microsoft.com/SMI/2016/WindowsSettings", "longPathAware")
    assert [node.firstChild.data for node in aware] == ["true"]
    spec = (ROOT / "popool.spec").read_text(encoding="utf-8")
    assert '"popool.manifest"' in spec and "manifest=MANIFEST" in spec


def test_pyinstaller_keeps_long_path_awareness_in_the_manifest() -> None:
    winmanifest = pytest.importorskip("PyInstaller.utils.win32.winmanifest")
    built = winmanifest.create_application_manifest((ROOT / "resources" / "popool.manifest").read_bytes())
    assert b'<longPathAware xmlns="http://schemas.microsoft.com/SMI/2016/WindowsSettings">true</longPathAware>' in built


def test_a_po_that_fails_on_a_long_path_reports_it_plain() -> None:
    long_file = EXTENDED + longest_attachment_path(OUTPUT)
    error = FileNotFoundError(2, "No such file or directory", long_file)
    assert crash_text(error) == f"FileNotFoundError: No such file or directory: {long_file[len(EXTENDED) :]}"
