"""The demo portal's made-up data: deterministic from the PO number, the promised mix, exact file sizes."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from popool_gui.demo import data
from popool_gui.demo.data import SPECIAL, PageVariant, PoKind, file_bytes, po_spec, requisition_po
from popool_gui.demo.files import MIN_SIZE, FileContext, FileKind, build_file, kind_of
from popool_gui.demo.sample import INVALID_VALUES, SPECIAL_ORDER, expected_status, write_sample_csv


def test_a_po_is_the_same_every_time_and_in_every_process() -> None:
    ids = ("100001", "100007", "15262984", "15492200")
    here = [(po_spec(i).supplier, [a.file_id for a in po_spec(i).attachments]) for i in ids]
    po_spec.cache_clear()
    assert here == [(po_spec(i).supplier, [a.file_id for a in po_spec(i).attachments]) for i in ids]
    # hash() randomisation would differ between processes; the seeded generator must not.
    code = (
        "from popool_gui.demo.data import po_spec;"
        f"print(repr([(po_spec(i).supplier, [a.file_id for a in po_spec(i).attachments]) for i in {ids!r}]))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert other.stdout.strip() == repr(here)


def test_the_seed_changes_the_data() -> None:
    ids = [str(n) for n in range(15_000_000, 15_000_050)]
    assert [po_spec(i, 0) for i in ids] != [po_spec(i, 1) for i in ids]
    assert [po_spec(i, 0) for i in ids] == [po_spec(i, 0) for i in ids]


def test_file_bytes_are_deterministic_exact_and_distinct() -> None:
    spec = po_spec("100007")
    blobs = [file_bytes("100007", a.file_id) for a in spec.attachments]
    file_bytes.cache_clear()
    assert blobs == [file_bytes("100007", a.file_id) for a in spec.attachments]
    assert [len(b) for b in blobs] == [a.size for a in spec.attachments]
    assert len(set(blobs)) == len(blobs)
    with pytest.raises(KeyError):
        file_bytes("100007", "1")


def test_the_mix_of_plain_ids_matches_the_documented_shares() -> None:
    specs = [po_spec(str(n)) for n in range(15_000_000, 15_003_000)]
    kinds = Counter(s.kind for s in specs)
    share = {kind: kinds[kind] / len(specs) for kind in PoKind}
    assert 0.77 <= share[PoKind.OK] <= 0.85
    assert 0.04 <= share[PoKind.NOT_FOUND] <= 0.08
    assert 0.03 <= share[PoKind.DENIED] <= 0.07
    assert 0.06 <= share[PoKind.REQUISITION_ONLY] <= 0.10
    ok = [s for s in specs if s.kind is PoKind.OK]
    counts = Counter(len(s.attachments) for s in ok)
    assert set(counts) == {0, 1, 2, 3, 4, 5}
    assert 0.07 <= counts[0] / len(ok) <= 0.13
    assert any(len({a.name for a in s.attachments}) < len(s.attachments) for s in ok)  # duplicate names occur
    assert any(not a.name.isascii() for s in ok for a in s.attachments)  # unicode names occur
    assert {v for s in specs if s.kind is PoKind.NOT_FOUND for v in [s.variant]} == {
        PageVariant.STANDARD,
        PageVariant.MISSING_PAGE,
        PageVariant.PORTUGUESE,
    }
    for spec in specs:
        if spec.kind is PoKind.REQUISITION_ONLY:
            assert not spec.attachments and 1 <= len(spec.requisition_attachments) <= 3
        if spec.requisition_attachments and spec.kind is PoKind.OK:
            # Only POs that show a PDF have requisition files, so neither fallback rule takes them.
            assert any(a.kind is FileKind.PDF for a in spec.attachments)
        sizes_ok = all(
            data.DEFAULT_SIZE_RANGE[0] <= a.size <= data.DEFAULT_SIZE_RANGE[1] or a.size == MIN_SIZE[a.kind]
            for a in (*spec.attachments, *spec.requisition_attachments)
        )
        assert sizes_ok


def test_non_numeric_ids_are_not_found() -> None:
    assert po_spec("ABC").kind is PoKind.NOT_FOUND
    assert po_spec("ABC").variant is PageVariant.MISSING_PAGE


def test_special_pos_hold_what_the_table_says() -> None:
    assert [a.name for a in po_spec("100001").attachments] == ["invoice.pdf", "invoice.pdf", "price list.xlsx"]
    hostile = [a.name for a in po_spec("100002").attachments]
    assert {"../../evil.txt", "CON.txt", "NUL", "a:b*c?.pdf", 'quote "final".pdf'} <= set(hostile)
    assert any(len(n) == 300 for n in hostile)
    assert po_spec("100003").kind is PoKind.NOT_FOUND and po_spec("100004").kind is PoKind.DENIED
    assert po_spec("100005").requisition_id == "7100005" and len(po_spec("100005").requisition_attachments) == 3
    assert not po_spec("100006").attachments and po_spec("100006").requisition_id is None
    assert {a.kind for a in po_spec("100007").attachments} == set(FileKind) - {FileKind.BIN}
    assert po_spec("100008").attachments[0].size == data.BIG_FILE_SIZE
    assert po_spec("100009").requisition_id and not po_spec("100009").requisition_attachments
    assert po_spec("100012").variant is PageVariant.PORTUGUESE
    assert po_spec("100013").variant is PageVariant.ERROR_EXPLANATION
    assert po_spec("100014").supplier == "Smith & Sons / Partners: A.B.C."
    assert len(po_spec("100015").attachments) == 12
    assert [a.truncated for a in po_spec("100016").attachments] == [False, True, False]
    for po_id in SPECIAL:  # special contents do not depend on the seed
        assert [a.name for a in po_spec(po_id, 0).attachments] == [a.name for a in po_spec(po_id, 5).attachments]


def test_requisitions_point_back_to_their_po() -> None:
    assert requisition_po("7100005") == po_spec("100005")
    assert requisition_po("7100006") is None  # 100006 has no requisition
    assert requisition_po("100005") is None  # not a requisition id


@pytest.mark.parametrize("kind", [k for k in FileKind])
def test_every_builder_hits_the_exact_size(kind: FileKind) -> None:
    context = FileContext(po_id="123456", file_id="87654321", name=f"x.{kind.value}", supplier="株式会社サンプル商事")
    for size in (MIN_SIZE[kind], MIN_SIZE[kind] + 1, 10_007, 150_000):
        assert len(build_file(kind, size, context)) == size
    with pytest.raises(ValueError, match="at least"):
        build_file(kind, MIN_SIZE[kind] - 1, context)


def test_kind_of() -> None:
    assert kind_of("a.PDF") is FileKind.PDF and kind_of("b.jpeg") is FileKind.JPG
    assert kind_of("NUL") is FileKind.BIN and kind_of("x.weird") is FileKind.BIN


def test_expected_statuses() -> None:
    assert [expected_status(i) for i in ("100001", "100003", "100004", "100005", "100006", "100009", "100016")] == [
        "COMPLETED",
        "PO_NOT_FOUND",
        "ACCESS_DENIED",
        "COMPLETED",
        "NO_ATTACHMENTS",
        "NO_ATTACHMENTS",
        "PARTIAL",
    ]


def test_the_sample_csv(tmp_path: Path) -> None:
    path = write_sample_csv(tmp_path / "in" / "sample.csv", 40)
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines(), delimiter=";"))
    assert rows[0] == ["PO_NUMBER", "SUPPLIER", "COST_CENTER"]
    values = [r[0] for r in rows[1:]]
    assert len(values) == 40
    for invalid in INVALID_VALUES:
        assert invalid in values
    assert len(values) - len(set(values)) == 1  # one duplicate
    digits = {"".join(c for c in v if c.isdigit()) for v in values}
    assert set(SPECIAL_ORDER[:18]) <= digits
    assert write_sample_csv(tmp_path / "again.csv", 40).read_bytes() == path.read_bytes()
    assert len(write_sample_csv(tmp_path / "small.csv", 5).read_text(encoding="utf-8").splitlines()) == 6
    with pytest.raises(ValueError):
        write_sample_csv(tmp_path / "bad.csv", -1)
