"""API mode end to end without a browser: the controller with an API lane against the demo portal's API on a
random loopback port. Statuses and bytes as the self-test checks them, every attachment level, both ways of
serving bytes, and the tenant's limits (429, expiring tokens, 503 bursts) met without a wrong result."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from popool_gui import cli
from popool_gui.api.access import NEW_TOKEN_WAIT_S, ApiSetupError
from popool_gui.api.credentials import load_api_key, load_secret, store_api_key, store_secret
from popool_gui.api.engine import api_access, api_run, resolve_mode
from popool_gui.batch.journal import Journal
from popool_gui.batch.model import PoStatus, RunState
from popool_gui.demo.api import ApiBytes
from popool_gui.demo.data import po_spec
from popool_gui.demo.sample import write_sample_csv
from popool_gui.demo.server import DemoPortal, demo_portal
from popool_gui.pool.controller import PoolController
from popool_gui.run_setup import output_dir, plan_run
from popool_gui.selftest import verify_run
from popool_gui.settings import RunMode, Settings
from tests.helpers import Recorder, RunThread, wait_for
from tests.memory_keyring import MemoryKeyring

CLIENT, SECRET = "popool-demo", "demo-secret"


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture
def portal() -> Iterator[DemoPortal]:
    with demo_portal(js_render_delay_ms=0) as running:
        yield running


def _settings(portal: DemoPortal, tmp_path: Path, **changes: object) -> Settings:
    return Settings().replace(
        portal="demo",
        base_url=portal.url,
        output_dir=str(tmp_path / "out"),
        mode=RunMode.API,
        api_client_id=CLIENT,
        keep_awake=False,
        **changes,
    )


def run_api(settings: Settings, source: Path, listener: Recorder | None = None) -> PoolController:
    store_secret(settings.base_url, settings.api_client_id, SECRET)
    plan = plan_run(settings, source)
    run = api_run(settings, plan.portal, api_access(settings))
    controller = PoolController(
        run.settings,
        plan.batch,
        listener,
        portal=run.portal,
        worker_target=run.worker_target,
        queue_depth=run.queue_depth,
    )
    summary = controller.run()
    assert summary.state is RunState.FINISHED, summary.message
    return controller


@pytest.mark.parametrize("way", list(ApiBytes))
def test_sample_batch_gets_the_self_tests_statuses_and_bytes(portal: DemoPortal, tmp_path: Path, way: ApiBytes) -> None:
    portal.set_knobs(api_bytes=way)
    settings = _settings(portal, tmp_path)
    run_api(settings, write_sample_csv(tmp_path / "pos.csv", 30))
    assert verify_run(portal, output_dir(settings)) == []
    assert portal.api.rejected == 0
    assert portal.api.peak_per_s <= 25


@pytest.mark.parametrize("inline", [True, False], ids=["in-the-po-record", "from-each-list"])
def test_line_and_comment_attachments_are_collected(portal: DemoPortal, tmp_path: Path, inline: bool) -> None:
    portal.set_knobs(api_inline_attachments=inline)
    source = tmp_path / "pos.csv"
    source.write_text("PO_NUMBER\n100017\n100016\n", encoding="utf-8")
    settings = _settings(portal, tmp_path, max_attempts=1)
    controller = run_api(settings, source)
    results = {r.key: r for r in PoolController(settings, controller.batch).open().po_results()}
    spec = po_spec("100017")
    every = (*spec.attachments, *spec.line_attachments, *spec.comment_attachments)
    done = results["100017"]
    assert done.status is PoStatus.COMPLETED
    assert done.attachments_found == done.attachments_downloaded == len(every) == 3
    # Where each file hung, with the intent the API gives (the demo's: Internal for odd ids, else Supplier).
    intents = ["Internal" if int(a.file_id) % 2 else "Supplier" for a in every]
    assert done.attachment_sources == [
        f"{where} ({intent})" for where, intent in zip(("header", "line", "comment"), intents, strict=True)
    ]
    folder = Path(done.folder)
    assert sorted(p.read_bytes() for p in folder.iterdir()) == sorted(
        portal.file_bytes("100017", a.file_id) for a in every
    )
    assert results["100016"].status is PoStatus.PARTIAL  # its truncated file is never on disk


def test_limits_are_met_without_a_wrong_result(portal: DemoPortal, tmp_path: Path) -> None:
    portal.set_knobs(api_token_lifetime_s=3.0, api_503_share=0.15, api_rate_per_s=12)
    settings = _settings(portal, tmp_path, api_rate_per_s=20.0)
    run_api(settings, write_sample_csv(tmp_path / "pos.csv", 16))
    assert verify_run(portal, output_dir(settings)) == []
    assert portal.api.tokens_issued >= 2  # renewed after a 401
    assert portal.api.rejected > 0  # it met 429s and backed off


def test_secret_comes_from_the_credential_store_and_never_the_settings_file(portal: DemoPortal, tmp_path: Path) -> None:
    settings = _settings(portal, tmp_path)
    with pytest.raises(ApiSetupError, match="no secret stored"):
        api_access(settings)
    assert resolve_mode(settings.replace(mode=RunMode.AUTO)) is RunMode.BROWSER
    store_secret(portal.url, CLIENT, SECRET)
    assert load_secret(portal.url + "/", CLIENT) == SECRET
    assert resolve_mode(settings.replace(mode=RunMode.AUTO)) is RunMode.API
    access = api_access(settings)
    assert SECRET not in repr(access)
    from popool_gui.settings import to_toml

    assert SECRET not in to_toml(settings)


def test_stop_mid_run_then_resume_finishes_without_repeats(portal: DemoPortal, tmp_path: Path) -> None:
    portal.set_knobs(page_latency_ms=200)
    settings = _settings(portal, tmp_path, shutdown_timeout_s=20.0)
    source = write_sample_csv(tmp_path / "pos.csv", 40)
    store_secret(settings.base_url, settings.api_client_id, SECRET)
    plan = plan_run(settings, source)
    first_recorder = Recorder()
    run = api_run(settings, plan.portal, api_access(settings))
    first = PoolController(
        run.settings,
        plan.batch,
        first_recorder,
        portal=run.portal,
        worker_target=run.worker_target,
        queue_depth=run.queue_depth,
    )
    thread = RunThread(first)
    wait_for(lambda: len(first_recorder.finished()) >= 8, timeout=60)
    stop_at = time.monotonic()
    first.stop()
    summary = thread.join(60)
    assert time.monotonic() - stop_at < settings.shutdown_timeout_s
    assert summary.stopped_early
    done_first = {r.key for r in first_recorder.finished()}
    with Journal.open(output_dir(settings), plan.batch) as journal:
        assert journal.counts().get("ASSIGNED", 0) == 0
    second_recorder = Recorder()
    run_api(settings, source, second_recorder)
    assert not done_first & {r.key for r in second_recorder.finished()}, "a PO finished before was done again"
    assert verify_run(portal, output_dir(settings)) == []


def test_a_legacy_key_is_read_from_the_store_only_beside_a_stored_secret(memory_keyring: MemoryKeyring) -> None:
    remote = Settings().replace(base_url="https://acme.coupahost.com", mode=RunMode.API, api_client_id="audit")
    store_secret(remote.base_url, "audit", "s")
    assert api_access(remote).api_key == ""  # none stored: no fallback
    store_api_key(remote.base_url, "K-1")
    access = api_access(remote)
    assert (access.api_key, access.token_wait_s) == ("K-1", NEW_TOKEN_WAIT_S)
    local = remote.replace(base_url="http://127.0.0.1:8765")
    store_api_key(local.base_url, "K-2")
    # The demo's public secret: the store is not read; a portal on this machine needs no wait for a new token.
    demo = api_access(local, SECRET)
    assert (demo.api_key, demo.token_wait_s) == ("", 0.0)


def test_api_secret_stores_a_legacy_key_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://acme.coupahost.com"
    monkeypatch.setattr("sys.stdin", io.StringIO("K-9\n"))
    assert cli.main(["api-secret", "--base-url", url, "--legacy-key"]) == 0
    assert load_api_key(url) == "K-9"
    assert cli.main(["api-secret", "--base-url", url]) == 2  # a client secret needs its client id
