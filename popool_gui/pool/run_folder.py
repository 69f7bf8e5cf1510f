"""A run's private folder under the system temp folder: the workers' profile clones and download staging.

It holds live session cookies while a run lasts, so it is created readable by the user alone and removed
on every way out: the controller's cleanup, a worker that finds its controller gone (it removes its own
clone and staging), and, for a run that was killed outright, the next run's `sweep`, which removes every
run folder whose owner (recorded in `OWNER_FILE` as pid and start time) is no longer running.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import structlog

from popool_gui.browser.errors import ProfileCloneError
from popool_gui.browser.profiles import CLONE_MARKER, remove_clone, remove_tree
from popool_gui.pool.owner import Owner

log = structlog.get_logger()

RUN_PREFIX = "popool-run-"
OWNER_FILE = "popool-run.owner"


def create() -> Path:
    """A new run folder owned by this process (mkdtemp makes it 0700 on POSIX)."""
    path = Path(tempfile.mkdtemp(prefix=RUN_PREFIX))
    Owner.current().write(path / OWNER_FILE)
    return path


def remove(run_dir: Path) -> list[str]:
    """Remove the run folder, each entry on its own so one failure never keeps the others; returns the problems.

    The owner file goes last: a folder that could not be emptied keeps telling the next sweep it is stale.
    """
    if not run_dir.is_dir() or run_dir.is_symlink():
        return []
    problems: list[str] = []
    for entry in sorted(run_dir.iterdir()):
        if entry.name != OWNER_FILE and (problem := remove_entry(entry)):
            problems.append(problem)
    if not problems:
        (run_dir / OWNER_FILE).unlink(missing_ok=True)
        try:
            run_dir.rmdir()
        except OSError as exc:
            problems.append(_failed(run_dir, exc))
    return problems


def remove_entry(path: Path) -> str | None:
    """Remove one clone, staging folder or file of a run folder; returns the problem (already logged), if any."""
    try:
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
        elif (path / CLONE_MARKER).is_file():
            remove_clone(path)
        elif path.is_dir():
            remove_tree(path)
            if path.exists():
                raise OSError(f"still present after {path} was deleted (a file in it is held open)")
    except (OSError, ProfileCloneError) as exc:
        return _failed(path, exc)
    return None


def remove_if_empty(run_dir: Path) -> None:
    """Remove the run folder once nothing but its owner file is left (the last orphaned worker does this)."""
    with contextlib.suppress(OSError):
        if {p.name for p in run_dir.iterdir()} == {OWNER_FILE}:
            (run_dir / OWNER_FILE).unlink(missing_ok=True)
            run_dir.rmdir()


def sweep(base: Path | None = None) -> list[tuple[Path, Owner]]:
    """Remove the run folders of dead owners in `base` (the temp folder); returns those removed, with their owner.

    Folders without an owner file are left alone: they come from an older popool that may still be running.
    """
    root = Path(base or tempfile.gettempdir())
    removed: list[tuple[Path, Owner]] = []
    try:
        candidates = sorted(root.glob(f"{RUN_PREFIX}*"))
    except OSError as exc:
        log.warning("run_folder_sweep_failed", folder=str(root), error=str(exc))
        return removed
    for folder in candidates:
        if folder.is_symlink() or not folder.is_dir() or not _ours(folder):
            continue
        owner = Owner.read(folder / OWNER_FILE)
        if owner is None or owner.alive():
            continue
        if not remove(folder):  # a failure was logged with the entry it concerns
            removed.append((folder, owner))
    return removed


def _ours(folder: Path) -> bool:
    # In a shared temp folder (Linux /tmp) other users' run folders are theirs to clean.
    getuid = getattr(os, "getuid", None)
    return getuid is None or folder.stat().st_uid == getuid()


def _failed(path: Path, exc: BaseException) -> str:
    problem = f"could not remove {path}: {exc}; delete it by hand (it may hold session cookies)"
    log.error("run_folder_entry_not_removed", path=str(path), error=str(exc))
    return problem
