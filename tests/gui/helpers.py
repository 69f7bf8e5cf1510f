"""Small helpers shared by the window tests."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from popool_gui.gui.main_window import MainWindow


def write_pos(path: Path, po_ids: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["PO_NUMBER", "SUPPLIER"])
        for po_id in po_ids:
            writer.writerow([f"PO{po_id}", "ACME"])
    return path


def drop_file(target: QWidget, path: Path) -> tuple[bool, bool]:
    """Drag `path` over `target` and drop it, as a file manager would; returns (enter accepted, drop accepted)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    where = QPointF(target.width() / 2, target.height() / 2)
    actions = Qt.DropAction.CopyAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    try:
        enter = QDragEnterEvent(where, actions, mime, buttons, modifiers)
    except TypeError:  # PySide6 before 6.12 takes a QPoint here (6.12 deprecates that form)
        enter = QDragEnterEvent(where.toPoint(), actions, mime, buttons, modifiers)
    QApplication.sendEvent(target, enter)
    drop = QDropEvent(where, actions, mime, buttons, modifiers)
    QApplication.sendEvent(target, drop)
    return enter.isAccepted(), drop.isAccepted()


def load(qtbot: Any, window: MainWindow, path: Path) -> bool:
    """`window.load_file(path)` until the file is read off the GUI thread; whether it loaded."""
    with qtbot.waitSignal(window.load_finished, timeout=30_000) as blocker:
        window.load_file(path)
    return bool(blocker.args[0])


def start(qtbot: Any, window: MainWindow) -> bool:
    """`window.start_run()` until the run is built off the GUI thread and going, or refused; whether it started."""
    with qtbot.waitSignal(window.start_finished, timeout=30_000) as blocker:
        window.start_run()
    return bool(blocker.args[0])
