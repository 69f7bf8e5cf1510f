"""Per-worker copies of the user's browser profile, so every worker starts signed in.

A Chromium profile cannot be opened by two browsers at once, so each worker gets a clone: `Local State`
(it holds the key that decrypts the cookies) plus the profile folder minus caches, session restore files and
locks. A clone holds live session cookies: it is removed when the run ends, and only folders carrying
popool's marker file are ever deleted. File contents are never logged.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import structlog

from popool_gui.browser.errors import ProfileCloneError

log = structlog.get_logger()

CLONE_MARKER = ".popool-clone"
LOCAL_STATE = "Local State"
# Folder or file names skipped at any depth inside the profile folder: caches, session restore, locks.
EXCLUDED_NAMES: frozenset[str] = frozenset(
    {
        "Cache",
        "Code Cache",
        "GPUCache",
        "GrShaderCache",
        "ShaderCache",
        "DawnCache",
        "DawnGraphiteCache",
        "DawnWebGPUCache",
        "Service Worker",
        "Session Storage",
        "IndexedDB",
        "Sessions",
        "Current Tabs",
        "Last Tabs",
        "Current Session",
        "Last Session",
        "Crashpad",
        "blob_storage",
        "File System",
        "lockfile",
    }
)
EXCLUDED_PREFIXES: tuple[str, ...] = ("Singleton",)
_REMOVE_ATTEMPTS = 5
_REMOVE_PAUSE_S = 0.2


@dataclass(frozen=True, slots=True)
class CloneInfo:
    path: Path
    files: int
    bytes: int
    seconds: float


def _excluded(name: str) -> bool:
    return name in EXCLUDED_NAMES or name.startswith(EXCLUDED_PREFIXES)


def clone_profile(user_data_dir: Path, profile_name: str, dest: Path) -> CloneInfo:
    """Copy `Local State` and `<user_data_dir>/<profile_name>` (minus caches) into `dest`, all or nothing.

    The copy goes to a temporary sibling first and is renamed only once verified, so a half-copied profile
    never reaches a browser. Raises ProfileCloneError naming the file that failed.
    """
    started = time.monotonic()
    source_profile = user_data_dir / profile_name
    local_state = user_data_dir / LOCAL_STATE
    if not source_profile.is_dir():
        raise ProfileCloneError(f"no profile folder '{profile_name}' in {user_data_dir}")
    if not local_state.is_file():
        raise ProfileCloneError(f"'{LOCAL_STATE}' not found in {user_data_dir}: is this a browser's User Data folder?")
    if dest.exists():
        raise ProfileCloneError(f"clone destination already exists: {dest}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f"{dest.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    (tmp / CLONE_MARKER).write_text("popool profile clone; deleted when the run ends\n", encoding="utf-8")
    files = 0
    size = 0
    try:
        size += _copy_file(local_state, tmp / LOCAL_STATE)
        files += 1
        copied_files, copied_bytes, expected = _copy_tree(source_profile, tmp / profile_name)
        files += copied_files
        size += copied_bytes
        _verify(tmp, profile_name, expected + 1)
        os.replace(tmp, dest)
    except BaseException:
        _rmtree(tmp)
        raise
    seconds = time.monotonic() - started
    log.info("profile_cloned", profile=profile_name, dest=str(dest), files=files, bytes=size, seconds=round(seconds, 3))
    return CloneInfo(path=dest, files=files, bytes=size, seconds=seconds)


def _copy_tree(src: Path, dst: Path) -> tuple[int, int, int]:
    """Copy a folder minus the excluded names; returns (files copied, bytes, files expected)."""
    files = size = expected = 0
    dst.mkdir()

    def unreadable(exc: OSError) -> None:
        raise ProfileCloneError(f"cannot read {exc.filename}: {exc.strerror or exc}") from exc

    for root, dirs, names in os.walk(src, onerror=unreadable):
        dirs[:] = [d for d in dirs if not _excluded(d) and not os.path.islink(os.path.join(root, d))]
        target = dst / os.path.relpath(root, src)
        target.mkdir(exist_ok=True)
        for name in names:
            path = Path(root, name)
            if _excluded(name) or path.is_symlink():
                continue
            expected += 1
            size += _copy_file(path, target / name)
            files += 1
    return files, size, expected


def _copy_file(src: Path, dst: Path) -> int:
    try:
        shutil.copyfile(src, dst)
    except PermissionError as exc:
        raise ProfileCloneError(
            f"cannot copy {src}: the file is locked ({exc.strerror}); close Edge/Chrome and try again"
        ) from exc
    except OSError as exc:
        # Windows reports a file held open by a running browser as a sharing violation (errno EACCES/32).
        hint = "; close Edge/Chrome and try again" if exc.errno in (errno.EACCES, errno.EBUSY, 32) else ""
        raise ProfileCloneError(f"cannot copy {src}: {exc.strerror or exc}{hint}") from exc
    return dst.stat().st_size


def _verify(tmp: Path, profile_name: str, expected_files: int) -> None:
    if not (tmp / LOCAL_STATE).is_file():
        raise ProfileCloneError(f"clone incomplete: '{LOCAL_STATE}' missing in {tmp}")
    if not (tmp / profile_name).is_dir():
        raise ProfileCloneError(f"clone incomplete: profile folder '{profile_name}' missing in {tmp}")
    copied = sum(len(names) for _, _, names in os.walk(tmp)) - 1  # minus the marker
    if copied != expected_files:
        raise ProfileCloneError(f"clone incomplete: {copied} files copied of {expected_files} into {tmp}")


def remove_clone(path: Path) -> None:
    """Delete a clone made by clone_profile (it carries the marker file); retries while Windows holds locks."""
    if not path.exists():
        return
    if not (path / CLONE_MARKER).is_file():
        raise ProfileCloneError(f"refusing to delete {path}: not a popool profile clone (no {CLONE_MARKER})")
    _rmtree(path)
    if path.exists():
        raise ProfileCloneError(f"could not delete profile clone {path}; delete it by hand (it holds session cookies)")
    log.info("profile_clone_removed", path=str(path))


def _rmtree(path: Path) -> None:
    def make_writable_and_retry(func, failed_path, _exc) -> None:  # type: ignore[no-untyped-def]
        # Read-only files (Windows) block deletion; anything else is retried by the loop below.
        with contextlib.suppress(OSError):
            os.chmod(failed_path, stat.S_IWRITE)
            func(failed_path)

    for attempt in range(_REMOVE_ATTEMPTS):
        with contextlib.suppress(FileNotFoundError):
            if sys.version_info >= (3, 12):
                shutil.rmtree(path, onexc=make_writable_and_retry)
            else:
                shutil.rmtree(path, onerror=make_writable_and_retry)
        if not path.exists():
            return
        # A browser that just exited may hold handles for a moment (Windows): a short, bounded retry.
        time.sleep(_REMOVE_PAUSE_S * (attempt + 1))


def clone_root() -> Path:
    """A fresh folder for this run's clones (under the system temp folder)."""
    return Path(tempfile.mkdtemp(prefix="popool-clones-"))


def fresh_profile_dir(root: Path) -> Path:
    """An empty user-data folder for a browser that needs no sign-in (e.g. the demo portal)."""
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="profile-", dir=root))
