"""A browser's options: those for anywhere (a Grid node gets them as they are) name no path of this machine; a local
browser adds its binary, profile and download folder."""

from __future__ import annotations

from pathlib import Path

from popool_gui.browser.browser_options import chromium_options, firefox_options, local_chromium, local_firefox
from popool_gui.settings import BrowserKind, Settings

SETTINGS = Settings().replace(browser="chromium", browser_binary="/opt/chromium/chrome", headless=True)


def test_chromium_options_for_anywhere_name_no_local_path() -> None:
    options = chromium_options(SETTINGS)
    assert not any(arg.startswith("--user-data-dir") for arg in options.arguments)
    assert options.binary_location == ""
    assert "download.default_directory" not in options.experimental_options["prefs"]
    assert "--headless=new" in options.arguments


def test_a_local_chromium_adds_its_binary_profile_and_download_folder(tmp_path: Path) -> None:
    options = chromium_options(SETTINGS)
    local_chromium(options, SETTINGS, tmp_path / "staging", tmp_path / "profile")
    assert options.binary_location == "/opt/chromium/chrome"
    assert f"--user-data-dir={tmp_path / 'profile'}" in options.arguments
    prefs = options.experimental_options["prefs"]
    assert prefs["download.default_directory"] == str(tmp_path / "staging")
    assert prefs["session.startup_urls"] == ["about:blank"], "the shared preferences are kept"
    assert chromium_options(SETTINGS).experimental_options["prefs"].get("download.default_directory") is None


def test_firefox_options_for_anywhere_leave_the_download_folder_to_a_local_browser(tmp_path: Path) -> None:
    settings = SETTINGS.replace(browser=BrowserKind.FIREFOX, browser_binary="")
    options = firefox_options(settings)
    assert "browser.download.dir" not in options.preferences
    local_firefox(options, settings, tmp_path)
    assert options.preferences["browser.download.dir"] == str(tmp_path)
