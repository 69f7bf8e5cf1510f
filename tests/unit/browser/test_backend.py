"""Local or Grid, decided once: which backend the settings choose and what each answers about downloads, starting
and ending; no browser, no process (a backend that never started makes no driver or Grid call)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from popool_gui.browser.backend import BackendKind, DownloadClick, backend_kind
from popool_gui.browser.backend_choice import backend_for
from popool_gui.browser.downloads import DownloadEvents
from popool_gui.browser.grid_backend import GridBackend
from popool_gui.browser.local_backend import LocalBackend
from popool_gui.browser.po_page import PoJob
from popool_gui.browser.steps import Waiting, finished, run_steps
from popool_gui.settings import Settings

GRID = "http://127.0.0.1:4444"
NO_DRIVER: Any = None  # a local wait without reports reads the staging folder, never the driver


def _event(method: str, **params: Any) -> dict[str, str]:
    return {"message": json.dumps({"message": {"method": method, "params": params}})}


def _click(staging: Path, **changes: Any) -> DownloadClick:
    now = time.monotonic()
    fields: dict[str, Any] = {
        "driver": NO_DRIVER,
        "staging": staging,
        "before": set(),
        "deadline": now + 5,
        "start_deadline": now + 5,
        "poll_s": 0.01,
        "events": None,
        "fetch": None,
        "known": set(),
        "tab": "tab-1",
        "po_tabs": {"tab-1"},
    }
    return DownloadClick(**(fields | changes))


def test_a_grid_url_sends_the_browsers_to_the_grid_and_nothing_else_does() -> None:
    assert backend_kind(Settings()) is BackendKind.LOCAL
    assert backend_kind(Settings().replace(grid_url=GRID)) is BackendKind.GRID
    local, remote = backend_for(Settings(), worker=2), backend_for(Settings().replace(grid_url=GRID), worker=3)
    assert isinstance(local, LocalBackend) and local.kind is BackendKind.LOCAL and local.worker == 2
    assert isinstance(remote, GridBackend) and remote.kind is BackendKind.GRID and remote.worker == 3


def test_only_local_browsers_are_on_this_machine() -> None:
    assert BackendKind.LOCAL.browsers_here
    assert not BackendKind.GRID.browsers_here


@pytest.mark.parametrize(
    ("settings", "attributed", "direct"),
    [(Settings(), True, True), (Settings().replace(grid_url=GRID), False, False)],
    ids=["local", "grid"],
)
def test_a_po_asks_its_backend_whether_downloads_are_attributed_and_fetched_directly(
    settings: Settings, attributed: bool, direct: bool, tmp_path: Path
) -> None:
    job = PoJob(
        driver=NO_DRIVER,
        portal=NO_DRIVER,
        settings=settings,
        staging_dir=tmp_path,
        home_handle="home",
        events=DownloadEvents(),
        on_tab=lambda state, detail: None,
        worker=1,
        backend=backend_for(settings),
        fetches=NO_DRIVER,
    )
    assert job.attributed is attributed
    job.events = None
    assert not job.attributed  # without the browser's reports no download is told apart
    assert job.direct is False  # no fetch threads
    job.fetches = object()  # type: ignore[assignment]
    assert job.direct is direct
    job.settings = settings.replace(direct_download=False)
    assert job.direct is False


def test_a_local_click_without_reports_takes_the_new_file_in_staging(tmp_path: Path) -> None:
    backend = LocalBackend(Settings(), worker=1)
    (tmp_path / "old.pdf").write_bytes(b"old")
    before = backend.files_before_click(NO_DRIVER, tmp_path)
    assert before == {"old.pdf"}
    (tmp_path / "new.pdf").write_bytes(b"new")
    outcome = run_steps(backend.wait_for(_click(tmp_path, before=before)), 0.01)
    assert outcome.path == tmp_path / "new.pdf"


def test_a_local_click_with_reports_is_watched_one_look_per_step(tmp_path: Path) -> None:
    backend = LocalBackend(Settings(), worker=1)
    looks: list[list[dict[str, str]]] = [
        [],
        [
            _event("Page.downloadWillBegin", guid="g1", url="u", suggestedFilename="a.pdf", frameId="tab-1"),
            _event("Page.downloadProgress", guid="g1", state="completed", receivedBytes=3, totalBytes=3),
        ],
    ]
    (tmp_path / "g1").write_bytes(b"abc")  # allowAndName: the file lands under its download's guid
    events = DownloadEvents()
    steps = backend.wait_for(_click(tmp_path, events=events, fetch=lambda: looks.pop(0)))
    assert isinstance(next(steps), Waiting)
    assert events.awaiting == {"tab-1"}  # the tab waits for its own download, told apart from other tabs'
    with pytest.raises(StopIteration) as done:
        next(steps)
    outcome = done.value.value
    assert outcome.path == tmp_path / "g1" and outcome.suggested_name == "a.pdf" and outcome.expected_bytes == 3
    assert events.awaiting == set()


@pytest.mark.parametrize("settings", [Settings(), Settings().replace(grid_url=GRID)], ids=["local", "grid"])
def test_a_session_that_never_started_ends_at_once_without_a_call(settings: Settings) -> None:
    backend = backend_for(settings)
    started = time.monotonic()
    backend.end(None)
    backend.kill()
    assert time.monotonic() - started < 1.0
    assert backend.session_id == "" and backend.node == "" and backend.driver_pid is None


def test_finished_steps_answer_without_a_step() -> None:
    with pytest.raises(StopIteration) as done:
        next(finished("answer"))
    assert done.value.value == "answer"
