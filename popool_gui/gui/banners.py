"""Inline message bars: problems the user should read without a modal dialog in the way."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton

from popool_gui.status_colours import AMBER, BLUE, RED


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_COLOURS = {Level.INFO: BLUE, Level.WARNING: AMBER, Level.ERROR: RED}


class MessageBar(QFrame):
    """A coloured bar with a message, an optional action button and a close button."""

    action_clicked = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("messageBar")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # messages quote file names and errors verbatim
        self.action = QPushButton()
        self.action.hide()
        self.action.clicked.connect(self.action_clicked)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss this message")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action)
        layout.addWidget(close)
        self.level = Level.INFO
        self.hide()

    def show_message(self, level: Level, text: str, action: str = "", action_tip: str = "") -> None:
        self.level = level
        colour = _COLOURS[level]
        self.setStyleSheet(
            f"QFrame#messageBar {{ border: 1px solid {colour}; border-left: 6px solid {colour}; border-radius: 4px; }}"
        )
        self.label.setText(text)
        self.action.setVisible(bool(action))
        self.action.setText(action)
        self.action.setToolTip(action_tip)
        self.show()

    def text(self) -> str:
        return self.label.text()
