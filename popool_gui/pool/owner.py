"""Who owns a run folder or an output folder: a process id plus that process's start time.

The start time tells a live owner from an unrelated process that was given the same pid after the owner
died (pids are reused quickly on Windows). Written as a small JSON file next to what it guards.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psutil

# psutil derives start times from clock ticks and the boot time: two readings may differ by a tick.
_START_TOLERANCE_S = 1.0


@dataclass(frozen=True, slots=True)
class Owner:
    pid: int
    started: float  # the process's start time, epoch seconds

    @classmethod
    def current(cls) -> Owner:
        return cls(pid=os.getpid(), started=psutil.Process().create_time())

    def alive(self) -> bool:
        try:
            process = psutil.Process(self.pid)
            return process.status() != psutil.STATUS_ZOMBIE and (
                abs(process.create_time() - self.started) <= _START_TOLERANCE_S
            )
        except psutil.Error:
            return False

    def describe(self) -> str:
        return f"pid {self.pid}, started {datetime.fromtimestamp(self.started).isoformat(sep=' ', timespec='seconds')}"

    def write(self, path: Path) -> None:
        """Write atomically, readable by the user alone (the file sits among session data)."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"pid": self.pid, "started": self.started}, f)
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> Owner | None:
        """The owner recorded in `path`; None when the file is missing or not one of ours."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(pid=int(data["pid"]), started=float(data["started"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
