"""The run journal: one SQLite row per PO in `<output>/.popool/journal.sqlite3`, written as each result arrives.

A crash of the app loses nothing that was recorded: every `record()` is its own committed transaction, and
SQLite in WAL mode with `synchronous=NORMAL` survives a killed process (only a power cut can cost the last
commits). The next run on the same output folder resumes: final results stay, in-flight POs go back to PENDING.

Threading: the controller thread is the one writer. Other threads (the GUI asking for results) may read; every
method takes the journal's lock, which is why the connection is opened with `check_same_thread=False`.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from popool_gui.batch.model import (
    ATTACHMENT_NAME_SEPARATOR,
    COL_DOWNLOADED,
    COL_ERROR,
    COL_FOLDER,
    COL_FOUND,
    COL_LAST_PROCESSED,
    COL_NAMES,
    COL_SOURCES,
    COL_SUPPLIER,
    COL_URL,
    FINAL_STATUSES,
    RETRY_STATUSES,
    Batch,
    PoRecord,
    PoResult,
    PoStatus,
    RowProblem,
    merged_supplier,
)
from popool_gui.redact import redact_urls
from popool_gui.safe_text import printable

JOURNAL_DIR = ".popool"
JOURNAL_FILE = "journal.sqlite3"
SCHEMA_VERSION = "1"
BUSY_TIMEOUT_S = 10.0
INTERRUPTED = "interrupted"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS po (
    key TEXT PRIMARY KEY,
    ord INTEGER NOT NULL,
    row_number INTEGER NOT NULL,
    po_id TEXT NOT NULL,
    input_row TEXT NOT NULL,
    hierarchy TEXT NOT NULL,
    input_supplier TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    supplier TEXT NOT NULL DEFAULT '',
    found INTEGER NOT NULL DEFAULT 0,
    downloaded INTEGER NOT NULL DEFAULT 0,
    names TEXT NOT NULL DEFAULT '[]',
    folder TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    worker INTEGER,
    started_at REAL,
    finished_at REAL,
    empty_looks INTEGER NOT NULL DEFAULT 0,
    sources TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS po_ord ON po (ord);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    finished_at REAL,
    reset_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS history_key ON history (key);
CREATE TABLE IF NOT EXISTS duplicate (
    row_number INTEGER PRIMARY KEY,
    of_key TEXT,
    input_row TEXT NOT NULL
);
"""


def _same(value: Any) -> Any:
    return value


def _names_to_sql(names: Sequence[str]) -> str:
    return json.dumps(list(names), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class _Column:
    """One `po` column that holds part of a PoResult, and how its value goes in and comes out."""

    name: str
    field: str  # the PoResult field
    to_sql: Callable[[Any], Any] = _same
    from_sql: Callable[[Any], Any] = _same


# The one mapping between a PoResult and its po row: reads, records, seeds and resets all go through it.
_RESULT_MAP: tuple[_Column, ...] = (
    _Column("status", "status", lambda status: PoStatus(status).value, PoStatus),
    _Column("attempts", "attempts"),
    _Column("supplier", "supplier"),
    _Column("found", "attachments_found"),
    _Column("downloaded", "attachments_downloaded"),
    _Column("names", "attachment_names", _names_to_sql, json.loads),
    _Column("folder", "folder"),
    _Column("url", "url"),
    _Column("error", "error"),
    _Column("worker", "worker"),
    _Column("started_at", "started_at"),
    _Column("finished_at", "finished_at"),
    _Column("empty_looks", "empty_looks"),
    _Column("sources", "attachment_sources", _names_to_sql, json.loads),
)
_RESULT_COLUMNS = "key, " + ", ".join(column.name for column in _RESULT_MAP)
# A blank supplier never replaces a known one: model.merged_supplier, registered with SQLite under its own name.
_KEEP_KNOWN_SUPPLIER = {"supplier": "merged_supplier(?, supplier)"}
# A result recorded: attempts never count down, and a result that does not know when it started keeps the start.
_RECORD_SQL = {**_KEEP_KNOWN_SUPPLIER, "attempts": "MAX(attempts, ?)", "started_at": "COALESCE(?, started_at)"}
_INPUT_COLUMNS = ("key", "ord", "row_number", "po_id", "input_row", "hierarchy", "input_supplier")
_INSERT_COLUMNS = (*_INPUT_COLUMNS, *(column.name for column in _RESULT_MAP))
_INSERT_SQL = (
    f"INSERT OR REPLACE INTO po ({', '.join(_INSERT_COLUMNS)}) VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})"
)
_RECORD_COLUMNS = "key, po_id, row_number, input_row, hierarchy, input_supplier"
_FINAL_VALUES = tuple(sorted(s.value for s in FINAL_STATUSES))
_RETRY_VALUES = tuple(sorted(s.value for s in RETRY_STATUSES))
_OPEN_VALUES = (PoStatus.PENDING.value, PoStatus.ASSIGNED.value)
_NOT_FINAL_SQL = f"status NOT IN ({', '.join('?' * len(_FINAL_VALUES))})"


@dataclass(frozen=True, slots=True)
class PastResult:
    """A result the user's retry replaced: kept in the journal's history table."""

    key: str
    status: PoStatus
    attempts: int
    error: str
    finished_at: float | None
    reset_at: float


class JournalMismatchError(Exception):
    """The output folder's journal belongs to another input file (or another popool version)."""


class JournalCorruptError(JournalMismatchError):
    """The output folder's journal is not a readable SQLite database (damaged, or another file under its name).

    A kind of mismatch: what the user can do is the same, move it aside or start over in this folder."""

    def __init__(self, path: Path, exc: sqlite3.Error) -> None:
        self.path = path
        super().__init__(
            f"the journal {printable(str(path))} cannot be read ({exc}): it is damaged or not a journal; move it "
            "aside to keep it, "
            "or delete it to start over in this output folder (the window offers Start over), or choose another "
            "output folder"
        )


@dataclass(frozen=True, slots=True)
class Seed:
    """One input row as the journal stores it, with the result it starts with when nothing better is known."""

    key: str
    row_number: int
    po_id: str  # empty for an invalid row
    row: dict[str, str]
    hierarchy: tuple[str, ...]
    input_supplier: str
    fresh: PoResult

    def keeps(self, old_status: PoStatus) -> bool:
        """Whether the journal's earlier result for this key survives a (re)seed."""
        if self.fresh.status is PoStatus.INVALID_PO:
            return False  # the reason is recomputed from the input
        if self.fresh.status is PoStatus.COMPLETED:
            return old_status is PoStatus.COMPLETED  # the journal's own details beat the input's copy
        return True


class Journal:
    """Use `Journal.open(...)`; see the module docstring for threading."""

    def __init__(self, conn: sqlite3.Connection, path: Path, meta: dict[str, str]) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path
        self.source = meta["source"]
        self.columns: tuple[str, ...] = tuple(json.loads(meta["columns"]))
        self.delimiter = meta["delimiter"]
        self.po_column = meta["po_column"]

    # ----------------------------------------------------------------- open

    @classmethod
    def open(cls, output_dir: Path, batch: Batch, *, accept_new_input: bool = False) -> Journal:
        """Create the journal or resume it. Raise JournalMismatchError when it holds another input's run,
        unless `accept_new_input`: then results of POs still in the input are kept and the rest dropped."""
        path = _path(output_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(path, check_same_thread=False)
        try:
            conn.create_function("merged_supplier", 2, merged_supplier, deterministic=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            with _transaction(conn):
                _create_schema(conn)
                old_meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
                if old_meta:
                    _check_meta(old_meta, batch, accept_new_input)
                meta = _write_meta(conn, batch, old_meta)
                _seed(conn, batch)
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, meta)

    @staticmethod
    def check(output_dir: Path, batch: Batch) -> None:
        """Raise the JournalMismatchError `open` would raise for `batch`, without creating or changing anything.

        The window asks what to do about another input's journal before it builds the run."""
        path = _path(output_dir)
        if not path.exists():
            return
        conn = _connect(path)
        try:
            meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        except sqlite3.OperationalError:  # no meta table: an empty file that `open` fills
            return
        finally:
            conn.close()
        if meta:
            _check_meta(meta, batch, accept_new_input=False)

    @staticmethod
    def delete(output_dir: Path) -> None:
        """Forget the output folder's damaged journal ("start over"): the journal and SQLite's WAL files beside it."""
        path = _path(output_dir)
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    # ----------------------------------------------------------------- reads

    def pending(self) -> list[PoRecord]:
        """POs still to process (PENDING, interrupted, waiting for sign-in), in input order."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM po WHERE {_NOT_FINAL_SQL} AND po_id != '' ORDER BY ord",
                _FINAL_VALUES,
            ).fetchall()
        return [_to_record(row) for row in rows]

    def record_for(self, key: str) -> PoRecord:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM po WHERE key = ? AND po_id != ''", (key,)
            ).fetchone()
        if row is None:
            raise KeyError(key)
        return _to_record(row)

    def result(self, key: str) -> PoResult:
        with self._lock:
            row = self._conn.execute(f"SELECT {_RESULT_COLUMNS} FROM po WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return _to_result(row)

    def all_results(self) -> list[PoResult]:
        """One result per PO (invalid rows included, duplicate rows not), in input order."""
        with self._lock:
            rows = self._conn.execute(f"SELECT {_RESULT_COLUMNS} FROM po ORDER BY ord").fetchall()
        return [_to_result(row) for row in rows]

    def counts(self) -> dict[str, int]:
        """PoStatus value -> number of POs."""
        with self._lock:
            return dict(self._conn.execute("SELECT status, COUNT(*) FROM po GROUP BY status").fetchall())

    def report_rows(self) -> list[tuple[dict[str, str], PoResult]]:
        """Every input row with its result, in input order: a duplicate row repeats the result of its PO,
        so the results file holds each input row once and can be fed back as input."""
        with self._lock:
            pos = self._conn.execute(f"SELECT ord, input_row, {_RESULT_COLUMNS} FROM po").fetchall()
            dups = self._conn.execute("SELECT row_number, of_key, input_row FROM duplicate").fetchall()
        by_key: dict[str, PoResult] = {}
        rows: list[tuple[int, dict[str, str], PoResult]] = []
        for ord_, input_row, *result_row in pos:
            result = _to_result(tuple(result_row))
            by_key[result.key] = result
            rows.append((ord_, json.loads(input_row), result))
        for row_number, of_key, input_row in dups:
            rows.append((row_number, json.loads(input_row), _duplicate_result(by_key.get(of_key), row_number)))
        rows.sort(key=lambda item: item[0])
        return [(row, result) for _, row, result in rows]

    # ----------------------------------------------------------------- writes

    def mark_assigned(self, key: str, worker: int, attempt: int, started_at: float) -> None:
        self._update(
            key,
            "status = ?, worker = ?, attempts = ?, started_at = ?, finished_at = NULL",
            (PoStatus.ASSIGNED.value, worker, attempt, started_at),
        )

    def record(self, result: PoResult) -> None:
        """Store one outcome; committed when this returns. A blank supplier never replaces a known one."""
        finished = result.finished_at if result.finished_at is not None else time.time()
        stored = dataclasses.replace(result, error=redact_urls(result.error), finished_at=finished)
        self._update(result.key, _assignments(_RECORD_SQL), _result_values(stored))

    def requeue_for_second_look(self, key: str, attempts: int, error: str) -> None:
        """An empty list seen once: PENDING again for a later, longer look. The look is not an attempt."""
        self._update(
            key,
            "status = ?, error = ?, attempts = ?, worker = NULL, empty_looks = 1",
            (PoStatus.PENDING.value, error, attempts),
        )

    def requeue(self, key: str, error: str, attempts: int) -> None:
        """Back to PENDING after a transient failure or an interruption."""
        self._update(
            key,
            "status = ?, error = ?, attempts = ?, worker = NULL",
            (PoStatus.PENDING.value, redact_urls(error), attempts),
        )

    def reset(self, key: str) -> bool:
        """The user's "retry this PO": PENDING with a clean slate (attempts counted afresh), the result it had
        kept in the history. Invalid rows stay INVALID_PO (nothing to retry); returns whether the PO was reset."""
        return bool(self.reset_many([key]))

    def reset_many(self, keys: Iterable[str]) -> list[str]:
        """`reset` for many POs in one transaction; returns the keys reset (unknown and invalid ones are not)."""
        reset: list[str] = []
        now = time.time()
        with self._lock, _transaction(self._conn):
            for key in keys:
                row = self._conn.execute(
                    "SELECT status, attempts, error, finished_at FROM po WHERE key = ?", (key,)
                ).fetchone()
                if row is None or row[0] == PoStatus.INVALID_PO.value:
                    continue
                if row[0] not in _OPEN_VALUES:  # a result worth remembering, not a PO still on its way
                    self._conn.execute(
                        "INSERT INTO history (key, status, attempts, error, finished_at, reset_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (key, *row, now),
                    )
                self._conn.execute(
                    f"UPDATE po SET {_assignments(_KEEP_KNOWN_SUPPLIER)} WHERE key = ?",
                    (*_result_values(PoResult(key=key, status=PoStatus.PENDING)), key),
                )
                reset.append(key)
        return reset

    def keys_to_retry(self) -> list[str]:
        """The POs "Retry all failed" and `--retry failed` take again (RETRY_STATUSES), in input order."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT key FROM po WHERE status IN ({', '.join('?' * len(_RETRY_VALUES))}) ORDER BY ord",
                _RETRY_VALUES,
            ).fetchall()
        return [key for (key,) in rows]

    def history(self, key: str) -> list[PastResult]:
        """The results a retry replaced for `key`, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, status, attempts, error, finished_at, reset_at FROM history WHERE key = ? ORDER BY id",
                (key,),
            ).fetchall()
        return [PastResult(k, PoStatus(status), *rest) for k, status, *rest in rows]

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.execute("UPDATE meta SET value = ? WHERE name = 'updated_at'", (_now_iso(),))
            finally:
                self._conn.close()
                self._conn = None  # type: ignore[assignment]

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _update(self, key: str, assignments: str, values: Sequence[Any]) -> None:
        with self._lock:
            cursor = self._conn.execute(f"UPDATE po SET {assignments} WHERE key = ?", (*values, key))
        if cursor.rowcount != 1:
            raise KeyError(key)


# ----------------------------------------------------------------- open helpers


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error (the connection runs in autocommit mode)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self._conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _create_schema(conn: sqlite3.Connection) -> None:
    # executescript() would commit the open transaction; one statement at a time keeps creation and seeding atomic.
    # CREATE ... IF NOT EXISTS is also the migration of an older journal: one without a history table gets one.
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(po)")}
    if "empty_looks" not in columns:  # a journal written before second looks existed
        conn.execute("ALTER TABLE po ADD COLUMN empty_looks INTEGER NOT NULL DEFAULT 0")
    if "sources" not in columns:  # a journal written before results said where each file came from
        conn.execute("ALTER TABLE po ADD COLUMN sources TEXT NOT NULL DEFAULT '[]'")


def _path(output_dir: Path) -> Path:
    return Path(output_dir) / JOURNAL_DIR / JOURNAL_FILE


def _check_meta(meta: dict[str, str], batch: Batch, accept_new_input: bool) -> None:
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise JournalMismatchError(
            f"this output folder holds a journal written by another version of popool "
            f"(schema {meta.get('schema_version', '?')}); choose another output folder"
        )
    if meta.get("source_hash") == batch.source_hash or accept_new_input:
        return
    when = meta.get("updated_at") or meta.get("created_at", "?")
    raise JournalMismatchError(
        f"this output folder holds a journal from {meta.get('source', '?')} ({when}); "
        f"choose another output folder, or accept the new input (CLI: --accept-new-input)"
    )


def _write_meta(conn: sqlite3.Connection, batch: Batch, old: dict[str, str]) -> dict[str, str]:
    now = _now_iso()
    meta = {
        "schema_version": SCHEMA_VERSION,
        "source": _storable(batch.source),
        "source_hash": batch.source_hash,
        "created_at": old.get("created_at", now),
        "updated_at": now,
        "columns": json.dumps(list(batch.columns), ensure_ascii=False),
        "delimiter": batch.delimiter,
        "po_column": batch.po_column,
    }
    conn.executemany("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", meta.items())
    return meta


def _connect(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open the journal; JournalCorruptError when SQLite cannot read it ("file is not a database", a folder under
    its name). A journal another process holds locked is not damaged: that error goes on as it is."""
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=check_same_thread)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        if "locked" in str(exc):
            raise
        raise JournalCorruptError(path, exc) from exc
    return conn


def _storable(path: str) -> str:
    """The input's path as SQLite can hold it: a file name that is not valid UTF-8 (kept by Python as lone
    surrogates) is stored in its escaped, printable form; it only names the input in messages and reports."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return printable(path)
    return path


def _seed(conn: sqlite3.Connection, batch: Batch) -> None:
    """Bring the journal in line with `batch`: one row per PO of the batch, earlier results kept where they
    still apply, POs no longer in the input dropped, in-flight POs of a killed run back to PENDING."""
    old = {key: PoStatus(status) for key, status in conn.execute("SELECT key, status FROM po")}
    seeds = list(seed_rows(batch))
    for seed in seeds:
        old_status = old.get(seed.key)
        if old_status is None or not seed.keeps(old_status):
            _insert(conn, seed)
        else:
            _refresh_input(conn, seed, old_status)
    gone = set(old) - {seed.key for seed in seeds}
    conn.executemany("DELETE FROM po WHERE key = ?", ((key,) for key in gone))
    conn.execute("DELETE FROM duplicate")
    keys = {seed.key for seed in seeds}
    by_po_id = {seed.po_id: seed.key for seed in seeds if seed.po_id}
    conn.executemany(
        "INSERT INTO duplicate (row_number, of_key, input_row) VALUES (?, ?, ?)",
        (
            (dup.row_number, _original_key(dup, keys, by_po_id), json.dumps(dup.row, ensure_ascii=False))
            for dup in batch.duplicates
        ),
    )


def seed_rows(batch: Batch) -> Iterator[Seed]:
    """Every input row as the journal seeds it, in the batch's order: its POs, the rows it already marks COMPLETED,
    its invalid rows. The window shows the same rows before a run (gui/po_model.rows_from_batch)."""
    for record in batch.records:
        yield _record_seed(record, PoResult(key=record.key, status=PoStatus.PENDING, supplier=record.input_supplier))
    for record in batch.already_completed:
        yield _record_seed(record, _completed_from_input(record))
    for problem, key in zip(batch.invalid, batch.invalid_keys(), strict=True):
        fresh = PoResult(key=key, status=PoStatus.INVALID_PO, error=problem.reason, finished_at=None)
        yield Seed(key, problem.row_number, "", problem.row, (), "", fresh)


def _record_seed(record: PoRecord, fresh: PoResult) -> Seed:
    return Seed(record.key, record.row_number, record.po_id, record.row, record.hierarchy, record.input_supplier, fresh)


def _original_key(duplicate: RowProblem, keys: set[str], by_po_id: dict[str, str]) -> str | None:
    """The PO a duplicate row repeats: the same text, else the same portal id (`PO123456` vs `123456`)."""
    value = duplicate.value.strip()
    if value in keys:
        return value
    return by_po_id.get("".join(ch for ch in value if ch.isdigit()))


def _completed_from_input(record: PoRecord) -> PoResult:
    """A row the input already marks COMPLETED (a results file fed back): its result columns, as written."""

    def cell(name: str) -> str:
        wanted = name.casefold()
        return next((v.strip() for k, v in record.row.items() if k.strip().casefold() == wanted), "")

    return PoResult(
        key=record.key,
        status=PoStatus.COMPLETED,
        supplier=merged_supplier(cell(COL_SUPPLIER), record.input_supplier),
        attachments_found=_int(cell(COL_FOUND)),
        attachments_downloaded=_int(cell(COL_DOWNLOADED)),
        attachment_names=[n.strip() for n in cell(COL_NAMES).split(ATTACHMENT_NAME_SEPARATOR) if n.strip()],
        attachment_sources=[n.strip() for n in cell(COL_SOURCES).split(ATTACHMENT_NAME_SEPARATOR) if n.strip()],
        error=cell(COL_ERROR),
        folder=cell(COL_FOLDER),
        url=cell(COL_URL),
        finished_at=_epoch(cell(COL_LAST_PROCESSED)),
    )


def _insert(conn: sqlite3.Connection, seed: Seed) -> None:
    conn.execute(_INSERT_SQL, (*_input_values(seed), *_result_values(seed.fresh)))


def _refresh_input(conn: sqlite3.Connection, seed: Seed, old_status: PoStatus) -> None:
    """Keep the stored result; take the input side (row, order, levels) from the current input."""
    conn.execute(
        "UPDATE po SET ord = ?, row_number = ?, po_id = ?, input_row = ?, hierarchy = ?, input_supplier = ?,"
        " supplier = merged_supplier(supplier, ?) WHERE key = ?",
        (*_input_values(seed)[1:], seed.input_supplier, seed.key),
    )
    if old_status is PoStatus.ASSIGNED:
        # The run that held this PO died with it in flight; the attempt it used stays counted.
        conn.execute(
            "UPDATE po SET status = ?, error = ?, worker = NULL WHERE key = ?",
            (PoStatus.PENDING.value, INTERRUPTED, seed.key),
        )


def _input_values(seed: Seed) -> tuple[Any, ...]:
    return (
        seed.key,
        seed.row_number,  # row numbers are unique across valid, invalid and duplicate rows: they give the order
        seed.row_number,
        seed.po_id,
        json.dumps(seed.row, ensure_ascii=False),
        json.dumps(list(seed.hierarchy), ensure_ascii=False),
        seed.input_supplier,
    )


# ----------------------------------------------------------------- row conversion


def _to_record(row: tuple[Any, ...]) -> PoRecord:
    key, po_id, row_number, input_row, hierarchy, input_supplier = row
    return PoRecord(
        key=key,
        po_id=po_id,
        row_number=row_number,
        row=json.loads(input_row),
        hierarchy=tuple(json.loads(hierarchy)),
        input_supplier=input_supplier,
    )


def _to_result(row: tuple[Any, ...]) -> PoResult:
    key, *values = row
    fields = {column.field: column.from_sql(value) for column, value in zip(_RESULT_MAP, values, strict=True)}
    return PoResult(key=key, **fields)


def _result_values(result: PoResult) -> tuple[Any, ...]:
    """The result's values for the columns of `_RESULT_MAP`, in its order."""
    return tuple(column.to_sql(getattr(result, column.field)) for column in _RESULT_MAP)


def _assignments(special: dict[str, str]) -> str:
    """`column = ?` for every column of `_RESULT_MAP`, or the SQL expression (with its one `?`) `special` gives."""
    return ", ".join(f"{column.name} = {special.get(column.name, '?')}" for column in _RESULT_MAP)


def _duplicate_result(original: PoResult | None, row_number: int) -> PoResult:
    if original is None:
        return PoResult(key=f"row {row_number}", status=PoStatus.PENDING, error="duplicate of a PO not in the input")
    return dataclasses.replace(
        original,
        attachment_names=list(original.attachment_names),
        attachment_sources=list(original.attachment_sources),
    )


def _int(text: str) -> int:
    try:
        return max(0, int(float(text)))
    except (ValueError, OverflowError):
        return 0


def _epoch(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp() if text else None
    except ValueError:
        return None


def _now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
