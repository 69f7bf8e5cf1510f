"""Settings in an analyst's words: the three things that matter first, help that is visible, a real sign-in check,
text that reads at WCAG AA, and a first launch that says what to do first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel

from popool_gui.browser.sign_in_check import SignInCheck
from popool_gui.demo.server import SignIn, demo_portal
from popool_gui.gui.main_window import MainWindow
from popool_gui.gui.settings_dialog import ADVANCED, ESSENTIALS, SettingsDialog
from popool_gui.gui.theme import MIN_TEXT_CONTRAST, contrast_ratio, dark_palette, secondary_text_colour
from popool_gui.settings import FIELD_NAMES, SPECS, Settings
from tests.gui.conftest import make_window, shut_down
from tests.gui.helpers import load, start, write_pos

pytestmark = pytest.mark.gui


def labels_of(widget: Any) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel) if label.isVisibleTo(widget)]


def test_the_first_page_holds_the_three_essentials_and_every_field_has_a_page(qtbot: Any, tmp_path: Path) -> None:
    dialog = SettingsDialog(Settings().replace(output_dir=str(tmp_path)))
    qtbot.addWidget(dialog)
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == ["Essentials", "Advanced"]
    assert dialog.tabs.currentIndex() == 0
    assert ESSENTIALS == ("base_url", "profile_dir", "output_dir")
    first = labels_of(dialog.tabs.widget(0))
    for label in ("Portal address", "Signed-in browser profile", "Where files go"):
        assert any(text.startswith(label) for text in first), label
    advanced = [name for _, names in ADVANCED for name in names]
    assert sorted([*ESSENTIALS, *advanced]) == sorted(FIELD_NAMES), "every setting is on exactly one page"


def test_help_is_visible_under_every_field_not_only_on_hover(qtbot: Any, tmp_path: Path) -> None:
    dialog = SettingsDialog(Settings().replace(output_dir=str(tmp_path)))
    qtbot.addWidget(dialog)
    dialog.show()
    shown = " ".join(labels_of(dialog.tabs.widget(0)) + labels_of(dialog.tabs.widget(1)))
    for name in FIELD_NAMES:
        assert SPECS[name].help.split(".")[0] in shown, name


@pytest.mark.parametrize("palette", ["default", "dark"])
def test_quiet_text_reads_at_wcag_aa(qtbot: Any, palette: str) -> None:
    colours = QApplication.palette() if palette == "default" else dark_palette()
    background = colours.color(QPalette.ColorRole.Window)
    quiet = secondary_text_colour(colours)
    assert contrast_ratio(quiet, background) >= MIN_TEXT_CONTRAST
    assert contrast_ratio(quiet, colours.color(QPalette.ColorRole.WindowText)) > 1.0, "quieter than body text"
    # The formula itself: black on white is 21:1, Qt's disabled grey on white about 1.6:1 (the old hint line).
    assert contrast_ratio(QColor("black"), QColor("white")) == pytest.approx(21.0)
    assert contrast_ratio(QColor(190, 190, 190), QColor("white")) < 2.0


def test_the_start_page_hint_uses_the_readable_colour(window: MainWindow) -> None:
    style = window.drop_zone.hint.styleSheet()
    colour = QColor(style.split("color:")[1].split(";")[0].strip())
    background = window.drop_zone.palette().color(QPalette.ColorRole.Window)
    assert window.drop_zone.hint.isEnabled()
    assert contrast_ratio(colour, background) >= MIN_TEXT_CONTRAST


def test_a_first_launch_says_to_set_the_portal_first(
    qtbot: Any, tmp_path: Path, fake_settings: Settings, fake_desktop: Any
) -> None:
    fresh = make_window(qtbot, fake_settings.replace(portal="coupa", base_url=""), tmp_path)
    try:
        assert fresh.drop_zone.setup_line.isVisible() and fresh.drop_zone.setup_button.isVisible()
        assert fresh.drop_zone.setup_line.text().startswith("First,")
        assert load(qtbot, fresh, write_pos(tmp_path / "pos.csv", ["15000010"]))
        assert not start(qtbot, fresh)
        assert "portal's address" in fresh.messages.text()
        fresh._set_settings(fresh.settings.replace(base_url="https://acme.example.test"))
        assert not fresh.drop_zone.setup_line.isVisibleTo(fresh.drop_zone)
    finally:
        shut_down(qtbot, fresh)


@pytest.mark.browser
@pytest.mark.parametrize(("sign_in", "signed_in"), [(SignIn.AUTO, True), (SignIn.SSO, False)])
def test_check_sign_in_opens_the_portal_in_a_real_browser_and_says_what_it_saw(
    qtbot: Any, chromium_settings: Settings, sign_in: SignIn, signed_in: bool
) -> None:
    with demo_portal(sign_in=sign_in) as portal:
        dialog = SettingsDialog(chromium_settings.replace(portal="demo", base_url=portal.url))
        qtbot.addWidget(dialog)
        with qtbot.waitSignal(dialog.sign_in_checked, timeout=90_000) as answered:
            dialog.check_button.click()
            assert not dialog.check_button.isEnabled()
    check: SignInCheck = answered.args[0]
    assert check.signed_in is signed_in, check
    assert dialog.check_button.isEnabled()
    assert ("Signed in" if signed_in else "Not signed in") in dialog.sign_in_result.text()
    assert "127.0.0.1" in check.message


def test_check_sign_in_without_an_address_asks_for_it_first(qtbot: Any) -> None:
    dialog = SettingsDialog(Settings().replace(portal="coupa", base_url=""))
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.sign_in_checked, timeout=5_000) as answered:
        dialog.check_button.click()
    assert not answered.args[0].signed_in
    assert "portal address first" in dialog.sign_in_result.text()
