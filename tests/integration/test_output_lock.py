"""One popool per output folder, with real processes: a second run is refused at once with exit 2 and a message
naming the first (pid, start time); once the holder is killed with -9, a new run takes the folder over."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from popool_gui.demo.sample import write_sample_csv
from popool_gui.pool.output_lock import OutputInUseError, OutputLock
from popool_gui.selftest import verify_run
from tests.real_processes import LockHolder, popool_run_command


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "POPOOL_CONFIG_DIR": str(tmp_path / "config")}


def test_a_second_lock_on_the_same_folder_is_refused_naming_the_holder(tmp_path):
    holder = LockHolder(tmp_path / "out")
    try:
        with pytest.raises(OutputInUseError) as refused:
            OutputLock(tmp_path / "out").acquire()
        assert refused.value.holder == holder.owner()
        assert f"pid {holder.process.pid}" in str(refused.value)
        assert holder.owner().describe() in str(refused.value)
    finally:
        holder.end()
    lock = OutputLock(tmp_path / "out")
    lock.acquire()  # released by its holder: free again
    lock.release()


@pytest.mark.browser
def test_a_second_cli_run_is_refused_and_a_killed_holders_lock_is_taken_over(demo, chromium_settings, tmp_path):
    sample = write_sample_csv(tmp_path / "pos.csv", 6)
    out = tmp_path / "out"
    out.mkdir()
    command = popool_run_command(demo.url, sample, out, chromium_settings)
    holder = LockHolder(out)
    try:
        started = time.monotonic()
        refused = subprocess.run(command, env=cli_env(tmp_path), capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2, refused.stderr[-2000:]
        assert time.monotonic() - started < 30, "refused at once, not after waiting"
        assert f"pid {holder.process.pid}" in refused.stderr
        assert holder.owner().describe() in refused.stderr
        assert str(out) in refused.stderr and "Traceback" not in refused.stderr
        assert not (out / ".popool" / "journal.sqlite3").exists(), "the refused run touched nothing"
        holder.kill()
        done = subprocess.run(command, env=cli_env(tmp_path), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert verify_run(demo, out) == []
    finally:
        holder.end()


@pytest.mark.browser
def test_two_real_cli_runs_on_one_folder_the_second_is_refused(demo, chromium_settings, tmp_path):
    # 14 POs keep the first run busy well past the second one's start (a few seconds), which is all this needs.
    sample = write_sample_csv(tmp_path / "pos.csv", 16)
    out = tmp_path / "out"
    command = popool_run_command(demo.url, sample, out, chromium_settings)
    first = subprocess.Popen(command, env=cli_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (out / ".popool" / "run.owner").exists():
            assert time.monotonic() < deadline and first.poll() is None, "the first run never took the folder"
            time.sleep(0.05)
        second = subprocess.run(command, env=cli_env(tmp_path), capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr[-2000:]
        assert f"pid {first.pid}" in second.stderr and "started " in second.stderr
        _, errors = first.communicate(timeout=300)
        assert first.returncode == 0, errors[-2000:]
        assert verify_run(demo, out) == []
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
