"""The Settings dialog: one editor per `Settings` field, validated field by field as the user types."""

from __future__ import annotations

import os
from dataclasses import fields
from enum import StrEnum
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
from popool_gui.settings import LOG_LEVELS, MAX_WORKERS, MIN_WORKERS, BrowserKind, ResultsFormat, RunMode, Settings
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

HELP: dict[str, str] = {
    "workers": f"How many browsers work in parallel ({MIN_WORKERS}-{MAX_WORKERS}). Each needs a few hundred MB of RAM",
    "output_dir": "Each PO list gets a folder of its own in here, named after the file; loading the same list "
    "again resumes its run",
    "max_attempts": "Attempts per PO for transient errors (timeouts, crashes, 5xx)",
    "po_timeout_s": "A worker that spends longer on one PO (not counting popool's own waits for its lists to render) "
    "is restarted and the PO retried",
    "results_format": "Results file next to the downloads: CSV (UTF-8 with BOM), Excel, or both",
    "log_level": "How much goes to the log files and the log pane",
    "keep_awake": "Stop the computer from going to sleep while a run works; released when the run ends",
    "portal": "Portal profile: coupa, demo, or the path of a .toml profile for a tenant whose pages differ",
    "base_url": "Your portal's address as Edge shows it when you are signed in, e.g. https://yourcompany.coupahost.com",
    "browser": "Which browser the workers drive",
    "headless": "Run browsers without windows. Signing in needs a visible browser: turn this off once",
    "driver_path": "WebDriver executable (msedgedriver, chromedriver, geckodriver); empty: search PATH",
    "browser_binary": "Browser executable; empty: the installed one",
    "profile_dir": "popool's browsers start from copies of this profile, so they are signed in as you are. "
    "Use my signed-in Edge profile fills it in; Check sign-in tries it",
    "profile_name": "Profile folder inside it; Edge and Chrome call the first one 'Default'",
    "grid_url": "Run the browsers on a Selenium Grid instead of this machine",
    "tabs_per_worker": "Tabs each browser may use",
    "block_resources": "Skip images and fonts: faster pages, same attachments",
    "direct_download": "Download attachments over HTTP with the browser's cookies instead of clicking",
    "memory_threshold_pct": "When the machine's RAM use passes this, the heaviest browser is recycled",
    "memory_margin_pct": "Held-back work resumes when RAM falls this far below the threshold",
    "memory_cooldown_s": "Minimum time between two memory recycles",
    "max_restarts": "Restarts per worker before it is retired",
    "shutdown_timeout_s": "Stop waits this long for workers to finish their PO, then kills what is left",
    "page_timeout_s": "Longest wait for a PO page to show its attachments or an error",
    "download_timeout_s": "Longest wait for one attachment to finish downloading",
    "start_timeout_s": "Longest wait for a browser to start",
    "heartbeat_timeout_s": "A worker silent this long is considered hung and restarted",
    "mode": "browser: the browser pool; api: Coupa's REST API, no browser; auto: the API when a client id is set "
    "and its secret is stored (popool api-secret)",
    "api_client_id": "The OAuth client your Coupa administrator made for popool. Its secret is kept in the "
    "system's credential store, never in the settings file",
    "api_rate_per_s": "Requests per second in API mode; Coupa allows 25",
    "api_concurrency": "POs the API works on at once",
}

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
        self._meta = {f.name: f for f in fields(Settings)}

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
        meta = self._meta[name]
        text = label or meta.metadata.get("label", name)
        restart = bool(meta.metadata.get("restart"))
        help_text = HELP.get(name, text) + (". Takes effect when the pool starts" if restart else "")
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
        elif isinstance(value, StrEnum) or name in ("portal", "log_level"):
            editor = QComboBox()
            choices: tuple[str, ...] = {
                "browser": tuple(b.value for b in BrowserKind),
                "results_format": tuple(r.value for r in ResultsFormat),
                "mode": tuple(m.value for m in RunMode),
                "portal": BUILTIN_PORTALS,
                "log_level": LOG_LEVELS,
            }[name]
            editor.addItems(list(choices))
            # A portal can also be a .toml file of the user's own.
            editor.setEditable(name == "portal")
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
