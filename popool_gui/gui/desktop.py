"""Hand-offs to the desktop (folders, files, web pages) and yes/no questions, kept in one place.

Tests replace these functions so nothing opens a file manager or blocks on a modal dialog.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


def open_path(path: Path) -> bool:
    """Open a folder in the file manager, or a file in its default application."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def open_url(url: str) -> bool:
    return QDesktopServices.openUrl(QUrl(url))


def ask(parent: QWidget | None, title: str, text: str, buttons: tuple[str, ...], default: int = 0) -> int:
    """A modal question with buttons named for what they do; returns the index of the chosen one (-1: closed)."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    made = []
    for i, label in enumerate(buttons):
        role = QMessageBox.ButtonRole.RejectRole if i == len(buttons) - 1 else QMessageBox.ButtonRole.AcceptRole
        made.append(box.addButton(label, role))
    box.setDefaultButton(made[default])
    box.exec()
    clicked = box.clickedButton()
    return made.index(clicked) if clicked in made else -1


def choose_folder(parent: QWidget | None, title: str, start: str) -> str:
    """A folder the user picks; "" when they cancel."""
    return QFileDialog.getExistingDirectory(parent, title, start)


def warn(parent: QWidget | None, title: str, text: str) -> None:
    """A modal warning the user must acknowledge (the run they asked for cannot start)."""
    QMessageBox.warning(parent, title, text)


@contextmanager
def busy() -> Iterator[None]:
    """A wait cursor for the few GUI-thread steps that take a noticeable moment (reading 10,000 rows)."""
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()
