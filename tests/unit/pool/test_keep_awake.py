"""Keep-awake on Linux: the inhibitor child lives exactly as long as the `with`, and dies with its owner even when
the owner is killed with SIGKILL.

This machine has systemd-inhibit but no system bus (a container), so the real one exits at once; the lifetime
tests use a stand-in with systemd-inhibit's shape: it takes the options, runs the command after them as its
child and exits when that child does."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from popool_gui.pool.keep_awake import INHIBITOR, inhibitor_command, keep_awake

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux inhibitor")
GONE_WITHIN_S = 5.0


@pytest.fixture
def stand_in(tmp_path: Path) -> Path:
    script = tmp_path / "systemd-inhibit"
    script.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            echo "$@" > "$0.args"
            while [ $# -gt 0 ]; do case "$1" in --*) shift ;; *) break ;; esac; done
            "$@"
            """
        ),
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def inhibitors(stand_in: Path) -> list[psutil.Process]:
    """The stand-in's processes and their children (cat), zombies excluded."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if str(stand_in) in process.cmdline()[:2]:  # `sh <stand-in> ...`, not the owner that names it
                found += [process, *process.children(recursive=True)]
        except psutil.Error:
            continue
    return [p for p in found if _alive(p)]


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def wait_gone(processes: list[psutil.Process]) -> list[psutil.Process]:
    deadline = time.monotonic() + GONE_WITHIN_S
    while any(_alive(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in processes if _alive(p)]


def test_the_inhibitor_lives_during_the_with_and_is_gone_after(stand_in):
    with keep_awake(True, inhibitor=str(stand_in)) as held:
        assert held
        during = inhibitors(stand_in)
        assert len(during) == 2, "the inhibitor and the command it holds the lock for"
        assert any(p.name() == "cat" for p in during)
    assert wait_gone(during) == []
    args = Path(f"{stand_in}.args").read_text(encoding="utf-8")
    assert "--what=sleep:idle" in args and "--mode=block" in args and args.rstrip().endswith("cat")


def test_the_inhibitor_is_released_when_its_owner_is_killed(stand_in, tmp_path):
    owner_code = f"""
import sys, time
from popool_gui.pool.keep_awake import keep_awake
with keep_awake(True, inhibitor={str(stand_in)!r}) as held:
    print("held" if held else "not held", flush=True)  # after structlog's own line on stdout
    time.sleep(120)
"""
    owner = subprocess.Popen(
        [sys.executable, "-c", owner_code],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        assert owner.stdout is not None
        lines = iter(owner.stdout.readline, "")
        assert next(line for line in lines if line.strip() in ("held", "not held")).strip() == "held"
        during = inhibitors(stand_in)
        assert len(during) == 2
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        assert wait_gone(during) == [], "the inhibitor outlived the process that held it"
    finally:
        owner.kill()
        owner.wait()
        if owner.stdout:
            owner.stdout.close()


def test_an_inhibitor_that_cannot_hold_the_lock_is_reported_not_fatal(tmp_path):
    failing = tmp_path / "systemd-inhibit"
    failing.write_text("#!/bin/sh\necho 'Failed to connect to bus' >&2\nexit 1\n", encoding="utf-8")
    failing.chmod(0o755)
    with keep_awake(True, inhibitor=str(failing)) as held:
        assert held is False
    with keep_awake(True, inhibitor=str(tmp_path / "missing")) as held:
        assert held is False


@pytest.mark.skipif(shutil.which(INHIBITOR) is None, reason="no systemd-inhibit here")
def test_the_real_systemd_inhibit_leaves_nothing_behind():
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with keep_awake(True) as held:
        pass
    after = [p for p in psutil.Process().children(recursive=True) if p.pid not in before and _alive(p)]
    assert after == [], f"held={held}"


def test_disabled_starts_nothing(stand_in):
    with keep_awake(False, inhibitor=str(stand_in)) as held:
        assert held is False
        assert inhibitors(stand_in) == []
    assert not Path(f"{stand_in}.args").exists()


def test_the_command_is_systemd_inhibits():
    command = inhibitor_command("/usr/bin/systemd-inhibit")
    assert command[0] == "/usr/bin/systemd-inhibit" and command[-1] == "cat"
    assert "--what=sleep:idle" in command and any(c.startswith("--why=") for c in command)
    assert os.path.basename(command[0]) == INHIBITOR
