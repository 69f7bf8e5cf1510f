"""Workers, and the drivers and browsers they start, run below the window's priority and stay there.

On a laptop with fewer cores than browser processes the window would otherwise wait for CPU behind them:
a repaint needing 10-20 ms of CPU took 80-150 ms while four browsers loaded pages. The workers lose nothing
when the window is idle.

Lowering a process's priority is not enough on Linux: Chromium raises its UI and compositor threads to
nice -8 when it may (as root, with CAP_SYS_NICE, or with a raised RLIMIT_NICE), which put the browsers above
the window again. So the worker also takes that permission away from everything it starts.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from pathlib import Path

import psutil
import structlog

log = structlog.get_logger()

WORKER_NICE = 10  # POSIX niceness of workers and their browsers
# linux/prctl.h and linux/capability.h
_PR_CAPBSET_DROP = 24
_CAP_SETPCAP = 8
_CAP_SYS_NICE = 23
_CAP_VERSION_3 = 0x20080522
PROC_STATUS = Path("/proc/self/status")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def run_below_the_window() -> None:
    """Lower this process's priority and keep its future children from raising theirs above the window."""
    me = psutil.Process()
    try:
        if sys.platform == "win32":
            me.nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
        elif me.nice() < WORKER_NICE:  # started lower still (nice -n 15 popool): stay there
            me.nice(WORKER_NICE)
    except (psutil.Error, OSError) as exc:
        log.warning("worker_priority_unchanged", error=str(exc))
    if sys.platform.startswith("linux"):
        _cap_nice_limit()
        try:
            _drop_cap_sys_nice()
        except (OSError, ValueError, AttributeError) as exc:  # no /proc or libc: runs, less shielded
            log.warning("worker_cap_sys_nice_kept", error=str(exc))


def _cap_nice_limit() -> None:
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


def _capability_sets() -> dict[str, int]:
    """CapInh, CapPrm, CapEff... of this process, as bit masks."""
    sets: dict[str, int] = {}
    for line in PROC_STATUS.read_text().splitlines():
        if line.startswith("Cap"):
            name, _, value = line.partition(":")
            sets[name] = int(value.strip(), 16)
    return sets


def _load_libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _drop_cap_sys_nice() -> None:
    """CAP_SYS_NICE ignores RLIMIT_NICE: make sure no program this process executes has it.

    A program executed by root gets the bounding set, and anyone's gets the inheritable (and ambient) set:
    the capability leaves both. This process keeps it in its own effective set.
    """
    bit = 1 << _CAP_SYS_NICE
    sets = _capability_sets()
    if not (sets.get("CapPrm", 0) | sets.get("CapInh", 0)) & bit:
        return  # an ordinary user: nothing to give away (and no right to change the bounding set)
    libc = _load_libc()
    if sets.get("CapInh", 0) & bit:
        header = _CapHeader(_CAP_VERSION_3, 0)
        data = (_CapData * 2)()
        if libc.capget(ctypes.byref(header), data) != 0:
            raise OSError(ctypes.get_errno(), "capget failed")
        data[0].inheritable &= ~bit  # also takes it out of the ambient set
        if libc.capset(ctypes.byref(header), data) != 0:
            raise OSError(ctypes.get_errno(), "capset failed")
    if sets.get("CapBnd", 0) & bit and sets.get("CapEff", 0) & (1 << _CAP_SETPCAP):
        libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        if libc.prctl(_PR_CAPBSET_DROP, _CAP_SYS_NICE, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP, CAP_SYS_NICE) failed")
