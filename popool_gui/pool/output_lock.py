"""One popool per output folder: a second run would reset the first one's POs in flight and delete its work.

The lock is an OS file lock (`filelock`), so the OS releases it when its process dies however it dies, and the
next run takes it over. Who holds it (pid, start time) is written beside it for the refusal message.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from popool_gui.batch.journal import JOURNAL_DIR
from popool_gui.pool.owner import Owner

LOCK_FILE = "run.lock"
OWNER_FILE = "run.owner"


class OutputInUseError(Exception):
    """Another popool runs on this output folder."""

    def __init__(self, output_dir: Path, holder: Owner | None) -> None:
        if holder is None:
            who = "another popool run"
        elif holder.alive():
            who = f"another popool run ({holder.describe()})"
        else:
            # Only a file system without OS locks (popool then falls back to a plain lock file) gets here.
            who = f"a popool run that has ended ({holder.describe()}) but whose lock file {LOCK_FILE} remains"
        super().__init__(
            f"the output folder {output_dir} is in use by {who}; wait for it to finish, stop it, "
            "or choose another output folder"
        )
        self.holder = holder


class OutputLock:
    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self._folder = output_dir / JOURNAL_DIR
        # Not thread-local: the window takes the lock on its own thread and the run releases it on the runner's.
        self._lock = FileLock(self._folder / LOCK_FILE, timeout=0, thread_local=False)

    def acquire(self) -> None:
        """Take the lock at once or raise OutputInUseError naming the run that holds it."""
        self._folder.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            raise OutputInUseError(self.output_dir, Owner.read(self._folder / OWNER_FILE)) from None
        Owner.current().write(self._folder / OWNER_FILE)

    def release(self) -> None:
        if self._lock.is_locked:
            (self._folder / OWNER_FILE).unlink(missing_ok=True)
            self._lock.release()
