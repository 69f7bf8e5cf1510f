"""popool against a real Selenium Grid 4.20 (tests/grid_server.py) and the embedded demo portal: no mocks.

One standalone Grid with managed downloads serves the module (starting Java is the slow part); the preflight test
of a Grid without managed downloads and the hub-and-node run start their own. After each test the Grid runs no
session (the Grid's form of the leak check); at the end nothing the Grids started survives them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from popool_gui.batch.input import read_batch
from popool_gui.batch.model import PoRecord, PoStatus, RunState
from popool_gui.browser import grid
from popool_gui.browser.cookie_transfer import PortalCookie, read_portal_cookies
from popool_gui.browser.errors import BrowserDeadError
from popool_gui.browser.grid_downloads import node_files
from popool_gui.browser.portal import load_portal
from popool_gui.browser.session import BrowserSession
from popool_gui.demo.data import PoKind, po_spec
from popool_gui.demo.sample import SPECIAL_ORDER, expected_status, write_sample_csv
from popool_gui.demo.server import SignIn, demo_portal
from popool_gui.pool.controller import PoolController
from popool_gui.pool.grid_sessions import GridSignInError, sign_in_locally
from popool_gui.redact import REDACTED
from popool_gui.selftest import verify_run
from popool_gui.settings import BrowserKind, Settings
from tests.grid_server import Grid, running_grid
from tests.helpers import Recorder, RunThread, wait_for
from tests.integration.test_pool import pool_settings
from tests.real_processes import popool_run_command

pytestmark = pytest.mark.browser

PREFLIGHT_LIMIT_S = 10.0
SLOT_FREE_S = 10.0


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Grid]:
    with running_grid(tmp_path_factory.mktemp("grid"), max_sessions=2) as started:
        yield started


@pytest.fixture(autouse=True)
def no_session_left(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "standalone" in request.fixturenames:
        standalone: Grid = request.getfixturevalue("standalone")
        assert _wait_for(lambda: standalone.sessions() == 0, SLOT_FREE_S), "a test left a session on the Grid"


def _wait_for(condition, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _record(po_id: str) -> PoRecord:
    return PoRecord(key=f"PO{po_id}", po_id=po_id, row_number=1, row={})


def _grid_settings(chromium_settings: Settings, grid_url: str, base_url: str) -> Settings:
    return chromium_settings.replace(grid_url=grid_url, portal="demo", base_url=base_url)


def test_managed_downloads_file_the_demo_pos_into_their_own_folders(
    standalone: Grid, chromium_settings: Settings, tmp_path: Path
) -> None:
    output = tmp_path / "output"
    with demo_portal() as demo:
        settings = _grid_settings(chromium_settings, standalone.url, demo.url)
        session = BrowserSession(settings, load_portal("demo", demo.url), worker=1, staging_dir=tmp_path / "staging")
        session.start()
        try:
            assert session.session_id and session.node == standalone.url
            assert session.events is not None  # DevTools download reports come through the Grid too
            results = {po: session.process(_record(po), output, 1) for po in SPECIAL_ORDER}
            assert node_files(session.driver) == set()  # type: ignore[arg-type]
        finally:
            session.quit()
    assert not list((tmp_path / "staging").iterdir())
    for po, result in results.items():
        assert str(result.status) == expected_status(po), (po, result.error)
        if result.status not in (PoStatus.COMPLETED, PoStatus.PARTIAL):
            continue
        folder = Path(result.folder)
        files = sorted(folder.iterdir())
        assert folder.is_relative_to(output)
        assert all(f.name.startswith(f"PO{po}_") for f in files), files  # no file of another PO
        assert len(files) == result.attachments_downloaded
        spec = po_spec(po)
        if spec.kind is PoKind.OK and result.status is PoStatus.COMPLETED:
            assert sorted(f.stat().st_size for f in files) == sorted(a.size for a in spec.attachments)
    hostile = {f.name for f in Path(results["100002"].folder).iterdir()}
    assert all("/" not in n and "\\" not in n and not n.startswith(".") for n in hostile)


def test_deleting_a_session_by_id_frees_its_slot_at_once(
    standalone: Grid, chromium_settings: Settings, tmp_path: Path
) -> None:
    with demo_portal() as demo:
        settings = _grid_settings(chromium_settings, standalone.url, demo.url)
        portal = load_portal("demo", demo.url)
        sessions = [BrowserSession(settings, portal, worker=n, staging_dir=tmp_path / f"staging-{n}") for n in (1, 2)]
        try:
            for session in sessions:
                session.start()
            assert standalone.sessions() == 2
            started = time.monotonic()
            sessions[0].kill()  # what the controller's kill of a worker comes to: no WebDriver call
            assert _wait_for(lambda: standalone.sessions() == 1, SLOT_FREE_S)
            assert time.monotonic() - started < SLOT_FREE_S
            with pytest.raises(BrowserDeadError):
                sessions[0].process(_record("100001"), tmp_path / "output", 1)
            replacement = BrowserSession(settings, portal, worker=1, staging_dir=tmp_path / "staging-1")
            sessions.append(replacement)
            replacement.start()  # the freed slot takes it at once: the Grid has two slots
            assert standalone.sessions() == 2
        finally:
            for session in sessions:
                session.quit()
    assert _wait_for(lambda: standalone.sessions() == 0, SLOT_FREE_S)
    assert not grid.delete_session(standalone.url, "") and grid.delete_session(standalone.url, "gone-already")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _preflight_message(grid_url: str, browser: BrowserKind, workers: int) -> str:
    started = time.monotonic()
    with pytest.raises(grid.GridPreflightError) as caught:
        grid.preflight(grid_url, browser, workers)
    assert time.monotonic() - started < PREFLIGHT_LIMIT_S
    return str(caught.value)


def test_preflight_names_the_fix_for_an_unreachable_grid() -> None:
    message = _preflight_message(f"http://ann:s3cret@127.0.0.1:{_closed_port()}/wd/hub", BrowserKind.CHROMIUM, 1)
    assert "cannot reach the Selenium Grid" in message and "grid_url" in message
    assert "s3cret" not in message and REDACTED in message


def test_preflight_names_the_fix_for_too_few_slots_and_a_browser_no_node_offers(standalone: Grid) -> None:
    assert grid.preflight(standalone.url, BrowserKind.CHROMIUM, 2).sessions == 0
    message = _preflight_message(standalone.url, BrowserKind.CHROMIUM, 3)
    assert "2 free chrome slot(s)" in message and "3 workers" in message and "'Workers' to 2" in message
    message = _preflight_message(standalone.url, BrowserKind.FIREFOX, 1)
    assert "offers firefox" in message


def test_preflight_names_the_fix_for_a_grid_without_managed_downloads(tmp_path: Path) -> None:
    with running_grid(tmp_path / "grid", managed_downloads=False, max_sessions=1) as plain:
        message = _preflight_message(plain.url, BrowserKind.CHROMIUM, 1)
    assert "without managed downloads" in message and "--enable-managed-downloads true" in message


def test_cookies_from_a_local_sign_in_open_the_po_page_signed_in_on_the_grid(
    standalone: Grid, chromium_settings: Settings, tmp_path: Path
) -> None:
    output = tmp_path / "output"
    with demo_portal(sign_in=SignIn.SSO) as demo:
        portal = load_portal("demo", demo.url)
        local = chromium_settings.replace(portal="demo", base_url=demo.url)
        signer = BrowserSession(local, portal, worker=0, staging_dir=tmp_path / "local")
        signer.start()
        try:
            assert signer.driver is not None
            signer.driver.find_element("css selector", "button#sso_continue").click()  # the person's one sign-in
            assert _wait_for(lambda: demo.sign_ins == 1, 10.0)
            cookies = read_portal_cookies(signer.driver, demo.url)
        finally:
            signer.quit()
        assert demo.cookie_name in {c.name for c in cookies}
        assert all(c.value not in repr(c) for c in cookies)  # a logged cookie shows no value

        settings = _grid_settings(chromium_settings, standalone.url, demo.url)
        carried = BrowserSession(settings, portal, worker=1, staging_dir=tmp_path / "grid-1", cookies=cookies)
        bare = BrowserSession(settings, portal, worker=2, staging_dir=tmp_path / "grid-2")
        try:
            carried.start()
            signed_in = carried.process(_record("100001"), output, 1)
            bare.start()
            walled = bare.process(_record("100001"), output, 1)
        finally:
            carried.quit()
            bare.quit()
        assert signed_in.status is PoStatus.COMPLETED, signed_in.error
        assert walled.status is PoStatus.AUTH_REQUIRED  # the login wall is still recognised on the Grid
        assert demo.sign_ins == 1  # the Grid session used the local sign-in, it made none of its own


def test_sign_in_locally_reads_the_portal_session(chromium_settings: Settings, tmp_path: Path) -> None:
    with demo_portal() as demo:
        settings = chromium_settings.replace(portal="demo", base_url=demo.url, grid_url="http://127.0.0.1:9")
        cookies = sign_in_locally(settings, load_portal("demo", demo.url), staging_dir=tmp_path / "staging")
        assert [c.name for c in cookies] == [demo.cookie_name]
    assert all(isinstance(c, PortalCookie) and c.host_only and c.domain == "127.0.0.1" for c in cookies)


# ----------------------------------------------------------------- whole runs through the Grid (PoolController)

RUN_POS = 30
PREFLIGHT_RUN_LIMIT_S = 10.0


def _grid_run(
    chromium_settings: Settings, grid_url: str, demo_url: str, tmp_path: Path, count: int = RUN_POS, **kw: object
) -> tuple[PoolController, Recorder]:
    sample = write_sample_csv(tmp_path / "pos.csv", count)
    settings = pool_settings(chromium_settings, demo_url, tmp_path / "out", workers=2, grid_url=grid_url, **kw)
    recorder = Recorder()
    return PoolController(settings, read_batch(sample), recorder), recorder


def _grid_session_ids(grid_server: Grid) -> set[str]:
    return {
        slot["session"]["sessionId"]
        for node in grid_server.status()["nodes"]
        for slot in node["slots"]
        if slot.get("session")
    }


def test_two_workers_run_30_pos_signed_in_once_and_a_killed_worker_gets_its_slot_back(
    standalone: Grid, chromium_settings: Settings, tmp_path: Path
) -> None:
    """30 demo POs through the Grid end in final statuses with their files on disk, while worker 1 is killed
    mid-run: its session is deleted, its restart gets the freed slot, and the run's one local sign-in serves
    every Grid session, the restarted one's too."""
    with demo_portal() as demo:
        ctl, recorder = _grid_run(chromium_settings, standalone.url, demo.url, tmp_path)
        runner = RunThread(ctl)
        try:
            wait_for(lambda: any(s.worker == 1 and s.node and s.pid for s in recorder.workers), 90.0)
            wait_for(lambda: standalone.sessions() == 2, 30.0)
            before = _grid_session_ids(standalone)
            victim = next(s.pid for s in reversed(recorder.workers) if s.worker == 1 and s.pid)
            os.kill(victim, signal.SIGKILL)
            # Its restart finds a slot at once (the Grid has exactly one per worker): the old session was deleted.
            wait_for(lambda: any(s.worker == 1 and s.restarts == 1 and s.node for s in recorder.workers), 45.0)
            after = _grid_session_ids(standalone)
            assert len(before & after) <= 1 and len(after - before) >= 1
        finally:
            summary = runner.join(300)
        assert summary.state is RunState.FINISHED, summary.message
        assert verify_run(demo, ctl.output_dir) == []
        assert demo.sign_ins == 1  # the local sign-in's cookies: no Grid session made a sign-in of its own
    assert standalone.sessions() == 0  # at once: the workers quit their sessions, the controller waited for it
    assert {s.node for s in recorder.workers if s.node} == {standalone.url}


@pytest.mark.parametrize("stops", [1, 2], ids=["graceful", "forced"])
def test_stop_leaves_no_session_on_the_grid(
    stops: int, standalone: Grid, chromium_settings: Settings, tmp_path: Path
) -> None:
    with demo_portal() as demo:
        ctl, recorder = _grid_run(chromium_settings, standalone.url, demo.url, tmp_path)
        runner = RunThread(ctl)
        try:
            wait_for(lambda: len(recorder.finished()) >= 4, 120.0)
            for _ in range(stops):
                ctl.stop()
        finally:
            summary = runner.join(120)
        assert summary.stopped_early
    assert standalone.sessions() == 0  # at once, not after the Grid's session timeout


def test_a_headless_run_whose_portal_needs_a_person_to_sign_in_says_so_before_any_grid_session(
    standalone: Grid, chromium_settings: Settings, tmp_path: Path
) -> None:
    with demo_portal(sign_in=SignIn.SSO) as demo:
        ctl, recorder = _grid_run(chromium_settings, standalone.url, demo.url, tmp_path, count=4)
        with pytest.raises(GridSignInError, match=r"still shows its sign-in page.*Headless"):
            ctl.run()
    assert ctl.state is RunState.FAILED
    assert not any(s.pid for s in recorder.workers)  # no worker process started, none asked the Grid


def test_a_hub_and_a_node_run_30_pos_to_final_statuses(chromium_settings: Settings, tmp_path: Path) -> None:
    with running_grid(tmp_path / "grid", distributed=True, max_sessions=2) as hub, demo_portal() as demo:
        assert grid.preflight(hub.url, BrowserKind.CHROMIUM, 2).sessions == 0  # the hub answers for its node
        ctl, recorder = _grid_run(chromium_settings, hub.url, demo.url, tmp_path)
        summary = ctl.run()
        assert summary.state is RunState.FINISHED, summary.message
        assert verify_run(demo, ctl.output_dir) == []
        assert not summary.counts.get(str(PoStatus.PENDING))  # every PO final
        assert {s.node for s in recorder.workers if s.node} == {hub.node_url}  # the node's address, not the hub's
        assert hub.sessions() == 0


def test_a_misconfigured_grid_ends_the_run_with_its_fix_within_seconds(
    chromium_settings: Settings, tmp_path: Path
) -> None:
    grid_url = f"http://ann:s3cret@127.0.0.1:{_closed_port()}"
    with demo_portal() as demo:
        ctl, _ = _grid_run(chromium_settings, grid_url, demo.url, tmp_path, count=4)
        started = time.monotonic()
        with pytest.raises(grid.GridPreflightError) as caught:
            ctl.run()
        assert time.monotonic() - started < PREFLIGHT_RUN_LIMIT_S
        assert ctl.state is RunState.FAILED
        assert "cannot reach the Selenium Grid" in str(caught.value) and "s3cret" not in str(caught.value)

        sample = tmp_path / "pos.csv"
        command = popool_run_command(demo.url, sample, tmp_path / "cli-out", chromium_settings, "--grid-url", grid_url)
        started = time.monotonic()
        cli = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert time.monotonic() - started < PREFLIGHT_RUN_LIMIT_S + 5  # the interpreter's own start on a busy box
    assert cli.returncode == 2, cli.stderr
    assert "cannot reach the Selenium Grid" in cli.stderr and "s3cret" not in cli.stderr + cli.stdout
