"""The output folder's disk fills up mid-run (real Chromium, a real small tmpfs mounted for the test): the PO that
met it waits for room with its attempt, the run holds and says so, no half file is left under a real name, the
journal stays readable, and a resume once space is freed completes every PO with the right verdict."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from popool_gui.batch.model import PoStatus, RunState
from popool_gui.batch.recent_runs import read_run
from popool_gui.browser.downloads import DISK_RESERVE_BYTES, MIB, MOVE_TEMP_PREFIX
from popool_gui.demo.sample import write_sample_csv
from popool_gui.demo.server import demo_portal
from popool_gui.demo.skins import Skin
from popool_gui.pool.controller import PoolController
from popool_gui.run_setup import plan_run
from popool_gui.settings import Settings
from tests.helpers import Recorder, RunThread, wait_for
from tests.integration.test_verdicts import wrong_verdicts

pytestmark = pytest.mark.browser

DISK_MB = 40
ROOM_FOR_FILES = 200 * 1024  # what the downloads may use before the reserve is reached


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """A file that takes all but `leave` bytes of the disk's free space."""
    filler = disk / "filler.bin"
    size = shutil.disk_usage(disk).free - leave
    with filler.open("wb") as handle:
        chunk = b"\0" * MIB
        while size > 0:
            handle.write(chunk[: min(size, MIB)])
            size -= MIB
    return filler


def test_a_full_disk_holds_the_run_and_a_resume_after_freeing_space_completes(
    chromium_settings: Settings, small_disk: Path, tmp_path: Path
) -> None:
    output = small_disk / "out"
    with demo_portal(js_render_delay_ms=100) as portal:
        sample = write_sample_csv(tmp_path / "pos.csv", 20, include_specials=False)
        settings = chromium_settings.replace(portal="demo", base_url=portal.url, output_dir=str(output), workers=2)
        plan = plan_run(settings, sample)
        filler = fill(small_disk, DISK_RESERVE_BYTES + ROOM_FOR_FILES)
        recorder = Recorder()
        controller = PoolController(settings, plan.batch, recorder, portal=plan.portal)
        run = RunThread(controller)
        wait_for(lambda: any(s.waiting.startswith("The disk is full") for s in recorder.runs), 180, "the disk hold")
        waiting = next(s.waiting for s in recorder.runs if s.waiting)
        controller.stop()
        stopped = run.join(120)
        assert stopped.stopped_early and stopped.left_pending > 0
        assert str(output) in waiting and "Free some space" in waiting

        # Nothing half-written under a real name, and the journal reads.
        leftovers = [p for p in output.rglob("*") if p.name.startswith(MOVE_TEMP_PREFIX) or p.suffix == ".tmp"]
        assert leftovers == []
        journal = read_run(output)
        assert journal is not None and journal.total >= len(plan.batch.records) and journal.done < journal.total
        waited = [
            r for r in recorder.results if r.status is PoStatus.PENDING and r.error.startswith("the disk is full")
        ]
        assert waited, "the PO that met the full disk waits with its attempt"

        filler.unlink()
        recorder = Recorder()
        summary = PoolController(settings, plan.batch, recorder, portal=plan.portal).run()
    assert summary.state is RunState.FINISHED and not summary.stopped_early
    po_ids = {r.key: r.po_id for r in plan.batch.records}
    with_results = {r.key: r for r in recorder.finished()}
    finished_first = set(po_ids) - set(with_results)
    assert all(r.status is not PoStatus.FAILED for r in with_results.values())
    assert wrong_verdicts(portal, Skin.COUPA, list(with_results.values()), po_ids, output) == []
    assert summary.counts.get(PoStatus.PENDING.value, 0) == 0 and summary.left_pending == 0
    assert len(finished_first) + len(with_results) == len(po_ids)
