"""Shared fixtures: headless Chromium settings, the demo portal, and a guard against leaked browsers."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from popool_gui.browser.session import BrowserSession
from popool_gui.settings import BrowserKind, Settings


@pytest.fixture(autouse=True, scope="session")
def isolated_user_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Settings and logs of the tests never touch the developer's own popool folders."""
    saved = {name: os.environ.get(name) for name in ("POPOOL_CONFIG_DIR", "POPOOL_LOG_DIR")}
    os.environ["POPOOL_CONFIG_DIR"] = str(tmp_path_factory.mktemp("config"))
    os.environ["POPOOL_LOG_DIR"] = str(tmp_path_factory.mktemp("logs"))
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
LEAK_GRACE_S = 5.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Browser tests first (a stable sort keeps each module's order): they are the long ones, so pytest-xdist's
    # workers end on short tests together instead of one of them on a long browser test while the other idles.
    items.sort(key=lambda item: item.get_closest_marker("browser") is None)
    if CHROMIUM.is_file() and CHROMEDRIVER.is_file():
        return
    skip = pytest.mark.skip(reason=f"needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture
def chromium_settings(tmp_path: Path) -> Settings:
    """Headless Chromium with explicit driver and binary (Selenium Manager cannot download anything offline)."""
    return Settings().replace(
        browser=BrowserKind.CHROMIUM,
        driver_path=str(CHROMEDRIVER),
        browser_binary=str(CHROMIUM),
        headless=True,
        output_dir=str(tmp_path / "output"),
        page_timeout_s=15.0,
        download_timeout_s=30.0,
        start_timeout_s=60.0,
    )


@pytest.fixture
def demo() -> Iterator[object]:
    """A started demo portal on 127.0.0.1, fresh for each test."""
    from popool_gui.demo.server import demo_portal

    with demo_portal() as portal:
        yield portal


TEST_MARK = "POPOOL_TEST_MARK"


def _marked_browsers(mark: str) -> list[psutil.Process]:
    """Browser processes started under this test: they inherit its environment mark, however they were reparented
    (so browsers of other test runs on the same machine are never mistaken for leaks)."""
    found: list[psutil.Process] = []
    for process in psutil.process_iter(["pid", "name"]):
        if "chrom" not in (process.info["name"] or "").lower():
            continue
        try:
            if process.status() == psutil.STATUS_ZOMBIE or process.environ().get(TEST_MARK) != mark:
                continue
        except psutil.Error:
            continue
        found.append(process)
    return found


@pytest.fixture(autouse=True)
def no_leaked_browsers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A browser test must leave no chromium or chromedriver process behind (killed here, and the test fails)."""
    if request.node.get_closest_marker("browser") is None:
        yield
        return
    mark = f"{os.getpid()}-{request.node.nodeid}"
    monkeypatch.setenv(TEST_MARK, mark)
    yield
    deadline = time.monotonic() + LEAK_GRACE_S
    leaked = _marked_browsers(mark)
    while leaked and time.monotonic() < deadline:
        time.sleep(0.1)
        leaked = _marked_browsers(mark)
    if not leaked:
        return
    names = []
    for process in leaked:
        try:
            names.append(f"{process.pid} {process.name()}")
        except psutil.Error:
            names.append(str(process.pid))
    for process in leaked:
        try:
            process.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(leaked, timeout=LEAK_GRACE_S)
    pytest.fail(f"browser processes left running after the test: {', '.join(names)}")


def quit_leaving_nothing(session: BrowserSession) -> None:
    """Quit a test's browser session and check that nothing of its process tree survives."""
    root = psutil.Process(session.driver_pid) if session.driver_pid else None
    tree = [root, *root.children(recursive=True)] if root else []
    session.quit()
    _, alive = psutil.wait_procs(tree, timeout=LEAK_GRACE_S)
    assert not alive, f"the browser left processes behind: {[p.pid for p in alive]}"
