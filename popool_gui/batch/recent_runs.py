"""Recent runs for the empty window: what each remembered output folder's journal says, read without changing it.

A folder that is gone (or holds no journal any more) is dropped quietly: the user moved or deleted it. A journal
that cannot be read (locked by another program, damaged, from another popool) is skipped with a log line, so one
bad folder never hides the others.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from popool_gui.batch.journal import JOURNAL_DIR, JOURNAL_FILE
from popool_gui.batch.model import FINAL_STATUSES

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.5  # a journal busy longer than this is skipped: the empty window must not wait
_FINAL = tuple(sorted(s.value for s in FINAL_STATUSES))


@dataclass(frozen=True, slots=True)
class RecentRun:
    output_dir: str
    input_file: str
    done: int  # POs with a final status
    total: int
    updated_at: datetime | None  # the journal's last change: a PO's finish or the run's close

    @property
    def finished(self) -> bool:
        return self.done >= self.total


def recent_runs(folders: Iterable[str | Path]) -> list[RecentRun]:
    """The runs of `folders` that can be read, newest first."""
    runs = [run for folder in folders if (run := read_run(Path(folder))) is not None]
    runs.sort(key=lambda r: r.updated_at.timestamp() if r.updated_at else 0.0, reverse=True)
    return runs


def read_run(folder: Path) -> RecentRun | None:
    path = folder / JOURNAL_DIR / JOURNAL_FILE
    if not path.is_file():
        return None
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=READ_TIMEOUT_S)
        ) as conn:
            meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
            total, done, last_finish = conn.execute(
                f"SELECT COUNT(*), SUM(status IN ({', '.join('?' * len(_FINAL))})), MAX(finished_at) FROM po",
                _FINAL,
            ).fetchone()
    except sqlite3.Error as exc:
        log.warning("recent run skipped: cannot read the journal %s: %s", path, exc)
        return None
    return RecentRun(
        output_dir=str(folder),
        input_file=str(meta.get("source", "")),
        done=int(done or 0),
        total=int(total or 0),
        updated_at=_latest(meta.get("updated_at", ""), last_finish),
    )


def _latest(updated_iso: str, last_finish: float | None) -> datetime | None:
    moments = [datetime.fromtimestamp(last_finish).astimezone()] if last_finish is not None else []
    with contextlib.suppress(ValueError):
        moments.append(datetime.fromisoformat(updated_iso))
    return max(moments, default=None)
