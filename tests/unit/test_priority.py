"""A worker's priority: below the window, and nothing it starts can climb back above it (Linux/POSIX)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

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
