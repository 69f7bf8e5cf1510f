"""A worker's priority: below the window, and nothing it starts can climb back above it (Linux/POSIX)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

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
def test_a_raised_nice_limit_is_capped_at_the_workers_level(monkeypatch, before, after) -> None:
    # A real raised limit needs CAP_SYS_RESOURCE, which this machine may not grant; the kernel's side of
    # RLIMIT_NICE is exercised by the tests above.
    import resource

    before = tuple(resource.RLIM_INFINITY if v == "inf" else v for v in before)
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(resource, "getrlimit", lambda _which: before)
    monkeypatch.setattr(resource, "setrlimit", lambda _which, limits: calls.append(limits))
    monkeypatch.setattr(priority.ctypes, "CDLL", lambda *_a, **_k: NoPrctl())
    priority._forbid_raising_priority()
    assert calls == ([after] if after else [])


class NoPrctl:
    @staticmethod
    def prctl(*_args: int) -> int:
        return 0  # "CAP_SYS_NICE not in the bounding set": nothing to drop
