"""Verdicts earned on late-rendered lists: real Chromium, a real pool, 60 POs, every verdict checked.

The lists appear 0-3 s after load (most well above `settle_ms`), two items first and the rest 1.5 s later, in two
portals: Coupa's markup with the list fetched as JSON behind a loading placeholder, and a portal with other markup,
PO numbers and no "rendered" marker whose list comes from a script timer with no placeholder at all. Every PO must
end with the status the portal's data says, every COMPLETED one with every file, byte for byte.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from popool_gui.batch.model import PoResult, PoStatus, RunState
from popool_gui.demo.sample import expected_status, write_sample_csv
from popool_gui.demo.server import DemoPortal, demo_portal
from popool_gui.demo.skins import Skin
from popool_gui.pool.controller import PoolController
from popool_gui.run_setup import plan_run
from popool_gui.settings import Settings
from tests.helpers import Recorder

pytestmark = pytest.mark.browser

OTHER_PROFILE = Path(__file__).resolve().parent.parent / "portals" / "other.toml"
LATE = {"js_render_delay_ms": 0, "js_render_delay_max_ms": 3000, "second_batch_ms": 1500, "page_latency_ms": 100}
CASES = {
    "coupa-fetch-placeholder": (
        "coupa",
        {**LATE, "list_via_fetch": True, "list_fetch_latency_ms": 400, "loading_placeholder": True},
        Skin.COUPA,
    ),
    "other-markup-timer": (str(OTHER_PROFILE), {**LATE, "skin": "other"}, Skin.OTHER),
}
ROWS = 33  # 30 distinct valid POs, two invalid rows and a duplicate


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wrong_verdicts(
    portal: DemoPortal, skin: Skin, results: list[PoResult], po_ids: dict[str, str], output: Path
) -> list[str]:
    wrong: list[str] = []
    for result in results:
        po_id = po_ids[result.key]
        want = expected_status(po_id, skin=skin)
        if result.status != want:
            wrong.append(f"{result.key}: {result.status} not {want} ({result.error})")
            continue
        if result.status is not PoStatus.COMPLETED:
            continue
        spec = portal.po_spec(po_id)
        files = spec.attachments or spec.requisition_attachments
        want_bytes = Counter(digest(portal.file_bytes(po_id, a.file_id)) for a in files)
        folder = output / result.folder
        got = Counter(digest(p.read_bytes()) for p in folder.iterdir() if p.is_file())
        if got != want_bytes or result.attachments_found != len(files):
            wrong.append(f"{result.key}: {result.attachments_found} of {len(files)} files found, bytes differ")
    return wrong


@pytest.mark.parametrize("case", list(CASES))
def test_no_wrong_verdict_on_late_rendered_lists(case: str, chromium_settings: Settings, tmp_path: Path) -> None:
    profile, knobs, skin = CASES[case]
    with demo_portal(**knobs) as portal:
        sample = write_sample_csv(tmp_path / "pos.csv", ROWS, include_specials=False, skin=skin)
        output = tmp_path / "out"
        settings = chromium_settings.replace(
            portal=profile, base_url=portal.url, output_dir=str(output), workers=2, page_timeout_s=30.0
        )
        plan = plan_run(settings, sample)
        assert len(plan.batch.records) == 30
        recorder = Recorder()
        summary = PoolController(settings, plan.batch, recorder, portal=plan.portal).run()
    assert summary.state is RunState.FINISHED
    finals = {r.key: r for r in recorder.finished()}
    po_ids = {r.key: r.po_id for r in plan.batch.records}
    assert set(finals) == set(po_ids)
    assert wrong_verdicts(portal, skin, list(finals.values()), po_ids, output) == []
    empties = [r for r in finals.values() if r.status is PoStatus.NO_ATTACHMENTS]
    assert empties, "the sample should hold POs with no attachments"
    assert summary.render.second_looks >= len(empties)
    # Learned from the portal: its lists come well after the profile's settle window.
    assert summary.render.p95_ms is not None and summary.render.p95_ms > plan.portal.attachments.settle_ms
