"""The SQLite journal: seeding, recording, resuming after a stop or a kill -9, and input changes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from popool_gui.batch.input import read_batch
from popool_gui.batch.journal import Journal, JournalCorruptError, JournalMismatchError
from popool_gui.batch.model import Batch, PoResult, PoStatus


def write_input(path: Path, lines: list[str], header: str = "PO_NUMBER;SUPPLIER") -> Batch:
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return read_batch(path)


def done(key: str, status: PoStatus = PoStatus.COMPLETED, **kw) -> PoResult:
    return PoResult(key=key, status=status, attachments_found=2, attachments_downloaded=2, worker=1, attempts=1, **kw)


def test_seed_counts_pending_and_invalid(tmp_path):
    batch = write_input(tmp_path / "in.csv", ["PO100001;Acme", "PO100002;Beta", "abc;Gamma", "PO100001;Acme"])
    with Journal.open(tmp_path / "out", batch) as journal:
        assert journal.counts() == {"PENDING": 2, "INVALID_PO": 1}
        assert [r.key for r in journal.pending()] == ["PO100001", "PO100002"]
        rows = journal.report_rows()
    assert [row["PO_NUMBER"] for row, _ in rows] == ["PO100001", "PO100002", "abc", "PO100001"]
    assert rows[2][1].status is PoStatus.INVALID_PO and rows[2][1].error
    assert rows[3][1].status is PoStatus.PENDING, "a duplicate row follows its first occurrence"


def test_results_survive_reopen_and_interrupted_pos_are_requeued(tmp_path):
    batch = write_input(tmp_path / "in.csv", [f"PO10000{i};S{i}" for i in range(1, 6)])
    out = tmp_path / "out"
    with Journal.open(out, batch) as journal:
        journal.mark_assigned("PO100001", 1, 1, time.time())
        journal.record(done("PO100001", supplier="Acme Ltd"))
        journal.mark_assigned("PO100002", 2, 1, time.time())  # in flight when the run stopped
        journal.record(done("PO100003", PoStatus.PO_NOT_FOUND))
    with Journal.open(out, batch) as journal:
        assert journal.counts() == {"COMPLETED": 1, "PO_NOT_FOUND": 1, "PENDING": 3}
        assert [r.key for r in journal.pending()] == ["PO100002", "PO100004", "PO100005"]
        kept = journal.result("PO100001")
        assert kept.supplier == "Acme Ltd" and kept.attachments_downloaded == 2


def test_blank_supplier_never_replaces_a_known_one(tmp_path):
    batch = write_input(tmp_path / "in.csv", ["PO100001;Acme"])
    with Journal.open(tmp_path / "out", batch) as journal:
        journal.record(done("PO100001", PoStatus.PARTIAL, supplier="Acme Ltd"))
        journal.record(done("PO100001", supplier=""))
        assert journal.result("PO100001").supplier == "Acme Ltd"


def test_changed_input_is_reported_not_mixed(tmp_path):
    out = tmp_path / "out"
    first = write_input(tmp_path / "in.csv", ["PO100001;A", "PO100002;B"])
    with Journal.open(out, first) as journal:
        journal.record(done("PO100001"))
    changed = write_input(tmp_path / "in.csv", ["PO100001;A", "PO100003;C"])
    with pytest.raises(JournalMismatchError) as err:
        Journal.open(out, changed)
    assert "in.csv" in str(err.value) or "input" in str(err.value).lower()
    with Journal.open(out, changed, accept_new_input=True) as journal:
        assert journal.result("PO100001").status is PoStatus.COMPLETED, "results of POs still in the input stay"
        assert [r.key for r in journal.pending()] == ["PO100003"]
        with pytest.raises(KeyError):
            journal.result("PO100002")


def test_rows_completed_in_input_are_not_queued(tmp_path):
    batch = write_input(tmp_path / "in.csv", ["PO100001;COMPLETED", "PO100002;"], header="PO_NUMBER;STATUS")
    with Journal.open(tmp_path / "out", batch) as journal:
        assert [r.key for r in journal.pending()] == ["PO100002"]
        assert journal.result("PO100001").status is PoStatus.COMPLETED


def test_user_retry_resets_a_final_po(tmp_path):
    batch = write_input(tmp_path / "in.csv", ["PO100001;A", "x;B"])
    with Journal.open(tmp_path / "out", batch) as journal:
        journal.record(done("PO100001", PoStatus.FAILED, error="boom"))
        journal.reset("PO100001")
        fresh = journal.result("PO100001")
        assert fresh.status is PoStatus.PENDING and fresh.error == "" and fresh.attempts == 0
        invalid = next(r for r in journal.all_results() if r.status is PoStatus.INVALID_PO)
        journal.reset(invalid.key)
        assert journal.result(invalid.key).status is PoStatus.INVALID_PO


def test_concurrent_writers_from_threads(tmp_path):
    batch = write_input(tmp_path / "in.csv", [f"PO{100000 + i};S" for i in range(400)])
    with Journal.open(tmp_path / "out", batch) as journal:
        keys = [r.key for r in journal.pending()]

        def work(part: list[str]) -> None:
            for key in part:
                journal.record(done(key))

        threads = [threading.Thread(target=work, args=(keys[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert journal.counts() == {"COMPLETED": 400}


_KILLED_WRITER = """
import sys, time
from pathlib import Path
from popool_gui.batch.input import read_batch
from popool_gui.batch.journal import Journal
from popool_gui.batch.model import PoResult, PoStatus
journal = Journal.open(Path(sys.argv[2]), read_batch(Path(sys.argv[1])))
for n, record in enumerate(journal.pending()):
    journal.mark_assigned(record.key, 1, 1, time.time())
    journal.record(PoResult(key=record.key, status=PoStatus.COMPLETED, worker=1, attempts=1))
    print(n + 1, flush=True)
    time.sleep(0.002)
"""


def test_journal_of_a_killed_process_opens_cleanly(tmp_path):
    source = tmp_path / "in.csv"
    batch = write_input(source, [f"PO{100000 + i};S" for i in range(3000)])
    out = tmp_path / "out"
    writer = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(source), str(out)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    reported = 0
    for line in writer.stdout:
        reported = int(line)
        if reported >= 200:
            break
    writer.kill()
    writer.wait(10)
    with Journal.open(out, batch) as journal:
        counts = journal.counts()
        assert counts.get("ASSIGNED", 0) == 0, "an interrupted PO goes back to pending"
        assert counts["COMPLETED"] >= reported, "every result reported as recorded survives the kill"
        assert counts["COMPLETED"] + counts["PENDING"] == 3000
    with sqlite3.connect(out / ".popool" / "journal.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_second_look_is_recorded_and_a_journal_from_before_it_still_opens(tmp_path):
    batch = write_input(tmp_path / "in.csv", ["PO100001", "PO100002"])
    out = tmp_path / "out"
    Journal.open(out, batch).close()
    with sqlite3.connect(out / ".popool" / "journal.sqlite3") as conn:
        conn.execute("ALTER TABLE po DROP COLUMN empty_looks")  # as an earlier popool wrote it
    with Journal.open(out, batch) as journal:
        journal.mark_assigned("PO100001", 1, 1, time.time())
        journal.requeue_for_second_look("PO100001", 0, "looking again")
        first = journal.result("PO100001")
        assert (first.status, first.empty_looks, first.attempts) == (PoStatus.PENDING, 1, 0)
        assert [r.key for r in journal.pending()] == ["PO100001", "PO100002"]
        journal.record(done("PO100001", PoStatus.NO_ATTACHMENTS, empty_looks=2))
    with Journal.open(out, batch) as journal:
        assert journal.result("PO100001").empty_looks == 2


def test_attachment_sources_are_kept_and_a_journal_from_before_them_still_opens(tmp_path):
    batch = write_input(tmp_path / "in.csv", ["PO100001", "PO100002"])
    out = tmp_path / "out"
    Journal.open(out, batch).close()
    with sqlite3.connect(out / ".popool" / "journal.sqlite3") as conn:
        conn.execute("ALTER TABLE po DROP COLUMN sources")  # as an earlier popool wrote it
    names, sources = ["PO100001_a.pdf", "PO100001_b.msg"], ["header (Supplier)", "comment (Internal)"]
    with Journal.open(out, batch) as journal:
        assert journal.result("PO100002").attachment_sources == []
        journal.record(done("PO100001", attachment_names=names, attachment_sources=sources))
    with Journal.open(out, batch) as journal:
        assert journal.result("PO100001").attachment_sources == sources
        assert [r.attachment_sources for _, r in journal.report_rows()] == [sources, []]
        assert journal.reset_many(["PO100001"]) == ["PO100001"]
        assert journal.result("PO100001").attachment_sources == []


@pytest.mark.parametrize("damage", ["garbage", "folder"])
def test_a_damaged_journal_is_named_with_its_way_out(tmp_path, damage):
    batch = write_input(tmp_path / "in.csv", ["PO100001;Acme"])
    path = tmp_path / "out" / ".popool" / "journal.sqlite3"
    path.parent.mkdir(parents=True)
    if damage == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"not a database" * 100)
    for attempt in (lambda: Journal.open(tmp_path / "out", batch), lambda: Journal.check(tmp_path / "out", batch)):
        with pytest.raises(JournalCorruptError) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith(f"the journal {path} cannot be read (")
        assert "move it aside to keep it, or delete it to start over" in message and "\n" not in message
        assert isinstance(caught.value, JournalMismatchError), "the window offers Start over for it"


@pytest.mark.skipif(sys.platform == "win32", reason="Windows file names are always Unicode")
def test_an_input_whose_name_is_not_utf8_is_journaled(tmp_path):
    source = Path(os.fsdecode(os.fsencode(tmp_path) + b"/orders-\xff\xfe.csv"))
    batch = write_input(source, ["PO100001;Acme"])
    with Journal.open(tmp_path / "out", batch) as journal:
        assert journal.source == f"{tmp_path}/orders-\\xff\\xfe.csv"
        assert [r.key for r in journal.pending()] == ["PO100001"]
    with Journal.open(tmp_path / "out", batch) as again:  # the same input resumes its run
        assert again.counts() == {"PENDING": 1}


def test_every_journaled_field_of_a_result_comes_back_as_recorded(tmp_path):
    batch = write_input(tmp_path / "in.csv", ["PO100001;Acme"])
    recorded = PoResult(
        key="PO100001",
        status=PoStatus.NO_ATTACHMENTS,
        supplier="Acme Ltd",
        attachments_found=3,
        attachments_downloaded=2,
        attachment_names=["a.pdf", "b.pdf"],
        error="why",
        folder="Acme/PO100001",
        url="https://acme.example/order_headers/1",
        worker=2,
        attempts=3,
        started_at=100.0,
        finished_at=160.5,
        empty_looks=2,
    )
    with Journal.open(tmp_path / "out", batch) as journal:
        journal.record(recorded)
        assert journal.result("PO100001") == recorded


def test_a_reset_clears_the_result_but_keeps_the_known_supplier(tmp_path):
    batch = write_input(tmp_path / "in.csv", ["PO100001;"])
    with Journal.open(tmp_path / "out", batch) as journal:
        journal.record(done("PO100001", PoStatus.FAILED, supplier="Acme Ltd", error="gone", empty_looks=1))
        assert journal.reset("PO100001")
        assert journal.result("PO100001") == PoResult(key="PO100001", status=PoStatus.PENDING, supplier="Acme Ltd")


def test_an_input_supplier_fills_a_blank_but_never_replaces_a_known_one(tmp_path):
    out = tmp_path / "out"
    with Journal.open(out, write_input(tmp_path / "in.csv", ["PO100001;", "PO100002;"])) as journal:
        journal.record(done("PO100001", PoStatus.FAILED, supplier="Acme Ltd"))
        journal.record(done("PO100002", PoStatus.FAILED))
    again = write_input(tmp_path / "in.csv", ["PO100001;Other", "PO100002;Beta"])
    with Journal.open(out, again, accept_new_input=True) as journal:
        assert [journal.result(key).supplier for key in ("PO100001", "PO100002")] == ["Acme Ltd", "Beta"]
