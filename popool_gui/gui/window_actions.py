"""The window's menus and their actions (File, Run, Help), with shortcuts and tips."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu


@dataclass(frozen=True, slots=True)
class Slots:
    """What the actions call."""

    choose_file: Callable[[], object]
    load_file: Callable[[Path], object]
    edit_settings: Callable[[], object]
    start: Callable[[], object]
    stop: Callable[[], object]
    try_demo: Callable[[], object]
    open_logs: Callable[[], object]
    find: Callable[[], object]
    about: Callable[[], object]


class WindowActions:
    """The actions whose state follows the run (enabled or not), and the recent-files menu."""

    def __init__(self, window: QMainWindow, slots: Slots) -> None:
        self._window = window
        self._load_file = slots.load_file
        self.open = self._action(
            "&Open...", slots.choose_file, QKeySequence.StandardKey.Open, "Open a CSV or Excel file of PO numbers"
        )
        self.settings = self._action(
            "&Settings...",
            slots.edit_settings,
            QKeySequence.StandardKey.Preferences,
            "Workers, browser, portal, output folder and limits",
        )
        if self.settings.shortcut().isEmpty():
            self.settings.setShortcut(QKeySequence("Ctrl+,"))
        quit_action = self._action("&Quit", window.close, QKeySequence.StandardKey.Quit, "Close popool")
        self.start = self._action("&Start", slots.start, "Ctrl+R", "Start processing the POs")
        self.stop = self._action("S&top", slots.stop, "Ctrl+.", "Stop gracefully; again to force")
        self.demo = self._action(
            "Try the &demo", slots.try_demo, None, "Start a built-in demo portal and load a sample list of POs"
        )
        logs_action = self._action("Open &log folder", slots.open_logs, None, "Open the folder with the log files")
        window.addAction(self._action("Find", slots.find, QKeySequence.StandardKey.Find, "Search the PO table"))

        menus = window.menuBar()
        file_menu = menus.addMenu("&File")
        file_menu.addAction(self.open)
        self.recent_menu = QMenu("Open &recent", window)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.settings)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        run_menu = menus.addMenu("&Run")
        run_menu.addAction(self.start)
        run_menu.addAction(self.stop)
        help_menu = menus.addMenu("&Help")
        help_menu.addAction(self.demo)
        help_menu.addAction(logs_action)
        help_menu.addAction(self._action("&About popool", slots.about, None, "Version and licence"))
        for menu in (file_menu, self.recent_menu, run_menu, help_menu):
            menu.setToolTipsVisible(True)

    def _action(self, text: str, slot: Callable[[], object], shortcut: Any, tip: str) -> QAction:
        made = QAction(text, self._window)
        made.triggered.connect(lambda _=False: slot())
        if shortcut is not None:
            made.setShortcut(QKeySequence(shortcut))
        made.setStatusTip(tip)
        made.setToolTip(tip)
        return made

    def set_recent(self, files: list[str]) -> None:
        self.recent_menu.clear()
        for path in files:
            made = self.recent_menu.addAction(Path(path).name)
            made.setToolTip(path)
            made.triggered.connect(lambda _=False, p=path: self._load_file(Path(p)))
        self.recent_menu.setEnabled(bool(files))

    def follow_run(self, *, can_start: bool, idle: bool, running: bool) -> None:
        self.start.setEnabled(can_start)
        self.stop.setEnabled(running)
        self.open.setEnabled(idle)
        self.demo.setEnabled(idle)
