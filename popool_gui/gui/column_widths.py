"""Column widths from sample texts, set once.

ResizeToContents would measure every row on every change, which a 10,000-row table cannot afford.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QHeaderView

# A table's own IntEnum of columns: Mapping is invariant in its key, so Mapping[int, str] would refuse those dicts.
_Column = TypeVar("_Column", bound=int)


def size_from_samples(header: QHeaderView, metrics: QFontMetrics, samples: Mapping[_Column, str], padding: int) -> None:
    for column, sample in samples.items():
        header.resizeSection(column, metrics.horizontalAdvance(sample) + padding)
