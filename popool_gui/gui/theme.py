"""Qt styling: status chips, the memory gauge's colour and the dark palette. The colours themselves live in
`popool_gui/status_colours.py`, which the HTML run report shares without Qt."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

from popool_gui.status_colours import AMBER, GREEN, RED


def chip_style(colour: str) -> str:
    """Style sheet that makes a QLabel a rounded chip like the table's status cells."""
    return f"QLabel {{ color: white; background: {colour}; border-radius: 8px; padding: 1px 8px; }}"


# WCAG AA for body text: the least contrast between a text colour and its background.
MIN_TEXT_CONTRAST = 4.5


def relative_luminance(colour: QColor) -> float:
    """WCAG 2's relative luminance of an sRGB colour (0 black, 1 white)."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF()) + 0.0722 * linear(colour.blueF())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2's contrast ratio, from 1 (none) to 21 (black on white)."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def secondary_text_colour(palette: QPalette) -> QColor:
    """A quieter text colour for hints and help lines that still reads at WCAG AA on the window's background:
    the text colour moved towards the background only as far as 4.5:1 allows (Qt's disabled grey is 1.6:1)."""
    text = palette.color(QPalette.ColorRole.WindowText)
    background = palette.color(QPalette.ColorRole.Window)
    for step in range(40, -1, -5):  # per cent of the way towards the background
        t = step / 100
        mixed = QColor.fromRgbF(
            text.redF() + (background.redF() - text.redF()) * t,
            text.greenF() + (background.greenF() - text.greenF()) * t,
            text.blueF() + (background.blueF() - text.blueF()) * t,
        )
        if contrast_ratio(mixed, background) >= MIN_TEXT_CONTRAST:
            return mixed
    return text


def secondary_label_style(palette: QPalette) -> str:
    return f"QLabel {{ color: {secondary_text_colour(palette).name()}; }}"


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
