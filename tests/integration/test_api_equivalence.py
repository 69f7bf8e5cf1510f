"""Browser mode and API mode on the same demo batch: the same statuses and byte-identical files under the same
paths. The batch is the self-test's sample plus the POs with line and comment attachments (100017, 100018), which
the demo's pages show where a Coupa page does and its API lists at each level."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest

from popool_gui.api.credentials import store_secret
from popool_gui.api.engine import api_access, api_run
from popool_gui.batch.journal import Journal
from popool_gui.batch.model import RunState
from popool_gui.demo.sample import write_sample_csv
from popool_gui.demo.server import demo_portal
from popool_gui.pool.controller import PoolController
from popool_gui.run_setup import plan_run
from popool_gui.settings import RunMode, Settings
from tests.memory_keyring import MemoryKeyring

ROWS = 30
LEVELS = ("100017", "100018")  # header, line and comment attachments; line and comment only, one name twice
# What a run writes beside the PO folders, which differs by time and mode.
RUN_FILES = {".popool", "popool-results.csv", "popool-results.xlsx", "popool-report.html"}


def _tree(out: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(out)): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file() and path.relative_to(out).parts[0] not in RUN_FILES
    }


def _statuses(out: Path, settings: Settings, source: Path) -> dict[str, str]:
    with Journal.open(out, plan_run(settings, source).batch) as journal:
        return {r.key: str(r.status) for r in journal.all_results()}


def _sources(out: Path, settings: Settings, source: Path) -> dict[str, list[str]]:
    """Where each file came from; without the intent, which only the API gives."""
    with Journal.open(out, plan_run(settings, source).batch) as journal:
        return {r.key: [s.split(" (")[0] for s in r.attachment_sources] for r in journal.all_results()}


@pytest.mark.browser
def test_browser_and_api_give_the_same_statuses_and_files(chromium_settings: Settings, tmp_path: Path) -> None:
    before = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        with demo_portal() as portal:
            source = write_sample_csv(tmp_path / "pos.csv", ROWS)
            with source.open("a", encoding="utf-8") as rows:
                rows.writelines(f"PO{po_id};;CC-1000\r\n" for po_id in LEVELS)
            common = {"portal": "demo", "base_url": portal.url, "keep_awake": False}
            browser = chromium_settings.replace(output_dir=str(tmp_path / "browser"), workers=2, **common)
            plan = plan_run(browser, source)
            assert PoolController(browser, plan.batch, portal=plan.portal).run().state is RunState.FINISHED

            api = Settings().replace(
                output_dir=str(tmp_path / "api"), mode=RunMode.API, api_client_id="popool-demo", **common
            )
            store_secret(portal.url, "popool-demo", "demo-secret")
            plan = plan_run(api, source)
            run = api_run(api, plan.portal, api_access(api))
            controller = PoolController(
                run.settings,
                plan.batch,
                portal=run.portal,
                worker_target=run.worker_target,
                queue_depth=run.queue_depth,
            )
            assert controller.run().state is RunState.FINISHED
    finally:
        keyring.set_keyring(before)
    browser_out, api_out = tmp_path / "browser", tmp_path / "api"
    assert _statuses(api_out, api, source) == _statuses(browser_out, browser, source)
    browser_files, api_files = _tree(browser_out), _tree(api_out)
    assert len(browser_files) > ROWS  # the comparison is about something
    assert api_files.keys() == browser_files.keys()
    assert api_files == browser_files
    for po_id in LEVELS:
        assert sum(f"PO{po_id}_" in name for name in api_files) == 3, po_id
    sources = _sources(api_out, api, source)
    assert sources == _sources(browser_out, browser, source)
    assert sources["PO100017"] == ["header", "line", "comment"]
    assert sources["PO100018"] == ["line", "comment", "comment"]
    assert any(s == ["requisition"] * len(s) and s for s in sources.values())  # 100005's fallback
