"""What the window remembers between launches besides `Settings`: geometry, splitter sizes, recent files, recent
runs (their output folders) and each table's header (column widths, order and sort).

Stored as an INI file next to the settings TOML, so `POPOOL_CONFIG_DIR` isolates both (tests rely on it).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QHeaderView

from popool_gui.settings import config_dir

FILE_NAME = "window.ini"
MAX_RECENT = 6
MAX_RECENT_RUNS = 8


class WindowState:
    def __init__(self, path: Path | None = None) -> None:
        self._store = QSettings(str(path or config_dir() / FILE_NAME), QSettings.Format.IniFormat)

    def geometry(self) -> QByteArray | None:
        value = self._store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def splitter(self) -> QByteArray | None:
        value = self._store.value("window/splitter")
        return value if isinstance(value, QByteArray) else None

    def save_window(self, geometry: QByteArray, splitter: QByteArray) -> None:
        self._store.setValue("window/geometry", geometry)
        self._store.setValue("window/splitter", splitter)
        self._store.sync()

    def recent_files(self) -> list[str]:
        return self._list("recent/files")

    def add_recent(self, path: Path) -> list[str]:
        return self._push("recent/files", path, MAX_RECENT)

    def recent_runs(self) -> list[str]:
        """Output folders of recent runs, newest first (batch/recent_runs.py reads their journals)."""
        return self._list("recent/runs")

    def add_recent_run(self, output_dir: Path) -> list[str]:
        return self._push("recent/runs", output_dir, MAX_RECENT_RUNS)

    def forget_run(self, output_dir: Path) -> list[str]:
        runs = [r for r in self.recent_runs() if r != str(output_dir)]
        self._store.setValue("recent/runs", runs)
        self._store.sync()
        return runs

    def save_header(self, table: str, header: QHeaderView) -> None:
        """Column widths, order and sort of one table, under its name (each view's HEADER_KEY)."""
        self._store.setValue(f"headers/{table}", header.saveState())
        self._store.sync()

    def restore_header(self, table: str, header: QHeaderView) -> bool:
        """Put back what `save_header` stored; False (the view keeps its defaults) when nothing usable is stored,
        e.g. a state saved by a version whose table had other columns."""
        value = self._store.value(f"headers/{table}")
        if not isinstance(value, QByteArray) or value.isEmpty():
            return False
        columns = header.count()
        return header.restoreState(value) and header.count() == columns

    def _list(self, key: str) -> list[str]:
        value = self._store.value(key, [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        # QSettings.value() is typed object; here it is the list _push stored, or nothing yet.
        return [str(v) for v in cast(list[object], value or [])]

    def _push(self, key: str, path: Path, most: int) -> list[str]:
        text = str(path)
        items = [text, *(f for f in self._list(key) if f != text)][:most]
        self._store.setValue(key, items)
        self._store.sync()
        return items
