"""Per-worker copies of the user's browser profile, so every worker starts signed in.

A Chromium profile cannot be opened by two browsers at once, so each worker gets a clone. A clone carries
what a signed-in session needs and nothing more (`CLONED_FILES`, `CLONED_FOLDERS`): saved passwords
(`Login Data`), payment and autofill data (`Web Data`), history (`History`, `Visited Links`, `Top Sites`,
`Shortcuts`, `Favicons`...), caches, session restore files and locks stay behind.

A clone holds live session cookies: its folders are readable by the user alone (0700 folders, 0600 files on
POSIX; on Windows they live in the user's own temp folder, whose ACL admits only the user, SYSTEM and the
administrators, and the copies inherit it). It is removed when the run ends, and only folders carrying
popool's marker file are ever deleted. File contents are never logged.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from popool_gui.browser.errors import ProfileCloneError

log = structlog.get_logger()

CLONE_MARKER = ".popool-clone"
# In the User Data folder: it holds the key (os_crypt) that decrypts the cookie values; without it the
# clone's browser cannot read a single cookie.
LOCAL_STATE = "Local State"
# In the profile folder, each copied when present (Chromium versions and platforms differ):
CLONED_FILES: tuple[str, ...] = (
    # The cookie store with the SSO session; Chromium on Linux and macOS keeps it in the profile folder
    # (Chromium 156 still does).
    "Cookies",
    # SQLite's rollback journal: a store copied while the browser writes it reads back whole only with it.
    "Cookies-journal",
    # Where Chromium 96+ on Windows (Edge, Chrome) keeps the cookie store and its journal.
    "Network/Cookies",
    "Network/Cookies-journal",
    # Profile settings, among them the per-site cookie exceptions an SSO chain may rely on (third-party
    # cookies allowed for the identity provider); without it the clone runs on the browser's defaults.
    "Preferences",
)
CLONED_FOLDERS: tuple[str, ...] = (
    # Identity providers' sign-in pages (MSAL for Entra ID, Okta) keep the signed-in account here; without
    # it a clone may land on "pick an account" instead of the portal.
    "Local Storage",
)
_DIR_MODE = 0o700
_FILE_MODE = 0o600
_REMOVE_ATTEMPTS = 5
_REMOVE_PAUSE_S = 0.2


@dataclass(frozen=True, slots=True)
class CloneInfo:
    path: Path
    files: int
    bytes: int
    seconds: float


def clone_profile(user_data_dir: Path, profile_name: str, dest: Path) -> CloneInfo:
    """Copy `Local State` and the allow-listed parts of `<user_data_dir>/<profile_name>` into `dest`, all or nothing.

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
    dest.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    tmp = dest.parent / f"{dest.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(mode=_DIR_MODE)
    marker = tmp / CLONE_MARKER
    marker.write_text("popool profile clone; deleted when the run ends\n", encoding="utf-8")
    marker.chmod(_FILE_MODE)
    try:
        size = _copy_file(local_state, tmp / LOCAL_STATE)
        copied_files, copied_bytes = _copy_session(source_profile, tmp / profile_name)
        files = copied_files + 1
        size += copied_bytes
        _verify(tmp, profile_name, files)
        os.replace(tmp, dest)
    except BaseException:
        remove_tree(tmp)
        raise
    seconds = time.monotonic() - started
    log.info("profile_cloned", profile=profile_name, dest=str(dest), files=files, bytes=size, seconds=round(seconds, 3))
    return CloneInfo(path=dest, files=files, bytes=size, seconds=seconds)


def _copy_session(src: Path, dst: Path) -> tuple[int, int]:
    """Copy the allow-listed files and folders; returns (files copied, bytes)."""
    size = 0
    dst.mkdir(mode=_DIR_MODE)
    wanted = [src / rel for rel in CLONED_FILES if _is_real_file(src / rel)]
    for folder in CLONED_FOLDERS:
        wanted.extend(_files_below(src / folder))
    for path in wanted:
        target = dst / path.relative_to(src)
        _make_dirs(dst, target.parent)
        size += _copy_file(path, target)
    if not any(path.name == "Cookies" for path in wanted):
        log.warning("profile_without_cookies", profile=str(src))
    return len(wanted), size


def _files_below(folder: Path) -> list[Path]:
    """Every regular file below `folder`; links are never followed (they could lead out of the profile)."""
    if not folder.is_dir() or folder.is_symlink():
        return []

    def unreadable(exc: OSError) -> None:
        raise ProfileCloneError(f"cannot read {exc.filename}: {exc.strerror or exc}") from exc

    found: list[Path] = []
    for root, dirs, names in os.walk(folder, onerror=unreadable):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        found.extend(path for name in names if _is_real_file(path := Path(root, name)))
    return found


def _is_real_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _make_dirs(root: Path, folder: Path) -> None:
    for level in reversed([folder, *folder.parents]):
        if level.is_relative_to(root) and level != root:
            level.mkdir(mode=_DIR_MODE, exist_ok=True)


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
    dst.chmod(_FILE_MODE)
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
    remove_tree(path)
    if path.exists():
        raise ProfileCloneError(f"could not delete profile clone {path}; delete it by hand (it holds session cookies)")
    log.info("profile_clone_removed", path=str(path))


def remove_tree(path: Path) -> None:
    """shutil.rmtree that clears read-only flags and retries briefly; links inside are removed, never followed."""

    def make_writable_and_retry(func: Callable[..., object], failed_path: str, _exc: object) -> None:
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
