"""Loading a PO list: the checks before reading, the read itself off the GUI thread, and what a failure says."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from popool_gui.batch.input import INPUT_SUFFIXES, InputError
from popool_gui.batch.model import Batch
from popool_gui.browser.portal import PortalError, PortalProfile
from popool_gui.gui.background import Background
from popool_gui.run_setup import default_portal, read_run_batch, run_portal
from popool_gui.safe_text import ECHO_LIMIT, printable
from popool_gui.settings import Settings

# The types the CLI reads, from its one definition: the window accepts exactly the same.
FILE_FILTER = f"PO lists ({' '.join('*' + suffix for suffix in INPUT_SUFFIXES)});;All files (*)"


class FileLoader(QObject):
    loaded = Signal(object, object)  # Batch, the PortalProfile whose PO pattern read it
    refused = Signal(str)  # why, for the message bar

    def __init__(self, background: Background, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._background = background

    def load(self, path: Path, settings: Settings) -> bool:
        """Start reading `path`; False (after `refused`) when it is not a PO list at all."""
        if path.suffix.lower() not in INPUT_SUFFIXES:
            self.refused.emit(
                f"{printable(path.name, ECHO_LIMIT)} is not a PO list. Drop a CSV (.csv) or Excel (.xlsx) file with a "
                "PO_NUMBER column."
            )
            return False
        self._background.run(
            lambda: _read(path, settings),
            lambda read: self.loaded.emit(*read),
            lambda exc: self._failed(path, exc),
        )
        return True

    def _failed(self, path: Path, exc: Exception) -> None:
        if isinstance(exc, InputError):
            self.refused.emit(str(exc))
        elif isinstance(exc, OSError):
            self.refused.emit(f"Cannot read {printable(str(path))}: {exc.strerror or exc}")
        else:
            raise exc


def _read(path: Path, settings: Settings) -> tuple[Batch, PortalProfile]:
    portal = _portal_or_default(settings)
    return read_run_batch(path, portal), portal


def _portal_or_default(settings: Settings) -> PortalProfile:
    try:
        return run_portal(settings)
    except PortalError:
        # A broken portal profile is reported at Start; the file still loads with the standard PO pattern,
        # and is read again with the profile's at Start.
        return default_portal()
