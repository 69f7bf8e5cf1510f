"""The demo portal's other skin in real headless Chromium: a list fetched by script after a delay, behind a
loading placeholder, found with the selectors of `tests/portals/other.toml`. The conftest checks that no browser
process outlives the test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.batch.input import normalise_po
from popool_gui.browser.portal import load_portal
from popool_gui.browser.session import BrowserSession
from popool_gui.demo.list_script import LOADING_ID
from popool_gui.demo.server import DemoPortal, demo_portal, render_delay_ms
from popool_gui.settings import Settings

pytestmark = pytest.mark.browser

OTHER_PROFILE = Path(__file__).parents[1] / "portals" / "other.toml"
LIST_LATENCY_MS = 300


@pytest.fixture
def portal() -> Iterator[DemoPortal]:
    with demo_portal(
        skin="other",
        list_via_fetch=True,
        loading_placeholder=True,
        js_render_delay_ms=800,
        js_render_delay_max_ms=2500,
        list_fetch_latency_ms=LIST_LATENCY_MS,
        second_batch_ms=700,
    ) as running:
        yield running


def _texts(driver: WebDriver, selectors: tuple[str, ...]) -> list[str]:
    return [e.text for s in selectors for e in driver.find_elements(By.CSS_SELECTOR, s)]


def test_a_fetched_list_appears_after_its_delay_with_the_profiles_selectors(
    portal: DemoPortal, chromium_settings: Settings, tmp_path: Path
) -> None:
    profile = load_portal(str(OTHER_PROFILE), portal.url)
    spec = portal.po_spec("0100007")
    wanted = [a.name for a in spec.attachments]
    earliest_s = (render_delay_ms(portal.knobs, spec.po_id) + LIST_LATENCY_MS) / 1000
    session = BrowserSession(chromium_settings, profile, worker=1, staging_dir=tmp_path / "staging")
    try:
        session.start()  # opens the home page, which signs in
        driver = session.driver
        assert driver is not None
        started = time.monotonic()
        driver.get(profile.po_url_for(normalise_po("PR-0100007", profile.po_id_regex)[0] or ""))
        while driver.execute_script("return document.readyState") != "complete":
            assert time.monotonic() - started < 10, "the page did not load"
            time.sleep(0.02)
        # Loaded, yet nothing to find: only the placeholder says the list is on its way.
        assert _texts(driver, profile.attachments.selectors) == []
        assert driver.find_element(By.ID, LOADING_ID).is_displayed()
        assert _texts(driver, profile.supplier.selectors) == [spec.supplier]

        first: list[str] = []
        names: list[str] = []
        first_at = 0.0
        deadline = started + earliest_s + 10
        while time.monotonic() < deadline:
            names = _texts(driver, profile.attachments.selectors)
            if names and not first:
                first = names
                first_at = time.monotonic() - started
            if len(names) == len(wanted):
                break
            time.sleep(0.02)
        assert names == wanted
        assert first == wanted[:2]  # the list grew: two first, the rest a batch later
        assert first_at >= earliest_s
        assert driver.find_elements(By.ID, LOADING_ID) == []
        assert driver.find_elements(By.CSS_SELECTOR, "[data-ready]") == []  # no marker on this portal
    finally:
        session.quit()
