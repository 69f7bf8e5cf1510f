"""What the window remembers between launches besides `Settings`: geometry, splitter sizes, recent files.

Stored as an INI file next to the settings TOML, so `POPOOL_CONFIG_DIR` isolates both (tests rely on it).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from popool_gui.settings import config_dir

FILE_NAME = "window.ini"
MAX_RECENT = 6


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
        value = self._store.value("recent/files", [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        return [str(v) for v in value or []]

    def add_recent(self, path: Path) -> list[str]:
        text = str(path)
        files = [text, *(f for f in self.recent_files() if f != text)][:MAX_RECENT]
        self._store.setValue("recent/files", files)
        self._store.sync()
        return files
