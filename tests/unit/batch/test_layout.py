"""Folder and file names: Windows-valid, stable, never outside the output folder; one final folder per PO."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from popool_gui.batch import layout
from popool_gui.batch.layout import (
    PO_FOLDER_WORK_SUFFIX,
    attachment_file_name,
    final_folder,
    finalize,
    parent_levels,
    po_folder_name,
    safe_join,
    sanitize_component,
    unique_path,
    work_folder,
)
from popool_gui.batch.model import UNKNOWN_LEVEL, PoRecord, PoStatus

RESERVED_CHARS = set('<>:"/\\|?*')
DEVICE_NAMES = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{n}" for d in ("COM", "LPT") for n in range(1, 10)}

# Text that stresses the rules: separators, dots, spaces, device names, drive letters, UNC, wide characters.
tricky_text = st.lists(
    st.one_of(
        st.sampled_from([*list('<>:"/\\|?*. ~\x00\x1f\t\n'), "CON", "nul", "Com1", "..", "C:", "\\\\srv\\share"]),
        st.characters(),
    ),
    max_size=300,
).map("".join)


def assert_windows_valid(name: str, max_len: int = layout.DEFAULT_MAX_LEN) -> None:
    assert name, "never empty"
    assert not RESERVED_CHARS & set(name)
    assert all(ord(ch) >= 32 for ch in name)
    assert not name.endswith((".", " "))
    assert not name.startswith(" ")
    assert name not in (".", "..")
    assert name.split(".", 1)[0].rstrip(" ").upper() not in DEVICE_NAMES
    assert len(name) <= max_len
    assert len(name.encode("utf-8")) <= 255


def record(key: str = "PO15262984", hierarchy: tuple[str, ...] = (), supplier: str = "") -> PoRecord:
    return PoRecord(
        key=key,
        po_id=key.removeprefix("PO"),
        row_number=1,
        row={"PO_NUMBER": key},
        hierarchy=hierarchy,
        input_supplier=supplier,
    )


# ----------------------------------------------------------------- sanitize_component


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("invoice.pdf", "invoice.pdf"),
        ('a<b>c:d"e/f\\g|h?i*j', "a_b_c_d_e_f_g_h_i_j"),
        ("tab\there\x00nul", "tab_here_nul"),
        ("  lead and trail. . ", "lead and trail"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("Lpt9.tar.gz", "_Lpt9.tar.gz"),
        ("COM1 .txt", "_COM1 .txt"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        (".", "_"),
        ("..", "_"),
        ("", "_"),
        ("   ", "_"),
        ("...", "_"),
        (".hidden", ".hidden"),
        ("~", "~"),
    ],
)
def test_sanitize_examples(raw: str, expected: str) -> None:
    assert sanitize_component(raw) == expected


def test_truncation_keeps_the_extension() -> None:
    name = sanitize_component("x" * 300 + ".pdf")
    assert name.endswith(".pdf")
    assert len(name) == layout.DEFAULT_MAX_LEN


def test_truncation_respects_max_len_and_utf8_bytes() -> None:
    assert len(sanitize_component("abcdef.txt", max_len=7)) <= 7
    wide = sanitize_component("€" * 200 + ".pdf", max_len=200)
    assert len(wide.encode("utf-8")) <= 255
    assert wide.endswith(".pdf")


def test_long_extension_is_not_kept_whole() -> None:
    name = sanitize_component("a" * 10 + "." + "b" * 200, max_len=50)
    assert len(name) == 50


def test_truncation_never_creates_a_device_name() -> None:
    assert sanitize_component("CONSOLE.txt", max_len=7) == "_CO.txt"


def test_max_len_must_be_positive() -> None:
    with pytest.raises(ValueError):
        sanitize_component("x", max_len=0)


@settings(max_examples=400)
@given(tricky_text, st.integers(min_value=1, max_value=200))
def test_sanitize_properties(raw: str, max_len: int) -> None:
    name = sanitize_component(raw, max_len)
    assert_windows_valid(name, max_len)
    assert sanitize_component(name, max_len) == name


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(tricky_text, min_size=1, max_size=4))
def test_safe_join_never_escapes(tmp_path: Path, parts: list[str]) -> None:
    root = tmp_path / "out"
    root.mkdir(exist_ok=True)
    path = safe_join(root, *parts)
    assert path.resolve().is_relative_to(root.resolve())
    assert path.resolve() != root.resolve()
    assert len(path.relative_to(root).parts) == len(parts)
    for part in path.relative_to(root).parts:
        assert_windows_valid(part)


# ----------------------------------------------------------------- safe_join


@pytest.mark.parametrize(
    "part",
    ["..", "../../etc/passwd", "/etc/passwd", "C:\\Windows", "C:", "\\\\server\\share", "a\x00b", "~", "~/x", "."],
)
def test_safe_join_hostile_parts_stay_inside(tmp_path: Path, part: str) -> None:
    path = safe_join(tmp_path, part)
    assert path.parent == tmp_path
    assert "/" not in path.name and "\\" not in path.name


def test_safe_join_refuses_a_symlink_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="not inside"):
        safe_join(root, "link", "x")


def test_safe_join_refuses_the_root_itself(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        safe_join(tmp_path)


# ----------------------------------------------------------------- folders


def test_po_folder_name() -> None:
    assert po_folder_name("PO15262984", PoStatus.COMPLETED) == "PO15262984_COMPLETED"
    assert po_folder_name("PO1/2", PoStatus.NO_ATTACHMENTS) == "PO1_2_NO_ATTACHMENTS"
    long = po_folder_name("P" * 300, PoStatus.PO_NOT_FOUND)
    assert long.endswith("_PO_NOT_FOUND") and len(long) <= layout.DEFAULT_MAX_LEN


def test_parent_levels_hierarchy_supplier_unknown() -> None:
    assert parent_levels(record(hierarchy=("EMEA", "Plant: 7", "")), "ACME") == ("EMEA", "Plant_ 7", UNKNOWN_LEVEL)
    assert parent_levels(record(), "ACME/Corp.") == ("ACME_Corp",)
    assert parent_levels(record(supplier="From input"), "  ") == ("From input",)
    assert parent_levels(record(), "") == (UNKNOWN_LEVEL,)


def test_work_and_final_folders(tmp_path: Path) -> None:
    rec = record()
    assert work_folder(tmp_path, rec, "ACME") == tmp_path / "ACME" / f"PO15262984{PO_FOLDER_WORK_SUFFIX}"
    assert final_folder(tmp_path, rec, "ACME", PoStatus.PARTIAL) == tmp_path / "ACME" / "PO15262984_PARTIAL"
    hostile = record(key="../../PO1", hierarchy=("..", "C:\\x"))
    assert final_folder(tmp_path, hostile, "", PoStatus.COMPLETED).resolve().is_relative_to(tmp_path.resolve())


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def make(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_finalize_renames_work(tmp_path: Path) -> None:
    work = make(tmp_path / f"PO1{PO_FOLDER_WORK_SUFFIX}", {"PO1_a.pdf": b"a"})
    final = finalize(work, tmp_path / "PO1_COMPLETED")
    assert final == tmp_path / "PO1_COMPLETED"
    assert not work.exists()
    assert files_under(final) == {"PO1_a.pdf": b"a"}


def test_finalize_removes_an_empty_work_folder(tmp_path: Path) -> None:
    work = make(tmp_path / f"PO1{PO_FOLDER_WORK_SUFFIX}", {})
    final = finalize(work, tmp_path / "PO1_NO_ATTACHMENTS")
    assert not work.exists() and not final.exists()


def test_finalize_merges_into_existing_final_new_files_keep_their_names(tmp_path: Path) -> None:
    final = make(tmp_path / "PO1_COMPLETED", {"PO1_a.pdf": b"old a", "PO1_same.pdf": b"same", "PO1_old.pdf": b"o"})
    work = make(tmp_path / f"PO1{PO_FOLDER_WORK_SUFFIX}", {"PO1_a.pdf": b"new a", "PO1_same.pdf": b"same"})
    finalize(work, final)
    assert files_under(final) == {
        "PO1_a.pdf": b"new a",
        "PO1_a_2.pdf": b"old a",
        "PO1_same.pdf": b"same",
        "PO1_old.pdf": b"o",
    }
    assert not work.exists()


def test_finalize_folds_in_other_status_folders_of_the_same_po(tmp_path: Path) -> None:
    make(tmp_path / "PO1_PARTIAL", {"PO1_a.pdf": b"a", "PO1_b.pdf": b"old b", "sub/x.txt": b"x"})
    make(tmp_path / "PO1_PO_NOT_FOUND", {})
    make(tmp_path / "PO12_PARTIAL", {"PO12_z.pdf": b"z"})  # another PO: untouched
    make(tmp_path / "PO1_NOTES", {"n.txt": b"n"})  # not a status folder: untouched
    work = make(tmp_path / f"PO1{PO_FOLDER_WORK_SUFFIX}", {"PO1_a.pdf": b"a", "PO1_b.pdf": b"new b"})
    final = finalize(work, tmp_path / "PO1_COMPLETED")
    assert files_under(final) == {
        "PO1_a.pdf": b"a",
        "PO1_b.pdf": b"new b",
        "PO1_b_2.pdf": b"old b",
        "sub/x.txt": b"x",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["PO12_PARTIAL", "PO1_COMPLETED", "PO1_NOTES"]


def test_finalize_without_work_still_collects_earlier_folders(tmp_path: Path) -> None:
    make(tmp_path / "PO1_FAILED", {"PO1_a.pdf": b"a"})
    final = finalize(tmp_path / f"PO1{PO_FOLDER_WORK_SUFFIX}", tmp_path / "PO1_COMPLETED")
    assert files_under(final) == {"PO1_a.pdf": b"a"}
    assert not (tmp_path / "PO1_FAILED").exists()


def test_finalize_never_loses_a_file(tmp_path: Path) -> None:
    before: list[bytes] = []
    for i, status in enumerate(("PARTIAL", "FAILED", "NO_ATTACHMENTS")):
        content = {"PO1_x.pdf": f"v{i}".encode(), f"PO1_{i}.pdf": b"unique"}
        make(tmp_path / f"PO1_{status}", content)
        before += content.values()
    work = make(tmp_path / f"PO1{PO_FOLDER_WORK_SUFFIX}", {"PO1_x.pdf": b"new"})
    final = finalize(work, tmp_path / "PO1_COMPLETED")
    after = files_under(final)
    # Identical copies ("unique" three times) are kept once; every distinct content survives.
    assert set(after.values()) == {*before, b"new"}
    assert after["PO1_x.pdf"] == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["PO1_COMPLETED"]


# ----------------------------------------------------------------- files


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("invoice.pdf", "PO15262984_invoice.pdf"),
        ("PO15262984_invoice.pdf", "PO15262984_invoice.pdf"),
        ("po15262984 quote.msg", "po15262984 quote.msg"),
        ("PO15262984.pdf", "PO15262984.pdf"),
        ("PO152629841.pdf", "PO15262984_PO152629841.pdf"),
        ("a/b:c.pdf", "PO15262984_a_b_c.pdf"),
        ("  ", "PO15262984_attachment"),
        ("CON", "PO15262984_CON"),
    ],
)
def test_attachment_file_name(original: str, expected: str) -> None:
    assert attachment_file_name("PO15262984", original) == expected


def test_attachment_file_name_keeps_prefix_and_extension_when_long() -> None:
    name = attachment_file_name("PO1", "y" * 400 + ".docx")
    assert name.startswith("PO1_") and name.endswith(".docx")
    assert_windows_valid(name)


def test_unique_path_numbers_duplicates_case_insensitively(tmp_path: Path) -> None:
    assert unique_path(tmp_path / "missing", "a.pdf") == tmp_path / "missing" / "a.pdf"
    (tmp_path / "A.PDF").write_bytes(b"1")
    assert unique_path(tmp_path, "a.pdf") == tmp_path / "a_2.pdf"
    (tmp_path / "a_2.pdf").write_bytes(b"2")
    assert unique_path(tmp_path, "a.pdf") == tmp_path / "a_3.pdf"
    (tmp_path / "noext").write_bytes(b"")
    assert unique_path(tmp_path, "noext") == tmp_path / "noext_2"


def test_unique_path_at_max_length_keeps_number_and_extension(tmp_path: Path) -> None:
    name = sanitize_component("z" * 300 + ".pdf")
    (tmp_path / name).write_bytes(b"")
    second = unique_path(tmp_path, name)
    assert second.name.endswith("_2.pdf")
    assert_windows_valid(second.name)


def test_unique_path_sanitises(tmp_path: Path) -> None:
    assert unique_path(tmp_path, "../evil") == tmp_path / ".._evil"
    assert os.sep not in unique_path(tmp_path, "a/b").name


def outside_folder(tmp_path: Path) -> Path:
    return make(tmp_path / "elsewhere", {"private.docx": b"the user's own file", "sub/notes.txt": b"n"})


@pytest.mark.parametrize("linked", ["PO1_FAILED", f"PO1{PO_FOLDER_WORK_SUFFIX}"])
def test_finalize_never_follows_a_linked_earlier_folder(tmp_path: Path, linked: str) -> None:
    outside = outside_folder(tmp_path)
    supplier = tmp_path / "out" / "Acme"
    supplier.mkdir(parents=True)
    link = supplier / linked
    link.symlink_to(outside, target_is_directory=True)
    work_name = f"PO1{PO_FOLDER_WORK_SUFFIX}"
    work = link if linked == work_name else make(supplier / work_name, {"PO1_a.pdf": b"a"})
    with pytest.raises(layout.OutputLinkError) as refused:
        finalize(work, supplier / "PO1_COMPLETED")
    assert str(link) in str(refused.value) and str(outside) in str(refused.value)
    assert files_under(outside) == {"private.docx": b"the user's own file", "sub/notes.txt": b"n"}
    final = supplier / "PO1_COMPLETED"
    assert not final.exists() or "private.docx" not in files_under(final)


def test_finalize_never_merges_into_a_linked_final_folder(tmp_path: Path) -> None:
    outside = outside_folder(tmp_path)
    final = tmp_path / "PO1_COMPLETED"
    final.symlink_to(outside, target_is_directory=True)
    work = make(tmp_path / f"PO1{PO_FOLDER_WORK_SUFFIX}", {"PO1_a.pdf": b"a"})
    with pytest.raises(layout.OutputLinkError, match="PO1_COMPLETED"):
        finalize(work, final)
    assert "PO1_a.pdf" not in files_under(outside)
    assert files_under(work) == {"PO1_a.pdf": b"a"}


def test_finalize_never_follows_a_link_inside_a_folder_it_merges(tmp_path: Path) -> None:
    outside = outside_folder(tmp_path)
    final = make(tmp_path / "PO1_COMPLETED", {"PO1_old.pdf": b"o"})
    old = make(tmp_path / "PO1_FAILED", {"PO1_b.pdf": b"b"})
    (old / "scans").symlink_to(outside, target_is_directory=True)
    with pytest.raises(layout.OutputLinkError, match="scans"):
        finalize(tmp_path / f"PO1{PO_FOLDER_WORK_SUFFIX}", final)
    assert files_under(outside) == {"private.docx": b"the user's own file", "sub/notes.txt": b"n"}
    assert "private.docx" not in files_under(final)
