"""`main_gui`: the desktop window's entry point (`popool`, `popool gui`, `popool demo`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import structlog

from popool_gui import logs
from popool_gui import settings as settings_mod
from popool_gui.settings import Settings, SettingsError

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

ICON_NAME = "popool.png"
GIL_SWITCH_INTERVAL_S = 0.001
SCREENSHOT_DELAY_MS = 1500


def icon_path() -> Path | None:
    """The icon in a PyInstaller bundle (`resources/` next to the code) or in a source checkout."""
    roots = [Path(getattr(sys, "_MEIPASS", "")), Path(__file__).resolve().parent.parent, Path(__file__).parent]
    for root in roots:
        candidate = root / "resources" / ICON_NAME
        if candidate.is_file():
            return candidate
    return None


def _parse(argv: list[str]) -> argparse.Namespace:
    # The CLI has parsed and checked argv already; only the few options the window uses are read here.
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--workers", "-w", type=int, default=None)
    parser.add_argument("--settings", type=Path, default=None)
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--screenshot", type=Path, default=None)
    known, _ = parser.parse_known_args(argv)
    return known


def main_gui(argv: list[str], demo: bool = False) -> int:
    """Open the window (in demo mode: demo portal and sample loaded) and run until it is closed."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QMessageBox

    from popool_gui.gui.main_window import MainWindow
    from popool_gui.gui.theme import dark_palette
    from popool_gui.run_setup import DEMO_COUNT

    args = _parse(argv)
    # The controller runs on a Python thread of this process; when it is busy, the GUI thread waits for the GIL
    # up to the switch interval (5 ms by default) at every call from Qt into Python. 1 ms keeps painting smooth.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    logs.configure("gui")
    # This process only ever makes a QApplication, so an existing instance is one (typed as QCoreApplication).
    app = cast(QApplication, QApplication.instance()) or QApplication(sys.argv[:1])
    app.setApplicationName("popool")
    app.setOrganizationName("popool")
    app.setApplicationDisplayName("popool")
    found = icon_path()
    if found is not None:
        app.setWindowIcon(QIcon(str(found)))
    if args.dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())

    problem = ""
    try:
        settings = settings_mod.load(args.settings)
    except SettingsError as exc:
        problem = str(exc)
        settings = Settings()
    if args.workers and demo:
        settings = settings.replace(workers=args.workers)
    logs.configure("gui", level=settings.log_level)

    window = MainWindow(settings, persist_settings=not problem)
    window.show()
    if problem:
        QMessageBox.warning(window, "Settings file", f"{problem}\n\nUsing the defaults until you save the settings.")
    ready = window.try_demo(args.count or DEMO_COUNT) if demo else True
    if args.screenshot is not None and demo and ready:  # the sample is read off the GUI thread: shoot once loaded
        window.load_finished.connect(lambda loaded: _screenshot_and_quit(window, args.screenshot, ready=loaded))
    elif args.screenshot is not None:
        _screenshot_and_quit(window, args.screenshot, ready=ready)
    return app.exec()


def _screenshot_and_quit(window: QWidget, path: Path, *, ready: bool) -> None:
    """Save the window once it has painted, then quit: the smoke test of a packaged build.

    The exit code is 1 when the screenshot could not be saved or the demo did not load (`ready`)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def shoot() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        saved = window.grab().save(str(path))
        structlog.get_logger().info("screenshot_saved", path=str(path), ok=saved)
        window.close()
        QApplication.exit(0 if saved and ready else 1)

    QTimer.singleShot(SCREENSHOT_DELAY_MS, shoot)
