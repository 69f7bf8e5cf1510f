"""The disk-full hold as pure logic: it holds for the room a file needs, looks every few seconds, and ends itself."""

from __future__ import annotations

from pathlib import Path

from popool_gui.batch.model import DiskNeed
from popool_gui.browser.downloads import MIB
from popool_gui.pool.disk_watch import CHECK_INTERVAL_S, DiskWatch


def test_the_hold_ends_once_the_file_that_did_not_fit_would_fit() -> None:
    free = [10 * MIB]
    watch = DiskWatch(free=lambda _folder: free[0])
    assert not watch.holding and watch.message() == ""
    watch.full(DiskNeed("/out", 40 * MIB), now=0.0)
    assert watch.holding
    assert watch.message() == (
        "The disk is full: /out needs 40 MB free (10 MB now). Free some space there (or Stop); the run goes on by "
        "itself when there is room."
    )
    free[0] = 50 * MIB
    assert not watch.tick(CHECK_INTERVAL_S - 0.1), "not looked at before it is due"
    assert watch.tick(CHECK_INTERVAL_S) and not watch.holding


def test_a_drive_that_went_away_keeps_the_hold() -> None:
    def gone(_folder: Path) -> int:
        raise OSError("no such device")

    watch = DiskWatch(free=gone)
    watch.full(DiskNeed("/out", MIB), now=0.0)
    assert not watch.tick(10.0) and watch.holding
    assert watch.message().startswith("The disk is full: /out needs 1 MB free. ")
