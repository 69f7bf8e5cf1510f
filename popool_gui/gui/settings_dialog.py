"""The Settings dialog: one editor per `Settings` field, validated field by field as the user types.

Each field's label, help, choices and whether it waits for the next pool start come from its declaration in
`settings.py`; here live only the pages: which fields go where, and the first page's words for its three."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from popool_gui.browser.portal import BUILTIN_PORTALS, PortalError, PortalProfile
from popool_gui.browser.sign_in_check import SignInCheck, check_sign_in
from popool_gui.gui.api_check import API_GROUP, ConnectionTest
from popool_gui.gui.background import Background
from popool_gui.gui.theme import secondary_label_style
from popool_gui.pool import run_folder
from popool_gui.run_setup import run_portal
from popool_gui.settings import SPECS, BrowserKind, Settings, choices
from popool_gui.status_colours import GREEN, RED

# The first page: the three things an analyst must do. Everything else is tuning, under Advanced.
ESSENTIALS: tuple[str, ...] = ("base_url", "profile_dir", "output_dir")
ADVANCED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Run", ("workers", "max_attempts", "po_timeout_s", "results_format", "keep_awake", "log_level")),
    ("Portal", ("portal",)),
    ("API", ("mode", "api_client_id", "api_rate_per_s", "api_concurrency")),
    (
        "Browser",
        (
            "browser",
            "headless",
            "profile_name",
            "driver_path",
            "browser_binary",
            "grid_url",
            "tabs_per_worker",
            "block_resources",
            "direct_download",
        ),
    ),
    (
        "Limits",
        (
            "memory_threshold_pct",
            "memory_margin_pct",
            "memory_cooldown_s",
            "max_restarts",
            "shutdown_timeout_s",
            "page_timeout_s",
            "download_timeout_s",
            "start_timeout_s",
            "heartbeat_timeout_s",
        ),
    ),
)
# What the first page calls its fields: the analyst's words for the same settings.
ESSENTIAL_LABELS: dict[str, str] = {
    "base_url": "Portal address",
    "profile_dir": "Signed-in browser profile",
    "output_dir": "Where files go",
}

# Text settings whose list of choices is only a start: a portal can also be a .toml file of the user's own.
_OPEN_CHOICES: dict[str, tuple[str, ...]] = {"portal": BUILTIN_PORTALS}
_FILE_FIELDS = ("driver_path", "browser_binary")
_FOLDER_FIELDS = ("output_dir", "profile_dir")
RESTART_MARK = " ⟳"


def edge_profile_dir() -> str:
    """Where Edge keeps the signed-in user's profiles on Windows."""
    local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    return str(Path(local) / "Microsoft" / "Edge" / "User Data")


class SettingsDialog(QDialog):
    """Two pages: Essentials (portal address, sign-in, where files go) and Advanced (every tuning knob). Each
    field shows its help under it, and its problem, if any, in red below that."""

    sign_in_checked = Signal(object)  # SignInCheck, once a Check sign-in has answered

    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        run_in_progress: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._base = settings
        self._background = Background(self)  # its own: the window's Start and loading stay free during a check
        self._editors: dict[str, QWidget] = {}
        self._errors: dict[str, QLabel] = {}
        self.result_settings: Settings | None = None

        self.tabs = QTabWidget()
        self.tabs.addTab(self._essentials_page(settings), "Essentials")
        self.tabs.addTab(self._advanced_page(settings), "Advanced")

        note = QLabel(
            f"{RESTART_MARK.strip()} Takes effect when the pool starts."
            + (" A run is in progress: changes apply to the next run." if run_in_progress else "")
        )
        note.setStyleSheet(secondary_label_style(self.palette()))
        self.summary = QLabel()
        self.summary.setStyleSheet(f"color: {RED};")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setToolTip("Save the settings")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setToolTip("Close without saving")
        restore = self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.setToolTip("Put every field back to its default (not saved until OK)")
        restore.clicked.connect(self._restore_defaults)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(note)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        self.resize(720, 640)
        self.validate()

    # ------------------------------------------------------------------ pages

    def _essentials_page(self, settings: Settings) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        intro = QLabel(
            "Three things before the first run: your portal's address, a browser profile that is signed in to it, "
            "and where the files go."
        )
        intro.setWordWrap(True)
        column.addWidget(intro)
        column.addSpacing(8)
        for name in ESSENTIALS:
            self._add_field(column, name, settings, label=ESSENTIAL_LABELS[name])
            if name == "profile_dir":
                column.addWidget(self._sign_in_row())
            column.addSpacing(10)
        column.addStretch()
        return page

    def _advanced_page(self, settings: Settings) -> QWidget:
        inner = QWidget()
        column = QVBoxLayout(inner)
        for title, names in ADVANCED:
            group = QGroupBox(title)
            fields_column = QVBoxLayout(group)
            for name in names:
                self._add_field(fields_column, name, settings)
                fields_column.addSpacing(6)
            if title == API_GROUP:
                fields_column.addWidget(self._connection_test())
            column.addWidget(group)
        column.addStretch()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        return scroll

    def _add_field(self, column: QVBoxLayout, name: str, settings: Settings, label: str = "") -> None:
        """Its label, the editor, its help (visible, not only on hover) and its error line, one under another:
        a stack keeps wrapped help lines whole where a form layout in a scroll area clips them."""
        spec = SPECS[name]
        text = label or spec.label
        restart = spec.restart
        help_text = spec.help + (". Takes effect when the pool starts" if restart else "")
        title = QLabel(text + (RESTART_MARK if restart else ""))
        editor = self._make_editor(name, getattr(settings, name), help_text)
        editor.setAccessibleName(text)
        editor.setAccessibleDescription(help_text)
        title.setBuddy(self.editor(name))
        hint = QLabel(help_text + ".")
        hint.setWordWrap(True)
        hint.setStyleSheet(secondary_label_style(self.palette()))
        error = QLabel()
        error.setStyleSheet(f"color: {RED};")
        error.setWordWrap(True)
        error.hide()
        self._errors[name] = error
        for widget in (title, editor, hint, error):
            column.addWidget(widget)

    def _sign_in_row(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self._edge_button())
        self.check_button = QPushButton("Check sign-in")
        self.check_button.setToolTip(
            "Open the portal in a browser started from a copy of this profile, as a worker would, and say whether "
            "it asks for a sign-in"
        )
        self.check_button.clicked.connect(self.check_sign_in)
        row.addWidget(self.check_button)
        row.addStretch()
        column.addLayout(row)
        self.sign_in_result = QLabel("Not checked yet.")
        self.sign_in_result.setObjectName("signInResult")
        self.sign_in_result.setWordWrap(True)
        self.sign_in_result.setStyleSheet(secondary_label_style(self.palette()))
        column.addWidget(self.sign_in_result)
        return box

    def _connection_test(self) -> ConnectionTest:
        """The API group's "Test connection" (gui/api_check.py), with the values as they stand in the dialog."""
        self.connection_test = ConnectionTest(lambda: self._base.replace(**self.values()), self._background)
        return self.connection_test

    # ------------------------------------------------------------------ sign-in check

    def check_sign_in(self) -> None:
        """Start the check off the GUI thread with the values as they stand; `sign_in_checked` tells the answer."""
        settings = self._base.replace(**self.values())
        try:
            portal = run_portal(settings)
            portal.require_base_url()
        except PortalError:
            self._show_check(SignInCheck(False, "Enter the portal address first."))
            return
        problems = [p for p in settings.validate() if p.name in ("base_url", "profile_dir", "profile_name")]
        if problems:
            self._show_check(SignInCheck(False, f"Fix this first: {problems[0].message}."))
            return
        self.check_button.setEnabled(False)
        self.sign_in_result.setText("Checking: starting a browser and opening the portal...")
        self._background.run(
            lambda: _check_in_run_folder(settings, portal),
            self._show_check,
            lambda exc: self._show_check(SignInCheck(False, f"The check failed: {exc}")),
        )

    def _show_check(self, check: SignInCheck) -> None:
        self.check_button.setEnabled(True)
        self.sign_in_result.setText(("✔ " if check.signed_in else "✘ ") + check.message)
        self.sign_in_result.setStyleSheet(f"QLabel {{ color: {GREEN if check.signed_in else RED}; }}")
        self.sign_in_checked.emit(check)

    # ------------------------------------------------------------------ editors

    def _make_editor(self, name: str, value: Any, tip: str) -> QWidget:
        editor: QWidget
        if isinstance(value, bool):
            editor = QCheckBox()
            editor.setChecked(value)
            editor.toggled.connect(self.validate)
        elif isinstance(value, int):
            editor = QSpinBox()
            editor.setRange(-1, 100_000)  # wide on purpose: validate() names the allowed range
            editor.setValue(value)
            editor.valueChanged.connect(self.validate)
        elif isinstance(value, float):
            editor = QDoubleSpinBox()
            editor.setRange(-1, 100_000)
            editor.setDecimals(1)
            editor.setValue(value)
            editor.valueChanged.connect(self.validate)
        elif choices(name) or name in _OPEN_CHOICES:
            editor = QComboBox()
            editor.addItems(list(choices(name) or _OPEN_CHOICES[name]))
            editor.setEditable(name in _OPEN_CHOICES)
            editor.setCurrentText(str(value))
            editor.currentTextChanged.connect(self.validate)
        else:
            line = QLineEdit(str(value))
            line.setClearButtonEnabled(True)
            line.textChanged.connect(self.validate)
            editor = line
            if name in _FILE_FIELDS or name in _FOLDER_FIELDS:
                editor = self._with_browse(name, line)
        editor.setToolTip(tip)
        self._editors[name] = editor
        return editor

    def _with_browse(self, name: str, line: QLineEdit) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(line, 1)
        browse = QPushButton("Browse...")
        browse.setToolTip("Choose with a file dialog")
        folder = name in _FOLDER_FIELDS

        def choose() -> None:
            if folder:
                chosen = QFileDialog.getExistingDirectory(self, "Choose a folder", line.text())
            else:
                chosen, _ = QFileDialog.getOpenFileName(self, "Choose a file", line.text())
            if chosen:
                line.setText(chosen)

        browse.clicked.connect(choose)
        row.addWidget(browse)
        box.setProperty("line", line)
        return box

    def _edge_button(self) -> QPushButton:
        button = QPushButton("Use my signed-in Edge profile")
        button.setToolTip(
            f"Fill in {edge_profile_dir()} and profile 'Default', and choose Edge: the workers start from "
            "copies of your own profile, so they are already signed in"
        )
        button.clicked.connect(self.use_edge_profile)
        return button

    def use_edge_profile(self) -> None:
        self.set_value("browser", BrowserKind.EDGE.value)
        self.set_value("profile_dir", edge_profile_dir())
        self.set_value("profile_name", "Default")

    # ------------------------------------------------------------------ values

    def editor(self, name: str) -> QWidget:
        widget = self._editors[name]
        line = widget.property("line")
        return line if isinstance(line, QLineEdit) else widget

    def set_value(self, name: str, value: Any) -> None:
        widget = self.editor(name)
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QSpinBox | QDoubleSpinBox):
            widget.setValue(value)
        elif isinstance(widget, QComboBox):
            widget.setCurrentText(str(value))
        elif isinstance(widget, QLineEdit):
            widget.setText(str(value))

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self._editors:
            widget = self.editor(name)
            if isinstance(widget, QCheckBox):
                out[name] = widget.isChecked()
            elif isinstance(widget, QSpinBox | QDoubleSpinBox):
                out[name] = widget.value()
            elif isinstance(widget, QComboBox):
                out[name] = widget.currentText().strip()
            elif isinstance(widget, QLineEdit):
                out[name] = widget.text().strip()
        return out

    def error_for(self, name: str) -> str:
        label = self._errors[name]
        return label.text() if not label.isHidden() else ""

    def validate(self) -> Settings | None:
        """Show each problem under its field; OK is enabled only when there is none."""
        settings = self._base.replace(**self.values())
        problems = {p.name: p.message for p in settings.validate()}
        for name, label in self._errors.items():
            message = problems.get(name, "")
            label.setText(message)
            label.setVisible(bool(message))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not problems)
        count = len(problems)
        self.summary.setText(f"{count} setting{'s' if count > 1 else ''} to fix" if count else "")
        return None if problems else settings

    def _restore_defaults(self) -> None:
        defaults = Settings()
        for name in self._editors:
            self.set_value(name, getattr(defaults, name))

    def _accept(self) -> None:
        settings = self.validate()
        if settings is not None:
            self.result_settings = settings
            self.accept()


def _check_in_run_folder(settings: Settings, portal: PortalProfile) -> SignInCheck:
    """The check in a run folder of its own: the profile copy holds cookies, so it goes however the check ends."""
    work = run_folder.create()
    try:
        return check_sign_in(settings, portal, work)
    finally:
        run_folder.remove(work)


def edit_settings(parent: QWidget, settings: Settings, run_in_progress: bool) -> Settings | None:
    """Show the dialog modally; the new settings, or None when cancelled."""
    dialog = SettingsDialog(settings, parent, run_in_progress)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        return dialog.result_settings
    return None
