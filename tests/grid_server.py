"""A real Selenium Grid 4.20 for the tests: standalone, or a hub and a node, on free 127.0.0.1 ports.

The server jar comes from the npm package @nightwatch/selenium-server (`build_scripts/dev.sh setup` puts it in
`.cache/selenium-server/`). Every Grid process gets an environment mark, which the browsers and drivers its node
starts inherit, so `stop()` can check that nothing the Grid started survives it, without touching other runs'
processes on the same machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from tests.conftest import CHROMEDRIVER, CHROMIUM, TEST_MARK

ROOT = Path(__file__).resolve().parent.parent
GRID_VERSION = "4.20.0"
JAR = ROOT / ".cache" / "selenium-server" / f"selenium-server-{GRID_VERSION}.jar"
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0
JAVA_FLAGS = ("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
# What the node's Chromium runs with: the project's headless test flags (tests/conftest.py, the brief).
NODE_CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def require_grid() -> None:
    """Skip (or, in CI, fail) when Java or the Grid's jar is missing."""
    missing = [what for what, ok in (("java", shutil.which("java")), (str(JAR), JAR.is_file())) if not ok]
    if not missing:
        return
    message = f"the Grid tests need {' and '.join(missing)}: run build_scripts/dev.sh setup"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def node_toml(max_sessions: int) -> str:
    stereotype = {
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": str(CHROMIUM), "args": list(NODE_CHROMIUM_ARGS)},
    }
    return (
        "[node]\n"
        "detect-drivers = false\n\n"
        "[[node.driver-configuration]]\n"
        'display-name = "Chromium"\n'
        f'webdriver-executable = "{CHROMEDRIVER}"\n'
        f"max-sessions = {max_sessions}\n"
        f"stereotype = '{json.dumps(stereotype)}'\n"
    )


@dataclass
class Grid:
    """A started Grid; `url` is what popool's grid_url setting gets."""

    folder: Path
    managed_downloads: bool = True
    max_sessions: int = 2
    distributed: bool = False
    nodes: int = 1  # of a distributed Grid
    port: int = 0
    node_ports: list[int] = field(default_factory=list)
    mark: str = field(default_factory=lambda: f"grid-{uuid.uuid4().hex}")
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def node_url(self) -> str:
        return f"http://127.0.0.1:{self.node_ports[0] if self.node_ports else self.port}"

    def start(self) -> Grid:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "node.toml"
        config.write_text(node_toml(self.max_sessions), encoding="utf-8")
        downloads = ("--enable-managed-downloads", "true" if self.managed_downloads else "false")
        host = ("--host", "127.0.0.1")
        # What ends sessions a crashed popool left (docs/grid.md); a node setting, the hub has none.
        node_only = (*downloads, "--session-timeout", "120")
        self.port = free_port()
        if not self.distributed:
            self._java("standalone", "--config", str(config), "--port", str(self.port), *node_only, *host)
        else:
            publish, subscribe = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
            events = ("--publish-events", publish, "--subscribe-events", subscribe)
            self._java("hub", "--port", str(self.port), *events, "--bind-bus", "true", *host)
            for _ in range(self.nodes):
                self.node_ports.append(free_port())
                self._java(
                    "node",
                    "--config",
                    str(config),
                    "--port",
                    str(self.node_ports[-1]),
                    "--hub",
                    self.url,
                    *events,
                    *node_only,
                    *host,
                )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _java(self, role: str, *args: str) -> None:
        env = {**os.environ, TEST_MARK: self.mark}
        log = (self.folder / f"{role}-{len(self.processes)}.log").open("wb")
        with log:
            process = subprocess.Popen(
                ["java", *JAVA_FLAGS, "-jar", str(JAR), role, *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.folder,
            )
        self.processes.append(process)

    def status(self) -> dict:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{self.url}/status", timeout=5) as response:
            return json.loads(response.read())["value"]

    def sessions(self) -> int:
        return sum(1 for node in self.status()["nodes"] for slot in node["slots"] if slot.get("session"))

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"the Grid exited ({process.returncode}); see {self.folder}")
            with contextlib.suppress(OSError, ValueError):
                status = self.status()
                nodes = [node for node in status.get("nodes", ()) if node.get("slots")]
                if status.get("ready") and len(nodes) >= self.nodes:
                    return
            time.sleep(0.25)
        raise RuntimeError(f"the Grid was not ready within {READY_TIMEOUT_S:g} s; see {self.folder}")

    def marked(self) -> list[psutil.Process]:
        """Processes started by this Grid (java, chromedriver, chromium), alive and not zombies."""
        found = []
        for process in psutil.process_iter(["pid"]):
            with contextlib.suppress(psutil.Error):
                if process.status() != psutil.STATUS_ZOMBIE and process.environ().get(TEST_MARK) == self.mark:
                    found.append(process)
        return found

    def stop(self) -> list[str]:
        """Stop every Grid process; returns what had to be killed after the Grid was gone (leaks)."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        left = self.marked()
        while left and time.monotonic() < deadline:
            time.sleep(0.2)
            left = self.marked()
        names = []
        for process in left:
            with contextlib.suppress(psutil.Error):
                names.append(f"{process.pid} {process.name()}")
                process.kill()
        psutil.wait_procs(left, timeout=STOP_TIMEOUT_S)
        return names


@contextlib.contextmanager
def running_grid(folder: Path, **options: object) -> Iterator[Grid]:
    """A started Grid for the block; at its end the Grid stops and nothing it started may survive."""
    require_grid()
    grid = Grid(folder, **options).start()  # type: ignore[arg-type]
    try:
        yield grid
    finally:
        leaked = grid.stop()
    if leaked:
        pytest.fail(f"processes of the Grid left running after it stopped: {', '.join(leaked)}")
