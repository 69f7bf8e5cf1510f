"""Screenshots of the window for the README: empty, running, finished, settings, and a dark-palette one.

    xvfb-run -a .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--scale 1]

Runs a real demo (embedded demo portal, headless Chromium) in a scratch config folder, so the user's own
settings and recent files are untouched; two made-up earlier runs (real journals) fill the empty window's Recent
runs. Without Xvfb it falls back to Qt's offscreen platform.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
WINDOW_SIZE = (1280, 820)


def seed_recent_runs(scratch: Path) -> None:
    """Two earlier runs for the empty window's Recent runs: real journals, one finished and one stopped part-way."""
    from popool_gui.batch.journal import Journal
    from popool_gui.batch.model import PoResult, PoStatus
    from popool_gui.gui.window_state import WindowState
    from popool_gui.run_setup import default_portal, read_run_batch

    state = WindowState()
    for name, count, done in (("march-pos.csv", 120, 120), ("q1-audit-sample.csv", 480, 312)):
        source = scratch / "inputs" / name
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("PO_NUMBER\n" + "".join(f"PO{15_000_000 + i}\n" for i in range(count)), encoding="utf-8")
        output = scratch / "runs" / source.stem
        with Journal.open(output, read_run_batch(source, default_portal())) as journal:
            for record in journal.pending()[:done]:
                journal.record(PoResult(key=record.key, status=PoStatus.COMPLETED))
        state.add_recent_run(output)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--scale", default="1", help="QT_SCALE_FACTOR, e.g. 2 for a 200 %% check")
    parser.add_argument("--count", type=int, default=60, help="POs in the demo sample")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["QT_SCALE_FACTOR"] = args.scale
    scratch = Path(tempfile.mkdtemp(prefix="popool-screens-"))
    os.environ["POPOOL_CONFIG_DIR"] = str(scratch / "config")
    os.environ["POPOOL_LOG_DIR"] = str(scratch / "logs")

    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QIcon, QPainter, QPalette, QPixmap
    from PySide6.QtWidgets import QApplication

    from popool_gui import logs
    from popool_gui.app import icon_path
    from popool_gui.batch.model import RunState
    from popool_gui.gui.main_window import MainWindow
    from popool_gui.gui.settings_dialog import SettingsDialog
    from popool_gui.gui.theme import dark_palette
    from popool_gui.settings import BrowserKind, Settings

    logs.configure("gui")
    app = QApplication(sys.argv[:1])
    app.setApplicationName("popool")
    found = icon_path()
    if found:
        app.setWindowIcon(QIcon(str(found)))
    app.setStyle("Fusion")  # the same look on every machine the script runs on
    args.out.mkdir(parents=True, exist_ok=True)

    def pump(seconds: float, until: Callable[[], bool] = lambda: False) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            if until():
                return True
            time.sleep(0.02)
        return until()

    def save(pixmap: QPixmap, name: str) -> None:
        path = args.out / f"{name}.png"
        pixmap.save(str(path))
        logs_line = f"saved {path} ({pixmap.width()}x{pixmap.height()})"
        sys.stderr.write(logs_line + "\n")

    def with_dialog(window: MainWindow, dialog: object) -> QPixmap:
        """The window with a dialog drawn where it sits on screen (a window grab alone leaves it out)."""
        shot = window.grab()
        painter = QPainter(shot)
        top_left = dialog.mapToGlobal(QPoint(0, 0)) - window.mapToGlobal(QPoint(0, 0))  # type: ignore[attr-defined]
        inner = dialog.grab()  # type: ignore[attr-defined]
        painter.drawPixmap(top_left, inner)
        # Offscreen grabs carry no window-manager frame: draw a thin one so the dialog stands out.
        painter.setPen(window.palette().color(QPalette.ColorRole.Mid))
        size = inner.deviceIndependentSize()  # logical pixels, right at any scale factor
        painter.drawRect(top_left.x() - 1, top_left.y() - 1, int(size.width()) + 1, int(size.height()) + 1)
        painter.end()
        return shot

    settings = Settings().replace(
        browser=BrowserKind.CHROMIUM,
        headless=True,
        workers=3,
        driver_path=str(CHROMEDRIVER) if CHROMEDRIVER.is_file() else "",
        browser_binary=str(CHROMIUM) if CHROMIUM.is_file() else "",
        output_dir=str(scratch / "output"),
    )
    seed_recent_runs(scratch)
    window = MainWindow(settings, persist_settings=False)
    window.resize(*WINDOW_SIZE)
    window.show()
    pump(0.5)
    save(window.grab(), "empty")

    window.try_demo(args.count)
    pump(30, lambda: window.batch is not None and not window.busy)  # the sample is read off the GUI thread
    pump(0.3)
    window.messages.hide()
    window.start_run()
    pump(30, lambda: window.running)
    total = window.batch.records.__len__() if window.batch else 1
    pump(120, lambda: window.status.progress.value() >= total * 0.4)
    pump(0.3)
    save(window.grab(), "running")

    pump(300, lambda: window.summary_dialog is not None)
    pump(0.5)
    dialog = window.summary_dialog
    if dialog is None or window.last_summary is None or window.last_summary.state is not RunState.FINISHED:
        sys.stderr.write("the demo run did not finish\n")
        return 1
    dialog.move(window.geometry().center() - dialog.rect().center())
    pump(0.3)
    save(with_dialog(window, dialog), "finished")
    dialog.close()

    settings_dialog = SettingsDialog(window.settings, window)
    settings_dialog.show()
    pump(0.3)
    save(settings_dialog.grab(), "settings")
    settings_dialog.close()

    app.setPalette(dark_palette())
    window.po_panel.show_status(None)
    pump(0.5)
    save(window.grab(), "finished-dark")
    window.close()
    pump(0.5)
    # Tear Qt down while Python still runs: left to interpreter exit, PySide6 can crash in the last GC pass.
    app.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
