"""The backend of a worker's browser, chosen once from the settings (`backend.backend_kind`)."""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.browser.backend import BackendKind, BrowserBackend, backend_kind
from popool_gui.browser.grid_backend import GridBackend
from popool_gui.browser.local_backend import LocalBackend
from popool_gui.settings import Settings

_BACKENDS: dict[BackendKind, type[BrowserBackend]] = {BackendKind.LOCAL: LocalBackend, BackendKind.GRID: GridBackend}


def backend_for(settings: Settings, worker: int = 0) -> BrowserBackend:
    return _BACKENDS[backend_kind(settings)](settings, worker)


def build_driver(settings: Settings, *, staging_dir: Path, user_data_dir: Path | None) -> WebDriver:
    """Start the browser of `settings` with downloads going to `staging_dir` (on a Grid: the node's managed
    downloads); raise BrowserStartError. For callers that drive a browser without a session."""
    return backend_for(settings).build_driver(staging_dir, user_data_dir)
