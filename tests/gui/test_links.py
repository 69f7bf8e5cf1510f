"""Issue 12 point 10: "Open page" and "Open folder" hand the desktop only the portal's pages and folders inside
the output folder, whatever an imported row says; a refusal says why in the message bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from popool_gui.batch.model import PoResult, PoStatus
from popool_gui.gui.main_window import MainWindow
from tests.gui.conftest import Desktop
from tests.gui.helpers import load, write_pos

pytestmark = pytest.mark.gui

KEY = "PO15000010"


def load_one(qtbot: Any, window: MainWindow, tmp_path: Path, **result: str) -> int:
    assert load(qtbot, window, write_pos(tmp_path / "pos.csv", ["15000010"]))
    window.po_model.apply([PoResult(key=KEY, status=PoStatus.COMPLETED, **result)])
    row = window.po_model.row_for_key(KEY)
    assert row is not None
    return row


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://evil.test/order_headers/15000010",
        "https://127.0.0.1:9/order_headers/15000010",  # the portal's host, another scheme and so another origin
        "http://127.0.0.1:99/order_headers/15000010",  # another port
        "http://127.0.0.1:9@evil.test/x",
        "\\\\evil.test\\share\\x.pdf",
    ],
)
def test_open_page_refuses_addresses_off_the_portal(
    window: MainWindow, qtbot: Any, fake_desktop: Desktop, tmp_path: Path, url: str
) -> None:
    row = load_one(qtbot, window, tmp_path, url=url)
    window.po_panel.open_page.emit(row)
    assert fake_desktop.urls == []
    assert "Not opening" in window.messages.text() and "not an address of the portal" in window.messages.text()


def test_open_page_opens_the_portals_own_page(
    window: MainWindow, qtbot: Any, fake_desktop: Desktop, tmp_path: Path
) -> None:
    row = load_one(qtbot, window, tmp_path, url="HTTP://127.0.0.1:9/order_headers/15000010?tab=attachments")
    window.po_panel.open_page.emit(row)
    assert fake_desktop.urls == ["HTTP://127.0.0.1:9/order_headers/15000010?tab=attachments"]


def test_open_folder_opens_only_folders_inside_the_output(
    window: MainWindow, qtbot: Any, fake_desktop: Desktop, tmp_path: Path
) -> None:
    output = tmp_path / "output" / "pos"  # the loaded file's own folder (load_one's pos.csv)
    inside = output / "Acme" / f"{KEY}_COMPLETED"
    inside.mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (output / "Acme" / "link").symlink_to(outside, target_is_directory=True)

    for folder in (str(tmp_path / "elsewhere"), str(output / "Acme" / "link"), str(output / ".." / "elsewhere")):
        row = load_one(qtbot, window, tmp_path, folder=folder)
        window.po_panel.open_folder.emit(row)
        assert fake_desktop.opened == [], folder
        assert "is not inside the output folder" in window.messages.text(), folder

    row = load_one(qtbot, window, tmp_path, folder="//evil.test/share/PO")
    window.po_panel.open_folder.emit(row)
    assert fake_desktop.opened == [] and "network (UNC) path" in window.messages.text()

    row = load_one(qtbot, window, tmp_path, folder=str(inside))
    window.po_panel.open_folder.emit(row)
    assert fake_desktop.opened == [inside.resolve()]
