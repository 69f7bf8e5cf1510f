"""Run folder removal: every entry on its own, a failure is logged and never stops the others."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog.testing

from popool_gui.browser.errors import ProfileCloneError
from popool_gui.browser.profiles import CLONE_MARKER
from popool_gui.pool import run_folder
from popool_gui.pool.owner import Owner


def make_clone(path: Path) -> Path:
    (path / "Default").mkdir(parents=True)
    (path / CLONE_MARKER).write_text("clone", encoding="utf-8")
    (path / "Default" / "Cookies").write_text("session", encoding="utf-8")
    return path


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(run_folder.tempfile, "tempdir", str(tmp_path))
    return run_folder.create()


def test_a_new_run_folder_records_its_owner(run_dir):
    owner = Owner.read(run_dir / run_folder.OWNER_FILE)
    assert owner == Owner.current() and owner.alive()
    assert run_dir.name.startswith(run_folder.RUN_PREFIX)


def test_one_failed_removal_does_not_stop_the_others(run_dir, monkeypatch):
    for worker in (1, 2, 3):
        make_clone(run_dir / f"profile-{worker}")
        (run_dir / f"staging-{worker}").mkdir()
    real = run_folder.remove_clone

    def held_open(path: Path) -> None:
        if path.name == "profile-1":
            raise ProfileCloneError(f"could not delete profile clone {path}")
        real(path)

    monkeypatch.setattr(run_folder, "remove_clone", held_open)
    # Captured whatever output an earlier test in this process configured structlog for.
    with structlog.testing.capture_logs() as logged:
        problems = run_folder.remove(run_dir)
    assert len(problems) == 1 and "profile-1" in problems[0]
    assert sorted(p.name for p in run_dir.iterdir()) == [run_folder.OWNER_FILE, "profile-1"]
    assert "run_folder_entry_not_removed" in [entry["event"] for entry in logged]
    assert run_folder.sweep(run_dir.parent) == [], "its owner (this process) still runs"


def test_the_last_orphaned_worker_removes_the_folder(run_dir):
    make_clone(run_dir / "profile-1")
    assert run_folder.remove_entry(run_dir / "profile-1") is None
    run_folder.remove_if_empty(run_dir)
    assert not run_dir.exists()


def test_remove_if_empty_never_removes_a_folder_that_is_not_a_run_folder(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    run_folder.remove_if_empty(plain)
    assert plain.is_dir()


def test_a_dead_owner_is_told_from_a_reused_pid():
    me = Owner.current()
    assert not Owner(pid=me.pid, started=me.started - 3600).alive()
