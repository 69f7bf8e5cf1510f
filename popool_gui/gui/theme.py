"""Qt styling: status chips, the memory gauge's colour and the dark palette. The colours themselves live in
`popool_gui/status_colours.py`, which the HTML run report shares without Qt."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

from popool_gui.status_colours import AMBER, GREEN, RED


def chip_style(colour: str) -> str:
    """Style sheet that makes a QLabel a rounded chip like the table's status cells."""
    return f"QLabel {{ color: white; background: {colour}; border-radius: 8px; padding: 1px 8px; }}"


def load_colour(fraction_of_threshold: float) -> QColor:
    """Green well below the memory threshold, amber when close, red at or above it."""
    if fraction_of_threshold >= 1.0:
        return QColor(RED)
    if fraction_of_threshold >= 0.85:
        return QColor(AMBER)
    return QColor(GREEN)


def dark_palette() -> QPalette:
    """A neutral dark palette (Fusion style), used by `--dark` and the screenshot script."""
    p = QPalette()
    window, base, text = QColor(37, 37, 38), QColor(30, 30, 30), QColor(220, 220, 220)
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor(45, 45, 48))
    p.setColor(QPalette.ColorRole.ToolTipBase, window)
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor(51, 51, 55))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.Highlight, QColor(38, 79, 120))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    p.setColor(QPalette.ColorRole.Link, QColor(86, 156, 214))
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(140, 140, 140))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return p
