"""Cell painters: coloured state chips and the per-worker memory gauge."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from popool_gui.gui.roles import CHIP_COLOUR_ROLE, GAUGE_FRACTION_ROLE, GAUGE_LOAD_ROLE
from popool_gui.gui.theme import load_colour

_Index = QModelIndex | QPersistentModelIndex
_PAD_X, _PAD_Y = 4, 3


def _background(painter: QPainter, option: QStyleOptionViewItem) -> None:
    """Selection and hover background from the current style, without the cell's text."""
    bare = QStyleOptionViewItem(option)
    bare.text = ""
    style = option.widget.style() if option.widget else QApplication.style()
    style.drawControl(QStyle.ControlElement.CE_ItemViewItem, bare, painter, option.widget)


class ChipDelegate(QStyledItemDelegate):
    """Draws the cell's text on a rounded chip of the colour in `CHIP_COLOUR_ROLE`."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        colour = index.data(CHIP_COLOUR_ROLE)
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        if not colour or not text:
            super().paint(painter, option, index)
            return
        _background(painter, option)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = option.fontMetrics
        width = min(metrics.horizontalAdvance(text) + 2 * metrics.height() // 2, option.rect.width() - 2 * _PAD_X)
        chip = QRectF(option.rect.x() + _PAD_X, option.rect.y() + _PAD_Y, width, option.rect.height() - 2 * _PAD_Y)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour))
        radius = chip.height() / 2
        painter.drawRoundedRect(chip, radius, radius)
        painter.setPen(QColor("white"))
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(chip.width()) - 8)
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, elided)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width() + option.fontMetrics.height() + 2 * _PAD_X, hint.height() + 2 * _PAD_Y)


class MemoryGaugeDelegate(QStyledItemDelegate):
    """A bar filled to `GAUGE_FRACTION_ROLE`, coloured by `GAUGE_LOAD_ROLE`, with the MB figure on top."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        _background(painter, option)
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        if not text:
            return  # no figure (stopped worker): an empty frame would look like a broken gauge
        fraction = float(index.data(GAUGE_FRACTION_ROLE) or 0.0)
        load = float(index.data(GAUGE_LOAD_ROLE) or 0.0)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QRectF(option.rect.adjusted(_PAD_X, _PAD_Y + 1, -_PAD_X, -_PAD_Y - 1))
        palette = option.palette
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(frame, 3, 3)
        if fraction > 0:
            fill = QRectF(frame.x(), frame.y(), max(3.0, frame.width() * fraction), frame.height())
            colour = load_colour(load)
            colour.setAlpha(170)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(fill, 3, 3)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(frame, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(option.fontMetrics.horizontalAdvance("00000 MB") * 2, option.fontMetrics.height() + 10)
