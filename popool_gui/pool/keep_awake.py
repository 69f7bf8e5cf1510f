"""Keep the machine from sleeping while a run works: `with keep_awake(enabled): controller.run()`.

Windows: `SetThreadExecutionState(ES_CONTINUOUS | ES_SYSTEM_REQUIRED)` on entry, `ES_CONTINUOUS` on exit. The
state belongs to the calling thread, so enter and leave on the same thread (the `with` does); Windows drops it
when the thread or the process ends, crashes included.

Linux: a `systemd-inhibit --what=sleep:idle` child holds logind's inhibitor lock for as long as it lives. What it
runs is `cat` reading a pipe whose only writer is this process: when popool ends in any way, SIGKILL included, the
kernel closes the pipe, `cat` sees the end of its input, and systemd-inhibit exits and releases the lock. No
thread, no timer, no pid polling.

Elsewhere (macOS, a Linux without systemd-inhibit or without a system bus) nothing is held and a log line says so.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import structlog

log = structlog.get_logger(__name__)

WHY = "popool is downloading purchase-order attachments"
INHIBITOR = "systemd-inhibit"
# systemd-inhibit that cannot reach logind (no system bus, a container) exits at once; this long is "at once".
START_CHECK_S = 0.3
STOP_TIMEOUT_S = 5.0
ES_CONTINUOUS = 0x80000000
ES_SYSTEM_REQUIRED = 0x00000001


@contextlib.contextmanager
def keep_awake(enabled: bool = True, *, inhibitor: str | None = None) -> Iterator[bool]:
    """Hold the machine awake inside the `with`; yield whether it is held. `inhibitor` replaces the path of
    systemd-inhibit (tests use a stand-in)."""
    if not enabled:
        yield False
        return
    if sys.platform == "win32":
        with _windows() as held:
            yield held
        return
    path = inhibitor or shutil.which(INHIBITOR)
    if sys.platform.startswith("linux") and path:
        with _inhibitor_process(path) as held:
            yield held
        return
    log.info("keep_awake_unavailable", platform=sys.platform, reason=f"no {INHIBITOR} on this system")
    yield False


@contextlib.contextmanager
def _windows() -> Iterator[bool]:
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    held = bool(kernel32.SetThreadExecutionState(ES_CONTINUOUS | ES_SYSTEM_REQUIRED))
    log.info("keep_awake_started" if held else "keep_awake_unavailable", method="SetThreadExecutionState")
    try:
        yield held
    finally:
        if held:
            kernel32.SetThreadExecutionState(ES_CONTINUOUS)
            log.info("keep_awake_released", method="SetThreadExecutionState")


@dataclass(frozen=True, slots=True)
class _Inhibitor:
    process: subprocess.Popen[bytes]
    pipe: int  # the write end of the child's stdin: closing it (or dying) ends the child


@contextlib.contextmanager
def _inhibitor_process(path: str) -> Iterator[bool]:
    held = _start(path)
    try:
        yield held is not None
    finally:
        if held is not None:
            _stop(held)


def inhibitor_command(path: str) -> list[str]:
    return [path, "--what=sleep:idle", "--who=popool", f"--why={WHY}", "--mode=block", "cat"]


def _start(path: str) -> _Inhibitor | None:
    read_end, write_end = os.pipe()  # both non-inheritable: no other child of popool keeps the writer open
    try:
        process = subprocess.Popen(
            inhibitor_command(path),
            stdin=read_end,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a Ctrl+C in popool's terminal is popool's to handle, not the inhibitor's
        )
    except OSError as exc:
        os.close(write_end)
        log.warning("keep_awake_unavailable", method=INHIBITOR, reason=str(exc))
        return None
    finally:
        os.close(read_end)
    try:
        code = process.wait(timeout=START_CHECK_S)
    except subprocess.TimeoutExpired:
        log.info("keep_awake_started", method=INHIBITOR, pid=process.pid)
        return _Inhibitor(process, write_end)
    os.close(write_end)
    reason = process.stderr.read().decode(errors="replace").strip() if process.stderr else ""
    _close_stderr(process)
    log.warning("keep_awake_unavailable", method=INHIBITOR, exit_code=code, reason=reason or "exited at once")
    return None


def _stop(held: _Inhibitor) -> None:
    os.close(held.pipe)  # cat ends, then systemd-inhibit: the same path a crash of popool takes
    try:
        held.process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        held.process.kill()
        held.process.wait()
    _close_stderr(held.process)
    log.info("keep_awake_released", method=INHIBITOR, pid=held.process.pid)


def _close_stderr(process: subprocess.Popen[bytes]) -> None:
    if process.stderr:
        process.stderr.close()
