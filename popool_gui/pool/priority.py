"""Workers, and the drivers and browsers they start, run below the window's priority and stay there.

On a laptop with fewer cores than browser processes the window would otherwise wait for CPU behind them:
a repaint needing 10-20 ms of CPU took 80-150 ms while four browsers loaded pages. The workers lose nothing
when the window is idle.

Lowering a process's priority is not enough on Linux: Chromium raises its UI and compositor threads to
nice -8 when it may (as root, or with a raised RLIMIT_NICE), which put the browsers above the window again.
So the worker also takes that permission away from everything it starts.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

import psutil
import structlog

log = structlog.get_logger()

WORKER_NICE = 10  # POSIX niceness of workers and their browsers
# linux/prctl.h and linux/capability.h
_PR_CAPBSET_READ = 23
_PR_CAPBSET_DROP = 24
_CAP_SYS_NICE = 23


def run_below_the_window() -> None:
    """Lower this process's priority and keep its future children from raising theirs above the window."""
    me = psutil.Process()
    try:
        me.nice(psutil.BELOW_NORMAL_PRIORITY_CLASS if sys.platform == "win32" else WORKER_NICE)
    except (psutil.Error, OSError) as exc:
        log.warning("worker_priority_unchanged", error=str(exc))
    if sys.platform.startswith("linux"):
        _forbid_raising_priority()


def _forbid_raising_priority() -> None:
    import resource  # POSIX only: imported here so that Windows workers load this module

    # RLIMIT_NICE n lets a process go down to nice 20 - n; capping it at our own level forbids going lower.
    ceiling = 20 - WORKER_NICE
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NICE)
        if hard == resource.RLIM_INFINITY or hard > ceiling:
            kept = soft if soft != resource.RLIM_INFINITY and soft <= ceiling else ceiling
            resource.setrlimit(resource.RLIMIT_NICE, (kept, ceiling))
    except (OSError, ValueError) as exc:
        log.warning("worker_nice_limit_unchanged", error=str(exc))
    # CAP_SYS_NICE (root) ignores that limit. Dropped from the bounding set, no program this process
    # executes gets it back; this process keeps its own capabilities.
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(_PR_CAPBSET_READ, _CAP_SYS_NICE, 0, 0, 0) != 1:
        return
    if libc.prctl(_PR_CAPBSET_DROP, _CAP_SYS_NICE, 0, 0, 0) != 0:
        log.warning("worker_cap_sys_nice_kept", errno=ctypes.get_errno())
