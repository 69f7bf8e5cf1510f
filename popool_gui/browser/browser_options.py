"""The options a browser starts with: those of a browser wherever it runs (a Grid node gets them as they are), what
a local browser adds to them (its binary, profile and download folder), and where the driver and browser
executables are."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from selenium import webdriver

from popool_gui.settings import BrowserKind, Settings

DRIVER_NAMES: dict[BrowserKind, str] = {
    BrowserKind.EDGE: "msedgedriver",
    BrowserKind.CHROME: "chromedriver",
    BrowserKind.CHROMIUM: "chromedriver",
    BrowserKind.FIREFOX: "geckodriver",
}
CHROMIUM_KINDS = frozenset({BrowserKind.EDGE, BrowserKind.CHROME, BrowserKind.CHROMIUM})
DEFAULT_BINARIES: dict[BrowserKind, tuple[str, ...]] = {
    BrowserKind.CHROMIUM: ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium"),
}
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,DownloadBubble",
    "--disable-popup-blocking",
    # Background tabs (tab pipelining) must load and run their list-rendering scripts at full speed; Chromium
    # otherwise throttles timers and renderers of hidden tabs.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)


def find_driver(settings: Settings) -> str | None:
    """The driver executable: the setting, else PATH; None leaves it to Selenium Manager."""
    if settings.driver_path:
        return settings.driver_path
    return shutil.which(DRIVER_NAMES[settings.browser])


def find_binary(settings: Settings) -> str | None:
    if settings.browser_binary:
        return settings.browser_binary
    return next((p for p in DEFAULT_BINARIES.get(settings.browser, ()) if Path(p).is_file()), None)


def download_prefs(*, block_images: bool) -> dict[str, Any]:
    """Chromium preferences: silent downloads and a blank first tab. No download folder: a local browser's is its
    staging folder (`local_chromium`), a Grid node's is its own, for its managed downloads."""
    prefs: dict[str, Any] = {
        "download.prompt_for_download": False,
        "download.directory_upgrade": True,
        "profile.default_content_setting_values.automatic_downloads": 1,
        "plugins.always_open_pdf_externally": True,
        # Safe Browsing holds back or blocks downloads it cannot verify (and it needs the network).
        "safebrowsing.enabled": False,
        "safebrowsing.disable_download_protection": True,
        "download_restrictions": 0,
        "credentials_enable_service": False,
        "profile.password_manager_enabled": False,
        # A blank first tab instead of the new-tab page: the driver's first command waits for that page's
        # navigation, which took 0.1-5 s (and 5 s with two browsers starting together) on 2 cores.
        "session.restore_on_startup": 4,
        "session.startup_urls": ["about:blank"],
    }
    if block_images:
        prefs["profile.managed_default_content_settings.images"] = 2
    return prefs


def chromium_options(settings: Settings) -> webdriver.ChromeOptions | webdriver.EdgeOptions:
    """Options of a Chromium browser wherever it runs: nothing in them names a path of this machine, so a Grid
    node gets them as they are; a local browser adds its own (`local_chromium`)."""
    options: webdriver.ChromeOptions | webdriver.EdgeOptions
    if settings.browser is BrowserKind.EDGE:
        options = webdriver.EdgeOptions()
        logging_key = "ms:loggingPrefs"
    else:
        options = webdriver.ChromeOptions()
        logging_key = "goog:loggingPrefs"
    if settings.headless:
        options.add_argument("--headless=new")
        options.add_argument("--disable-gpu")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_experimental_option("prefs", download_prefs(block_images=settings.block_resources))
    # Download progress arrives as DevTools events in the performance log: failed downloads are seen at once.
    options.set_capability(logging_key, {"performance": "ALL"})
    options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": False, "enablePage": True})
    options.page_load_strategy = "eager"  # popool waits for its own page conditions
    return options


def local_chromium(
    options: webdriver.ChromeOptions | webdriver.EdgeOptions,
    settings: Settings,
    staging_dir: Path,
    user_data_dir: Path | None,
) -> None:
    """What a browser on this machine adds to `chromium_options`: its binary, its profile, its download folder,
    and what Linux needs."""
    binary = find_binary(settings)
    if binary:
        options.binary_location = binary
    if sys.platform.startswith("linux"):
        if os.geteuid() == 0:
            options.add_argument("--no-sandbox")  # Chromium refuses to start as root with its sandbox
        # A fixed cookie key instead of the desktop keyring, which a worker cannot reach; clones made by
        # popool on Linux stay readable this way.
        options.add_argument("--password-store=basic")
    if user_data_dir is not None:
        options.add_argument(f"--user-data-dir={user_data_dir}")
    options.experimental_options["prefs"]["download.default_directory"] = str(staging_dir)


def firefox_options(settings: Settings) -> webdriver.FirefoxOptions:
    """Options of Firefox wherever it runs; a local one adds its own (`local_firefox`)."""
    options = webdriver.FirefoxOptions()
    if settings.headless:
        options.add_argument("-headless")
    preferences: dict[str, str | bool] = {
        "browser.download.useDownloadDir": True,
        "browser.download.always_ask_before_handling_new_types": False,
        "browser.download.alwaysOpenPanel": False,
        "browser.helperApps.neverAsk.saveToDisk": "application/octet-stream,application/pdf,text/plain",
        "pdfjs.disabled": True,
    }
    for key, value in preferences.items():
        options.set_preference(key, value)
    if settings.block_resources:
        options.set_preference("permissions.default.image", 2)
    options.page_load_strategy = "eager"
    return options


def local_firefox(options: webdriver.FirefoxOptions, settings: Settings, staging_dir: Path) -> None:
    """What a Firefox on this machine adds to `firefox_options`: its binary and its download folder."""
    binary = find_binary(settings)
    if binary:
        options.binary_location = binary
    options.set_preference("browser.download.folderList", 2)
    options.set_preference("browser.download.dir", str(staging_dir))
