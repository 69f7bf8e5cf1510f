"""A worker's priority: below the window, and nothing it starts can climb back above it (Linux/POSIX)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from popool_gui.pool import priority
from popool_gui.pool.priority import WORKER_NICE

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX niceness")

# Run in a child so the test process keeps its own priority and capabilities. The grandchild is a new
# program (execve), as chromedriver and Chromium are: it tries what Chromium does to its UI thread.
SCRIPT = textwrap.dedent(
    """
    import os, subprocess, sys
    from popool_gui.pool.priority import run_below_the_window
    run_below_the_window()
    print(os.getpriority(os.PRIO_PROCESS, 0))
    probe = "import os\\ntry:\\n    os.setpriority(os.PRIO_PROCESS, 0, -8)\\nexcept PermissionError:\\n    pass\\n"
    probe += "print(os.getpriority(os.PRIO_PROCESS, 0))"
    sys.stdout.flush()
    subprocess.run([sys.executable, "-c", probe], check=True)
    """
)


def test_worker_and_its_programs_stay_below_the_window() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True)
    worker_nice, program_nice = (int(v) for v in done.stdout.split())
    assert worker_nice == WORKER_NICE
    # Chromium as root sets -8 on its UI threads; here it must stay where the worker put it.
    assert program_nice == WORKER_NICE


def test_lowering_priority_further_is_still_allowed() -> None:
    script = SCRIPT.replace("-8)", "15)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert [int(v) for v in done.stdout.split()] == [WORKER_NICE, 15]


# The worker got CAP_SYS_NICE in its inheritable set (a container run with --cap-add SYS_NICE, systemd's
# AmbientCapabilities): a program executed by root gets inheritable | bounding, so both must lose it.
GIVE_INHERITABLE = textwrap.dedent(
    """
    import ctypes, ctypes.util
    from popool_gui.pool import priority
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    header = priority._CapHeader(priority._CAP_VERSION_3, 0)
    data = (priority._CapData * 2)()
    assert libc.capget(ctypes.byref(header), data) == 0
    data[0].inheritable |= 1 << priority._CAP_SYS_NICE
    assert libc.capset(ctypes.byref(header), data) == 0, ctypes.get_errno()
    assert priority._capability_sets()["CapInh"] & (1 << priority._CAP_SYS_NICE)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux capabilities")
def test_an_inheritable_cap_sys_nice_is_taken_away_too() -> None:
    if not priority._capability_sets().get("CapEff", 0) & (1 << priority._CAP_SETPCAP):
        pytest.skip("needs CAP_SETPCAP (root) to put CAP_SYS_NICE in the inheritable set")
    script = GIVE_INHERITABLE + SCRIPT
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert [int(v) for v in done.stdout.split()] == [WORKER_NICE, WORKER_NICE]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux capabilities")
def test_an_ordinary_user_has_nothing_to_drop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text(
        "Name:\tpython\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
        "CapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n"
    )
    monkeypatch.setattr(priority, "PROC_STATUS", status)
    # Without the capability there is nothing to give away, and changing the bounding set would fail (EPERM,
    # a warning at every worker start): libc is not even loaded.
    monkeypatch.setattr(priority, "_load_libc", lambda: pytest.fail("libc loaded"))
    priority._drop_cap_sys_nice()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_NICE is Linux")
@pytest.mark.parametrize(
    ("before", "after"),
    [
        (("inf", "inf"), (20 - WORKER_NICE, 20 - WORKER_NICE)),
        ((40, 40), (20 - WORKER_NICE, 20 - WORKER_NICE)),
        ((5, 40), (5, 20 - WORKER_NICE)),
        ((0, 0), None),  # already at or below the ceiling: left alone
    ],
)
def test_a_raised_nice_limit_is_capped_at_the_workers_level(
    monkeypatch: pytest.MonkeyPatch, before: tuple[int | str, int | str], after: tuple[int, int] | None
) -> None:
    # A real raised limit needs CAP_SYS_RESOURCE, which this machine may not grant; the kernel's side of
    # RLIMIT_NICE is exercised by the tests above.
    import resource

    limits = tuple(resource.RLIM_INFINITY if v == "inf" else v for v in before)
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(resource, "getrlimit", lambda _which: limits)
    monkeypatch.setattr(resource, "setrlimit", lambda _which, new: calls.append(new))
    priority._cap_nice_limit()
    assert calls == ([after] if after else [])
