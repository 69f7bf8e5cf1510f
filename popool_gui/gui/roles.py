"""Custom item-data roles shared by the table models and their delegates."""

from __future__ import annotations

from PySide6.QtCore import Qt

CHIP_COLOUR_ROLE = Qt.ItemDataRole.UserRole + 1  # str "#rrggbb": paint the cell as a coloured chip
GAUGE_FRACTION_ROLE = Qt.ItemDataRole.UserRole + 2  # float 0..1: how full the memory bar is
GAUGE_LOAD_ROLE = Qt.ItemDataRole.UserRole + 3  # float: system RAM use as a fraction of the threshold
SORT_ROLE = Qt.ItemDataRole.UserRole + 4  # a plain number or text to sort by
