"""The Settings dialog's "Test connection": the check an API run makes before it starts (`api/preflight.py`: a
token, its scopes, one PO listed), with the values as they stand in the dialog, off the GUI thread.

Kept apart from the dialog's field declarations: the dialog only places this widget in its API group.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from popool_gui.api.access import ApiSetupError
from popool_gui.api.engine import api_access
from popool_gui.api.preflight import check_connection
from popool_gui.gui.background import Background
from popool_gui.gui.theme import secondary_label_style
from popool_gui.safe_text import printable
from popool_gui.settings import Settings
from popool_gui.status_colours import GREEN, RED

API_GROUP = "API"  # the Advanced page's group the button sits in, under the API settings
# The settings the check reads; a problem in one of them is named before anything is sent.
CHECKED_SETTINGS: tuple[str, ...] = ("base_url", "api_client_id", "api_rate_per_s")


@dataclass(frozen=True, slots=True)
class ConnectionResult:
    ok: bool
    message: str


class ConnectionTest(QWidget):
    """A "Test connection" button and the answer under it; `checked` tells the answer (a ConnectionResult)."""

    checked = Signal(object)

    def __init__(self, current: Callable[[], Settings], background: Background, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._current = current
        self._background = background
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.button = QPushButton("Test connection")
        self.button.setToolTip(
            "Get a token for the API client (its secret from the credential store) and list one PO, as an API run "
            "does before it starts"
        )
        self.button.clicked.connect(self.run)
        row.addWidget(self.button)
        row.addStretch()
        column.addLayout(row)
        self.result = QLabel("Not tested yet.")
        self.result.setObjectName("apiConnectionResult")
        self.result.setWordWrap(True)
        self.result.setStyleSheet(secondary_label_style(self.palette()))
        column.addWidget(self.result)

    def run(self) -> None:
        settings = self._current()
        if not settings.base_url:
            self._show(ConnectionResult(False, "Enter the portal address first."))
            return
        problems = [p for p in settings.validate() if p.name in CHECKED_SETTINGS]
        if problems:
            self._show(ConnectionResult(False, f"Fix this first: {problems[0].message}."))
            return
        self.button.setEnabled(False)
        self.result.setText("Testing: getting a token and listing one PO...")
        self._background.run(
            lambda: try_connection(settings),
            self._show,
            lambda exc: self._show(ConnectionResult(False, f"The test failed: {printable(str(exc))}")),
        )

    def _show(self, answer: ConnectionResult) -> None:
        self.button.setEnabled(True)
        self.result.setText(("✔ " if answer.ok else "✘ ") + answer.message)
        self.result.setStyleSheet(f"QLabel {{ color: {GREEN if answer.ok else RED}; }}")
        self.checked.emit(answer)


def try_connection(settings: Settings) -> ConnectionResult:
    """The preflight's answer in one line: what was granted, or what to fix (blocks for a few seconds)."""
    started = time.monotonic()
    try:
        scopes = check_connection(api_access(settings))
    except ApiSetupError as exc:
        return ConnectionResult(False, printable(str(exc)))
    seconds = time.monotonic() - started
    return ConnectionResult(
        True,
        f"Connected in {seconds:.1f} s: API client '{printable(settings.api_client_id)}' got a token "
        f"({len(scopes)} scopes) and one PO was listed.",
    )
