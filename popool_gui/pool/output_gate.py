"""The one gate to an output folder: its journal is opened, checked, reset, retried and started over here and
nowhere else, always under the output folder's lock (`output_lock.py`).

Why the lock comes first: opening a journal seeds it again, which puts the POs a run has in flight back to PENDING,
and a reset or a start over rewrites rows. Only the holder of the folder may do that. A run holds the gate from
`open` to `close` (the controller's `Workspace`). Between runs the window asks it for one thing at a time and it
takes the lock for just that moment, so a folder another run holds is refused (OutputInUseError) instead of being
changed under that run. While the gate is held for a run, the same requests work on the run's own journal: that is
how `popool run --retry failed` retries before its run starts.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from popool_gui.batch.journal import JOURNAL_DIR, Journal, JournalCorruptError, JournalMismatchError
from popool_gui.batch.model import Batch
from popool_gui.pool.output_folder import ensure_output_dir
from popool_gui.pool.output_lock import OutputInUseError, OutputLock
from popool_gui.run_setup import output_dir
from popool_gui.settings import ResultsFormat, Settings

# The window runs its journal work on a thread pool: two requests of one process (Retry, then Retry all failed)
# take their turns here, where the OS lock would refuse the second as if another run held the folder.
_TURNS = threading.Lock()
# How far `free_folder_beside` counts: `<name> (2)` ... `<name> (99)`.
_MAX_NUMBER = 100


class OutputGate:
    """One output folder's journal, under its lock. See the module docstring."""

    def __init__(self, folder: Path, results_format: ResultsFormat) -> None:
        self.folder = folder
        self._results_format = results_format
        self._lock = OutputLock(folder)
        self._journal: Journal | None = None

    @classmethod
    def of(cls, settings: Settings) -> OutputGate:
        """The gate to the output folder the settings name."""
        return cls(output_dir(settings), settings.results_format)

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            raise RuntimeError("the output folder is not open")
        return self._journal

    @property
    def is_open(self) -> bool:
        return self._journal is not None

    # ----------------------------------------------------------------- held for a run

    def open(self, batch: Batch, *, accept_new_input: bool = False, start_over: bool = False) -> Journal:
        """Take the folder and open (seed or resume) its journal until `close`. `start_over` forgets a damaged
        journal first, whose content nobody can read any more; a readable one is never forgotten. Raises
        OutputFolderError, OutputInUseError or JournalMismatchError (JournalCorruptError)."""
        ensure_output_dir(self.folder, self._results_format, Path(batch.source))
        with _TURNS:
            self._lock.acquire()
        try:
            if start_over:
                self._forget_if_damaged(batch)
            self._journal = Journal.open(self.folder, batch, accept_new_input=accept_new_input)
        except BaseException:
            self._lock.release()
            raise
        return self._journal

    def _forget_if_damaged(self, batch: Batch) -> None:
        try:
            Journal.check(self.folder, batch)
        except JournalCorruptError:
            Journal.delete(self.folder)
        except JournalMismatchError:
            pass  # readable: Journal.open says what to do about another input's journal

    def close(self) -> None:
        """Close the journal and give the folder back; harmless when not open."""
        try:
            if self._journal is not None:
                self._journal.close()
        finally:
            self._journal = None
            self._lock.release()

    # ----------------------------------------------------------------- one request at a time

    def check(self, batch: Batch) -> None:
        """Raise the JournalMismatchError that opening the journal for `batch` would raise, changing nothing in it;
        OutputInUseError when another run holds the folder."""
        with self._moment():
            Journal.check(self.folder, batch)

    def retry(self, batch: Batch, keys: Iterable[str]) -> list[str]:
        """The user's Retry: these POs PENDING again with their attempts counted afresh (`Journal.reset_many`);
        returns the keys reset."""
        with self._opened(batch) as journal:
            return journal.reset_many(keys)

    def retry_failed(self, batch: Batch) -> list[str]:
        """Retry all failed: every PO in RETRY_STATUSES, in input order; returns the keys reset."""
        with self._opened(batch) as journal:
            return journal.reset_many(journal.keys_to_retry())

    def free_folder_beside(self, batch: Batch) -> Path | None:
        """`<name> (2)`, `(3)`... beside this folder: the first that does not exist yet or already holds this list's
        run. A folder that holds no popool run is passed over unlocked: taking its lock would make it look like one."""
        for number in range(2, _MAX_NUMBER):
            candidate = self.folder.with_name(f"{self.folder.name} ({number})")
            if not candidate.exists():
                return candidate
            if not (candidate / JOURNAL_DIR).is_dir():
                continue
            try:
                OutputGate(candidate, self._results_format).check(batch)
            except (JournalMismatchError, OutputInUseError, OSError, sqlite3.Error):
                continue
            return candidate
        return None

    @contextmanager
    def _moment(self) -> Iterator[None]:
        with _TURNS:
            self._lock.acquire()
            try:
                yield
            finally:
                self._lock.release()

    @contextmanager
    def _opened(self, batch: Batch) -> Iterator[Journal]:
        if self._journal is not None:  # held for a run that has not started: its own journal
            yield self._journal
            return
        with self._moment():
            journal = Journal.open(self.folder, batch)
            try:
                yield journal
            finally:
                journal.close()
