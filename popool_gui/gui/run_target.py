"""What a loaded file runs with: its own output folder and, for the demo's sample, the demo's portal.

The window's `Settings` are always the user's own, the ones saved to `settings.toml`. A loaded file carries the
few values its run changes on top of them, so nothing of the demo can be saved, and a folder chosen for one file
never follows the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from popool_gui.run_setup import input_output_dir
from popool_gui.settings import Settings


@dataclass(frozen=True, slots=True)
class RunTarget:
    source: Path  # the input file
    output_dir: str = ""  # "" is the input's own folder inside the user's output folder
    overrides: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def demo(cls, source: Path, overrides: dict[str, Any]) -> RunTarget:
        return cls(source, str(overrides["output_dir"]), MappingProxyType(dict(overrides)))

    def folder(self, user: Settings) -> Path:
        return Path(self.output_dir) if self.output_dir else input_output_dir(user.output_dir, self.source)

    def settings(self, user: Settings) -> Settings:
        """The user's settings with this file's changes: the run's settings, never saved."""
        return user.replace(**{**self.overrides, "output_dir": str(self.folder(user))})

    def with_folder(self, folder: str) -> RunTarget:
        return replace(self, output_dir=folder)

    @property
    def is_demo(self) -> bool:
        return bool(self.overrides)
