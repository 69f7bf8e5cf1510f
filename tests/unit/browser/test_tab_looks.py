"""What the home tab's look into a PO tab means (page_wait.probe_tabs), without a browser."""

from __future__ import annotations

from popool_gui.browser.page_wait import BLANK, NOT_STARTED, _look_of
from popool_gui.browser.portal import load_portal


def test_a_tab_still_showing_its_last_pos_page_has_not_started_loading() -> None:
    portal = load_portal("demo", "http://127.0.0.1:1")
    look = _look_of({"stale": True}, portal)
    assert look is NOT_STARTED
    assert look.url == BLANK and look.attachments == 0 and look.since_load_ms < 0


def test_a_tab_out_of_sight_gets_no_look() -> None:
    portal = load_portal("demo", "http://127.0.0.1:1")
    assert _look_of(None, portal) is None
