"""Real processes the security tests start: `popool run` against the demo portal, and small holders that own a
run folder or an output folder's lock, as a running popool does, until their stdin closes or they are killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from popool_gui.pool.owner import Owner
from popool_gui.settings import Settings


def popool_run_command(demo_url: str, sample: Path, out: Path, settings: Settings, *extra: str) -> list[str]:
    """`popool run` of `sample` with two headless Chromium workers against the demo portal."""
    return [
        sys.executable,
        "-m",
        "popool_gui",
        "run",
        str(sample),
        "--portal",
        "demo",
        "--base-url",
        demo_url,
        "--output",
        str(out),
        "--workers",
        "2",
        "--headless",
        "--driver",
        settings.driver_path,
        "--binary",
        settings.browser_binary,
        "--browser",
        "chromium",
        *extra,
    ]


class Holder:
    """Runs `script` (its first stdout line is what it made) until `end()` closes its stdin, or `kill()`."""

    def __init__(self, script: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, *args], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.first_line = self.process.stdout.readline().strip()

    def owner(self) -> Owner:
        """The pid and start time a message about this process must name."""
        return Owner(pid=self.process.pid, started=psutil.Process(self.process.pid).create_time())

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.communicate("", timeout=10)


_LOCK_SCRIPT = """
import sys
from pathlib import Path
from popool_gui.pool.output_lock import OutputLock
lock = OutputLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
sys.stdin.read()
lock.release()
"""


class LockHolder(Holder):
    """Holds the lock of an output folder."""

    def __init__(self, output_dir: Path) -> None:
        super().__init__(_LOCK_SCRIPT, str(output_dir))
        assert self.first_line == "locked"


_RUN_FOLDER_SCRIPT = """
import sys
from popool_gui.browser.profiles import CLONE_MARKER
from popool_gui.pool import run_folder
path = run_folder.create()
clone = path / "profile-1"
(clone / "Default").mkdir(parents=True)
(clone / CLONE_MARKER).write_text("clone", encoding="utf-8")
(clone / "Default" / "Cookies").write_text("session", encoding="utf-8")
(path / "staging-1").mkdir()
print(path, flush=True)
sys.stdin.read()
run_folder.remove(path)
"""


class RunFolderHolder(Holder):
    """Owns a run folder (in `temp`) holding a profile clone and a staging folder, as a run's controller does."""

    def __init__(self, temp: Path) -> None:
        super().__init__(_RUN_FOLDER_SCRIPT, env={**os.environ, "TMPDIR": str(temp)})
        self.folder = Path(self.first_line)
