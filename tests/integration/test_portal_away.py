"""The portal goes away for 40 s in the middle of a run (real Chromium, the demo portal's socket closed and opened
again on the same port): the run holds its queue and says so, probes, goes on, and no PO fails for the outage."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from popool_gui.batch.model import PoStatus, RunState
from popool_gui.demo.sample import write_sample_csv
from popool_gui.demo.server import DemoPortal
from popool_gui.demo.skins import Skin
from popool_gui.pool.controller import PoolController
from popool_gui.pool.outcomes import PORTAL_AWAY
from popool_gui.pool.portal_watch import PROBE_DELAYS_S
from popool_gui.run_setup import plan_run
from popool_gui.settings import Settings
from tests.helpers import Recorder, RunThread, wait_for
from tests.integration.test_verdicts import wrong_verdicts

pytestmark = pytest.mark.browser

AWAY_S = 40.0
ROWS = 24


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_run_waits_out_a_portal_that_went_away(chromium_settings: Settings, tmp_path: Path) -> None:
    portal = DemoPortal(port=free_port(), page_latency_ms=250, js_render_delay_ms=200).start()
    try:
        sample = write_sample_csv(tmp_path / "pos.csv", ROWS, include_specials=False)
        output = tmp_path / "out"
        # Two attempts only: without the hold, the outage would spend both on every PO it meets.
        settings = chromium_settings.replace(
            portal="demo", base_url=portal.url, output_dir=str(output), workers=2, max_attempts=2
        )
        plan = plan_run(settings, sample)
        recorder = Recorder()
        run = RunThread(PoolController(settings, plan.batch, recorder, portal=plan.portal))
        wait_for(lambda: len(recorder.finished()) >= 4, 120, "a few POs done before the outage")
        portal.stop()
        away_from = time.monotonic()
        wait_for(lambda: any(s.waiting for s in recorder.runs), 60, "the run saying it waits for the portal")
        waiting = next(s.waiting for s in recorder.runs if s.waiting)
        time.sleep(max(0.0, AWAY_S - (time.monotonic() - away_from)))
        done_while_away = len(recorder.finished())
        portal.start()
        back_at = time.monotonic()
        # It goes on within the longest probe interval and a PO's worth of time.
        wait_for(lambda: len(recorder.finished()) > done_while_away, 60, "a PO finished after the portal came back")
        resumed_after_s = time.monotonic() - back_at
        summary = run.join(300)
    finally:
        portal.stop()
    assert summary.state is RunState.FINISHED
    assert waiting.startswith("The portal is not answering; ")
    finals = {r.key: r for r in recorder.finished()}
    po_ids = {r.key: r.po_id for r in plan.batch.records}
    assert set(finals) == set(po_ids), "every PO is final"
    assert not [r for r in finals.values() if r.status is PoStatus.FAILED], "none failed for the outage"
    assert wrong_verdicts(portal, Skin.COUPA, list(finals.values()), po_ids, output) == []
    given_back = [r for r in recorder.results if r.status is PoStatus.PENDING and r.error == PORTAL_AWAY]
    assert given_back, "the POs that met the outage waited with their attempts kept"
    assert all(r.attempts <= settings.max_attempts for r in finals.values())
    assert resumed_after_s < PROBE_DELAYS_S[-1] + 20, resumed_after_s
    assert not recorder.runs[-1].waiting
