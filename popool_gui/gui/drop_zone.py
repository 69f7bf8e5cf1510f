"""The empty state: a large drop target with Open..., the recently used files and the recent runs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from popool_gui.batch.recent_runs import RecentRun
from popool_gui.gui.recent_runs_view import RecentRunsView
from popool_gui.gui.theme import secondary_label_style

PROMPT = "Drop a CSV or Excel file of PO numbers here, or Open..."
SETUP_FIRST = "First, tell popool your portal's address and sign in: it needs both before it can download anything."


class DropZone(QFrame):
    """Only the look of the drop target: the main window accepts drops anywhere and highlights this."""

    open_requested = Signal()
    recent_chosen = Signal(str)
    demo_requested = Signal()
    resume_run = Signal(str, str)  # input file, output folder
    open_run_folder = Signal(str)
    settings_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("dropZone")
        self.setToolTip("Drag a .csv or .xlsx file with a PO_NUMBER column onto the window")
        self.setMinimumHeight(220)
        self._set_highlight(False)

        title = QLabel(PROMPT)
        title.setObjectName("dropPrompt")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setWordWrap(True)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        title.setFont(font)
        hint = QLabel("The file needs a PO_NUMBER column; the other columns are kept in the results file.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        hint.setStyleSheet(secondary_label_style(self.palette()))  # quieter, still WCAG AA
        self.hint = hint

        setup_row = self._build_setup()
        buttons = self._build_buttons()

        self._recent_box = QVBoxLayout()
        self._recent_box.setSpacing(2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 32, 32, 32)
        layout.addStretch()
        layout.addWidget(self.setup_line)
        layout.addLayout(setup_row)
        layout.addSpacing(16)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addSpacing(12)
        layout.addLayout(buttons)
        layout.addSpacing(12)
        layout.addLayout(self._recent_box)
        self.recent_runs = RecentRunsView()
        self.recent_runs.resume_requested.connect(self.resume_run)
        self.recent_runs.open_folder_requested.connect(self.open_run_folder)
        self.recent_runs.set_runs([])
        layout.addSpacing(12)
        layout.addWidget(self.recent_runs, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch()

    def _build_setup(self) -> QHBoxLayout:
        # The first thing to do on a new machine, above everything else until the portal's address is set.
        self.setup_line = QLabel(SETUP_FIRST)
        self.setup_line.setObjectName("setupFirst")
        self.setup_line.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setup_line.setWordWrap(True)
        self.setup_line.setStyleSheet("QLabel { font-weight: bold; }")  # the first thing to read on a new machine
        self.setup_button = QPushButton("Set up the portal...")
        self.setup_button.setToolTip("Open Settings at the portal's address, the sign-in and where files go")
        self.setup_button.clicked.connect(self.settings_requested)
        setup_row = QHBoxLayout()
        setup_row.addStretch()
        setup_row.addWidget(self.setup_button)
        setup_row.addStretch()
        return setup_row

    def _build_buttons(self) -> QHBoxLayout:
        """Open... and Try the demo, side by side."""
        open_button = QPushButton("Open...")
        open_button.setToolTip("Choose a CSV or Excel file (Ctrl+O)")
        open_button.setDefault(True)
        open_button.clicked.connect(self.open_requested)
        demo_button = QPushButton("Try the demo")
        demo_button.setToolTip("Start a built-in demo portal and load a sample list of POs")
        demo_button.clicked.connect(self.demo_requested)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(open_button)
        buttons.addWidget(demo_button)
        buttons.addStretch()
        return buttons

    def set_setup_needed(self, needed: bool) -> None:
        """Show the first-launch line while the portal's address is missing."""
        self.setup_line.setVisible(needed)
        self.setup_button.setVisible(needed)

    def set_recent(self, paths: list[str]) -> None:
        while self._recent_box.count():
            item = self._recent_box.takeAt(0)
            if item is not None and (widget := item.widget()):
                widget.deleteLater()
        existing = [p for p in paths if Path(p).is_file()]
        if not existing:
            return
        heading = QLabel("Recent files:")
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._recent_box.addWidget(heading)
        for path in existing:
            link = QLabel(f'<a href="{path}">{Path(path).name}</a>')
            link.setAlignment(Qt.AlignmentFlag.AlignCenter)
            link.setToolTip(path)
            link.linkActivated.connect(self.recent_chosen)
            self._recent_box.addWidget(link)

    def set_recent_runs(self, runs: list[RecentRun]) -> None:
        self.recent_runs.set_runs(runs)

    def set_highlight(self, on: bool) -> None:
        self._set_highlight(on)

    def _set_highlight(self, on: bool) -> None:
        colour = "palette(highlight)" if on else "palette(mid)"
        self.setStyleSheet(f"QFrame#dropZone {{ border: 2px dashed {colour}; border-radius: 12px; }}")


class DropOverlayHost(QWidget):
    """Nothing but a name for the stacked page that holds the drop zone (keeps margins in one place)."""

    def __init__(self, zone: DropZone) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.addWidget(zone)
