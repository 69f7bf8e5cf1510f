"""The JavaScript that runs in pages: one `.js` file per script beside this module, shipped as package data and
read once, when the module that runs it is imported."""

from __future__ import annotations

from importlib.resources import files


def load(name: str) -> str:
    """The text of the script `name` (a file in this folder, such as "page_probe.js")."""
    return files(__name__).joinpath(name).read_text(encoding="utf-8")
