"""When the output folder's disk is full: hold the run until there is room, instead of failing every PO after.

A download that would not fit with the reserve popool keeps for its journal and results files ends its PO's attempt
with "the disk is full" (browser/downloads.py, DiskFullError), and nothing of it stays on disk. The run then hands
out no PO, gives that one its attempt back, looks at the free space every few seconds, and goes on by itself once
the file it could not store would fit. Stop works meanwhile, and a later run resumes the PO.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from popool_gui.batch.model import DiskNeed
from popool_gui.browser.downloads import MIB

CHECK_INTERVAL_S = 2.0


def free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


@dataclass(slots=True)
class DiskWatch:
    free: Callable[[Path], int] = free_bytes
    folder: Path = Path()  # the full one: the output folder's drive, or the staging folder's
    needed: int = 0  # free bytes that end the hold; 0 when there is no hold
    next_check: float = 0.0

    @property
    def holding(self) -> bool:
        return self.needed > 0

    def full(self, need: DiskNeed, now: float) -> None:
        if Path(need.folder) != self.folder:
            self.folder, self.needed = Path(need.folder), 0
        self.needed = max(self.needed, need.needed)
        self.next_check = now + CHECK_INTERVAL_S

    def tick(self, now: float) -> bool:
        """True when this look found room and ended the hold."""
        if not self.holding or now < self.next_check:
            return False
        self.next_check = now + CHECK_INTERVAL_S
        try:
            room = self.free(self.folder) >= self.needed
        except OSError:  # the folder's drive went away too: keep waiting, the user sees the message
            return False
        if room:
            self.needed = 0
        return room

    def message(self) -> str:
        if not self.holding:
            return ""
        try:
            now_free = f" ({self.free(self.folder) / MIB:,.0f} MB now)"
        except OSError:
            now_free = ""
        return (
            f"The disk is full: {self.folder} needs {self.needed / MIB:,.0f} MB free{now_free}. Free some space "
            "there (or Stop); the run goes on by itself when there is room."
        )
