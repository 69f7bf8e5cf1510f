"""Run folders (profile clones and staging under the temp folder) with real processes: a killed owner's folder
is removed by the next run, a live owner's is kept, and workers that lose their controller remove their own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from popool_gui.demo.sample import write_sample_csv
from popool_gui.pool import run_folder
from popool_gui.selftest import verify_run
from tests.real_processes import RunFolderHolder, popool_run_command


@pytest.fixture
def temp() -> Iterator[Path]:
    """A temp folder of the tests' own (TMPDIR of the processes started here), with a short path: Chromium puts
    its singleton socket below it, and a socket path must stay within 107 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="pt-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_sweep_removes_the_folder_of_a_killed_owner_and_keeps_a_live_ones(temp):
    dead, live = RunFolderHolder(temp), RunFolderHolder(temp)
    try:
        assert (dead.folder / run_folder.OWNER_FILE).is_file()
        dead.kill()
        assert dead.folder.is_dir(), "kill -9 leaves the folder behind"
        removed = run_folder.sweep(temp)
        assert [(path, owner.pid) for path, owner in removed] == [(dead.folder, dead.process.pid)]
        assert not dead.folder.exists()
        assert (live.folder / "profile-1" / "Default" / "Cookies").is_file()
    finally:
        live.end()
    assert not live.folder.exists()


def test_a_folder_without_an_owner_record_is_left_alone(temp):
    older = temp / f"{run_folder.RUN_PREFIX}older"
    older.mkdir()
    assert run_folder.sweep(temp) == []
    assert older.is_dir()


def cli_env(tmp_path: Path, temp: Path) -> dict[str, str]:
    return {**os.environ, "POPOOL_CONFIG_DIR": str(tmp_path / "config"), "TMPDIR": str(temp)}


@pytest.mark.browser
def test_a_new_run_removes_the_run_folder_of_a_killed_run_and_logs_it(demo, chromium_settings, tmp_path, temp):
    dead, live = RunFolderHolder(temp), RunFolderHolder(temp)
    try:
        dead.kill()
        sample = write_sample_csv(tmp_path / "pos.csv", 4)
        out = tmp_path / "out"
        done = subprocess.run(
            popool_run_command(demo.url, sample, out, chromium_settings, "--json"),
            env=cli_env(tmp_path, temp),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert verify_run(demo, out) == []
        assert not dead.folder.exists()
        assert live.folder.is_dir()
        logged = [json.loads(line) for line in done.stdout.splitlines()]
        removals = [e for e in logged if e["type"] == "log" and e["event"] == "stale_run_folder_removed"]
        assert [e["fields"]["path"] for e in removals] == [str(dead.folder)]
        assert f"pid {dead.process.pid}" in removals[0]["fields"]["owner"]
        # The run's own folder went at its end: only the live holder's is left.
        assert sorted(temp.glob(f"{run_folder.RUN_PREFIX}*")) == [live.folder]
    finally:
        live.end()


@pytest.mark.browser
def test_workers_of_a_killed_run_remove_their_profiles_and_staging(demo, chromium_settings, tmp_path, temp):
    sample = write_sample_csv(tmp_path / "pos.csv", 40)
    out = tmp_path / "out"
    cli = subprocess.Popen(
        popool_run_command(demo.url, sample, out, chromium_settings),
        env=cli_env(tmp_path, temp),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not any(out.glob("*/*_COMPLETED")):
        assert time.monotonic() < deadline and cli.poll() is None, "no PO completed in time"
        time.sleep(0.1)
    folders = list(temp.glob(f"{run_folder.RUN_PREFIX}*"))
    assert len(folders) == 1
    assert {p.name for p in folders[0].iterdir()} >= {"profile-1", "profile-2", "staging-1", "staging-2"}
    assert any(p.name == "Cookies" for p in folders[0].rglob("*")), "the workers' profiles hold the session"
    tree = psutil.Process(cli.pid).children(recursive=True)
    cli.kill()
    cli.wait(10)
    _, alive = psutil.wait_procs(tree, timeout=30)
    assert not alive, f"processes outlived the killed CLI: {[p.pid for p in alive]}"
    assert not folders[0].exists(), f"left behind: {sorted(p.name for p in folders[0].rglob('*'))}"
