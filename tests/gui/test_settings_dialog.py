"""The Settings dialog validates field by field and returns settings only when all are valid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from popool_gui.gui.settings_dialog import SettingsDialog, edge_profile_dir
from popool_gui.settings import BrowserKind, Settings

pytestmark = pytest.mark.gui


def ok_button(dialog: SettingsDialog) -> Any:
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_each_bad_field_gets_its_own_message(qtbot: Any, tmp_path: Path) -> None:
    dialog = SettingsDialog(Settings().replace(output_dir=str(tmp_path)))
    qtbot.addWidget(dialog)
    assert ok_button(dialog).isEnabled()
    assert dialog.error_for("workers") == ""

    dialog.set_value("workers", 9)
    dialog.set_value("base_url", "ftp://portal")
    dialog.set_value("driver_path", str(tmp_path / "missing-driver"))
    assert "1-8" in dialog.error_for("workers")
    assert "http" in dialog.error_for("base_url")
    assert "not found" in dialog.error_for("driver_path")
    assert dialog.error_for("memory_threshold_pct") == ""
    assert not ok_button(dialog).isEnabled()
    assert "3 settings to fix" in dialog.summary.text()

    dialog.set_value("workers", 4)
    dialog.set_value("base_url", "https://acme.coupahost.com")
    dialog.set_value("driver_path", "")
    assert ok_button(dialog).isEnabled()
    ok_button(dialog).click()
    chosen = dialog.result_settings
    assert chosen is not None
    assert (chosen.workers, chosen.base_url) == (4, "https://acme.coupahost.com")


def test_edge_profile_shortcut_fills_the_windows_path(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALAPPDATA", r"C:\Users\ana\AppData\Local")
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.use_edge_profile()
    values = dialog.values()
    assert values["browser"] == BrowserKind.EDGE.value
    assert values["profile_dir"] == edge_profile_dir()
    assert "Microsoft" in values["profile_dir"] and values["profile_dir"].endswith("User Data")
    assert values["profile_name"] == "Default"
    # The folder does not exist on this machine: the dialog says so under the field.
    assert "not found" in dialog.error_for("profile_dir")


def test_settings_persist_between_launches(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from popool_gui import settings as settings_mod
    from popool_gui.gui.main_window import MainWindow
    from popool_gui.gui.window_state import WindowState

    monkeypatch.setenv("POPOOL_CONFIG_DIR", str(tmp_path / "config"))
    state = tmp_path / "config" / "window.ini"
    window = MainWindow(Settings(), window_state=WindowState(state))
    qtbot.addWidget(window)
    window.show()
    window.resize(700, 500)
    window._set_settings(Settings().replace(workers=5, output_dir=str(tmp_path / "out")))
    window.close()
    assert settings_mod.load().workers == 5
    again = MainWindow(settings_mod.load(), window_state=WindowState(state))
    qtbot.addWidget(again)
    assert (again.size().width(), again.size().height()) == (700, 500)
