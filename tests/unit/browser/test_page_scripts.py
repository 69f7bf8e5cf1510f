"""The page scripts are package data: every `.js` file ships (pyproject, popool.spec) and is read once at import."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

from popool_gui.browser import js, page_activity

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = sorted(p.name for p in files(js).iterdir() if p.name.endswith(".js"))


def test_every_script_loads_with_text() -> None:
    assert SCRIPTS
    for name in SCRIPTS:
        assert js.load(name).strip(), name


def test_the_scripts_are_package_data_in_the_wheel_and_the_build() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "browser/js/*.js" in data["tool"]["setuptools"]["package-data"]["popool_gui"]
    assert '"popool_gui" / "browser" / "js"), "popool_gui/browser/js")' in (ROOT / "popool.spec").read_text(
        encoding="utf-8"
    )


def test_the_instrument_has_its_placeholders_filled() -> None:
    for early in (True, False):
        source = page_activity.instrument_source(early=early)
        assert "__HORIZON__" not in source
        assert "__EARLY__" not in source
        assert source.rstrip().endswith(f"}})({'true' if early else 'false'});")
