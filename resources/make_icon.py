"""Draw popool's application icon with QPainter; writes resources/popool.png (256 px) and resources/popool.ico.

    python resources/make_icon.py

The motif: a stack of three document sheets (the POs) with a download arrow, on a rounded blue tile.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPainterPath, QPen, QPolygonF

HERE = Path(__file__).resolve().parent
SIZE = 256
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def draw_icon(size: int = SIZE) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / SIZE, size / SIZE)

    tile = QPainterPath()
    tile.addRoundedRect(QRectF(8, 8, 240, 240), 48, 48)
    p.fillPath(tile, QColor("#1565c0"))

    # Three sheets, back to front, each slightly offset: a pile of purchase orders.
    for i, shade in enumerate(("#90caf9", "#bbdefb", "#ffffff")):
        x, y = 58 + i * 14, 40 + i * 12
        sheet = QPainterPath()
        sheet.addRoundedRect(QRectF(x, y, 112, 140), 10, 10)
        p.fillPath(sheet, QColor(shade))
    p.setPen(QPen(QColor("#90a4ae"), 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    for line_y in (92, 114, 136):
        p.drawLine(QPointF(104, line_y), QPointF(170, line_y))

    # The download arrow over the front sheet's lower edge.
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#2e7d32"))
    p.drawEllipse(QRectF(132, 132, 92, 92))
    p.setBrush(QColor("#ffffff"))
    p.drawRect(QRectF(170, 150, 16, 34))
    p.drawPolygon(QPolygonF([QPointF(152, 180), QPointF(204, 180), QPointF(178, 206)]))
    p.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(images: list[QImage]) -> bytes:
    """A multi-size .ico with PNG-compressed entries (Windows Vista and later read them).

    Qt's own ICO writer keeps a single size, and Windows then scales the small ones badly.
    """
    pngs = [png_bytes(img) for img in images]
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries = b""
    for img, data in zip(images, pngs, strict=True):
        side = img.width() if img.width() < 256 else 0  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return header + entries + b"".join(pngs)


def main() -> int:
    # QImage text and pixmap support needs a GUI application object, even offscreen.
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    draw_icon().save(str(HERE / "popool.png"), "PNG")
    (HERE / "popool.ico").write_bytes(ico_bytes([draw_icon(size) for size in ICO_SIZES]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
