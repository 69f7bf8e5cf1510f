"""`Help > Try the demo`: the embedded demo portal, a sample CSV, and settings pointed at them."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from popool_gui.demo.process import DemoPortalProcess
from popool_gui.demo.sample import write_sample_csv
from popool_gui.run_setup import DEMO_COUNT, demo_overrides


class DemoSession:
    """One demo portal for the window's lifetime, and a scratch folder deleted when the window closes.

    The portal runs in a process of its own, as a real portal is on another machine (see demo/process.py).
    """

    def __init__(self) -> None:
        self._portal: DemoPortalProcess | None = None
        self._folder: Path | None = None

    @property
    def url(self) -> str:
        return self._portal.url if self._portal else ""

    def owns(self, path: Path) -> bool:
        return self._folder is not None and path.resolve().is_relative_to(self._folder.resolve())

    def prepare(self, count: int = DEMO_COUNT) -> tuple[dict[str, Any], Path]:
        """Start the portal (once), write a fresh sample, and return what a run of it changes in the user's
        settings (`run_setup.demo_overrides`) and the sample's path."""
        if self._portal is not None and not self._portal.is_alive():
            self._portal.stop()  # ended behind our back (killed): start a new one
            self._portal = None
        if self._portal is None:
            self._portal = DemoPortalProcess().start()
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="popool-demo-"))
        run = Path(tempfile.mkdtemp(prefix="run-", dir=self._folder))
        sample = write_sample_csv(run / "demo-pos.csv", count)
        return demo_overrides(self._portal.url, run / "output"), sample

    def close(self) -> None:
        if self._portal is not None:
            self._portal.stop()
            self._portal = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
