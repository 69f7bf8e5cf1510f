"""Recent runs read from real SQLite journals: done of total, input, when; gone folders dropped, locked or damaged
journals skipped with a log line, and nothing written to any journal."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from pathlib import Path

from popool_gui.batch.journal import JOURNAL_DIR, JOURNAL_FILE, Journal
from popool_gui.batch.model import PoResult, PoStatus
from popool_gui.batch.recent_runs import read_run, recent_runs
from tests.unit.pool.test_controller import make_batch


def journal_with(tmp_path: Path, name: str, done: int, total: int = 5) -> Path:
    out = tmp_path / name
    ids = [str(200000 + i) for i in range(total)]
    batch = make_batch(ids, tmp_path / f"{name}-input")
    with Journal.open(out, batch) as journal:
        for i in range(done):
            journal.record(PoResult(key=f"PO{ids[i]}", status=PoStatus.COMPLETED, finished_at=time.time()))
    return out


def make_dirs(tmp_path: Path, *names: str) -> None:
    for name in names:
        (tmp_path / name).mkdir(parents=True, exist_ok=True)


def test_runs_show_input_done_of_total_and_when_newest_first(tmp_path):
    make_dirs(tmp_path, "old-input", "new-input")
    old = journal_with(tmp_path, "old", done=5)
    time.sleep(1.1)  # journal times have one-second resolution
    new = journal_with(tmp_path, "new", done=2)
    runs = recent_runs([old, new])
    assert [r.output_dir for r in runs] == [str(new), str(old)]
    assert (runs[0].done, runs[0].total, runs[0].finished) == (2, 5, False)
    assert (runs[1].done, runs[1].total, runs[1].finished) == (5, 5, True)
    assert runs[0].input_file.endswith("new-input/input.csv")
    assert runs[0].updated_at is not None and runs[0].updated_at > runs[1].updated_at


def test_gone_folders_are_dropped_quietly(tmp_path, caplog):
    make_dirs(tmp_path, "kept-input", "gone-input")
    kept = journal_with(tmp_path, "kept", done=1)
    gone = journal_with(tmp_path, "gone", done=1)
    shutil.rmtree(gone)
    caplog.set_level(logging.INFO)
    assert [r.output_dir for r in recent_runs([gone, kept, tmp_path / "never-was"])] == [str(kept)]
    assert "recent run" not in caplog.text


def test_damaged_and_locked_journals_are_skipped_with_a_log_line(tmp_path, caplog):
    make_dirs(tmp_path, "good-input", "locked-input")
    good = journal_with(tmp_path, "good", done=3)
    damaged = tmp_path / "damaged" / JOURNAL_DIR / JOURNAL_FILE
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"this is not a database" * 100)
    locked = journal_with(tmp_path, "locked", done=1)
    holder = sqlite3.connect(locked / JOURNAL_DIR / JOURNAL_FILE, isolation_level=None)
    try:
        # Another program holding the journal exclusively (WAL readers need the shared memory it takes away).
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        caplog.set_level(logging.WARNING)
        runs = recent_runs([damaged.parent.parent, locked, good])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [r.output_dir for r in runs] == [str(good)]
    assert str(damaged) in caplog.text and str(locked / JOURNAL_DIR / JOURNAL_FILE) in caplog.text


def test_reading_changes_nothing(tmp_path):
    make_dirs(tmp_path, "run-input")
    out = journal_with(tmp_path, "run", done=2)
    journal = out / JOURNAL_DIR / JOURNAL_FILE
    before = journal.read_bytes()
    assert read_run(out) is not None
    assert journal.read_bytes() == before
