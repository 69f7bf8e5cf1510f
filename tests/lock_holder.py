"""A real process that holds an output folder's lock, as a running popool does, until its stdin closes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from popool_gui.pool.owner import Owner

_SCRIPT = """
import sys
from pathlib import Path
from popool_gui.pool.output_lock import OutputLock
lock = OutputLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
sys.stdin.read()
lock.release()
"""


class LockHolder:
    def __init__(self, output_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SCRIPT, str(output_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "locked"

    def owner(self) -> Owner:
        """The pid and start time the refusal message must name."""
        return Owner(pid=self.process.pid, started=psutil.Process(self.process.pid).create_time())

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.communicate("", timeout=10)
