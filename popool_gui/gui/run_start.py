"""Start: from the loaded batch to a PoolController whose journal is open and seeded, off the GUI thread.

Two background steps with one question between them. The check reads the file again when the portal profile
changed since it was loaded, makes sure no other run holds the output folder, and peeks at the journal there.
When that journal belongs to another input the user chooses (keep the finished POs, start over, cancel) before
anything is built; then the controller is built once. Opening its journal seeds it with every PO: about half a
second for 10,000.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from popool_gui.batch.input import InputError
from popool_gui.batch.journal import Journal, JournalCorruptError, JournalMismatchError
from popool_gui.batch.model import Batch, PoResult
from popool_gui.browser.portal import PortalError, PortalProfile
from popool_gui.gui import desktop
from popool_gui.gui.background import Background
from popool_gui.pool.controller import PoolController
from popool_gui.pool.output_folder import OutputFolderError, ensure_output_dir
from popool_gui.pool.output_lock import OutputInUseError, OutputLock
from popool_gui.run_setup import output_dir, read_run_batch, run_portal
from popool_gui.settings import Settings

KEEP, START_OVER = 0, 1  # the buttons of the question about another run's journal


@dataclass(frozen=True, slots=True)
class _Checked:
    portal: PortalProfile
    batch: Batch
    reread: bool  # the batch was read again with the profile's PO pattern
    mismatch: JournalMismatchError | None  # the output folder's journal belongs to another input


class _RereadError(Exception):
    """The input file could not be read again with the changed profile's PO pattern."""


class RunStarter(QObject):
    """Turns a Start into `ready(controller)`, or into a message or dialog saying why not (then `refused`)."""

    batch_reread = Signal(object, object)  # Batch, PortalProfile
    ready = Signal(object, object)  # PoolController, its journal's results (list[PoResult])
    refused = Signal(str, bool)  # message for the message bar ("" when a dialog said it), offer the settings

    def __init__(self, parent: QWidget, background: Background, worker_target: Callable[..., None]) -> None:
        super().__init__(parent)
        self._parent = parent
        self._background = background
        self._worker_target = worker_target

    def start(self, settings: Settings, batch: Batch, batch_portal: PortalProfile) -> None:
        self._background.run(
            lambda: _check(settings, batch, batch_portal),
            lambda checked: self._checked(settings, checked),
            lambda exc: self._failed(settings, batch, exc),
        )

    def _checked(self, settings: Settings, checked: _Checked) -> None:
        if checked.reread:
            self.batch_reread.emit(checked.batch, checked.portal)
        accept_new = start_over = False
        if isinstance(checked.mismatch, JournalCorruptError):
            # Nothing in it can be kept: the only ways on are to start over here or to leave (and move it aside).
            choice = desktop.ask(
                self._parent,
                "This output folder's journal is damaged",
                f"{checked.mismatch}\n\nStart over in this folder and process every PO again?",
                ("Start over", "Cancel"),
                default=1,
            )
            if choice != 0:
                self.refused.emit("", False)
                return
            start_over = True
        elif checked.mismatch is not None:
            choice = desktop.ask(
                self._parent,
                "This output folder holds another run",
                f"{checked.mismatch}\n\nKeep the POs already finished there and go on, or start over and process "
                "every PO again?",
                ("Keep finished POs", "Start over", "Cancel"),
            )
            if choice not in (KEEP, START_OVER):
                self.refused.emit("", False)
                return
            accept_new, start_over = choice == KEEP, choice == START_OVER
        target = self._worker_target
        self._background.run(
            lambda: _build(settings, checked, accept_new=accept_new, start_over=start_over, worker_target=target),
            lambda built: self.ready.emit(*built),
            lambda exc: self._failed(settings, checked.batch, exc),
        )

    def _failed(self, settings: Settings, batch: Batch, exc: Exception) -> None:
        if isinstance(exc, OutputInUseError):
            desktop.warn(self._parent, "Output folder in use", str(exc))
            self.refused.emit("", False)
        elif isinstance(exc, PortalError):
            self.refused.emit(str(exc), True)
        elif isinstance(exc, _RereadError):
            self.refused.emit(f"Cannot read {batch.source} again: {exc}", False)
        elif isinstance(exc, OutputFolderError):
            self.refused.emit(str(exc), True)
        elif isinstance(exc, (JournalMismatchError, OSError, sqlite3.Error)):
            self.refused.emit(f"Cannot use the output folder {settings.output_dir}: {exc}", False)
        else:
            raise exc


def _check(settings: Settings, batch: Batch, batch_portal: PortalProfile) -> _Checked:
    portal = run_portal(settings)
    reread = portal.po_id_regex != batch_portal.po_id_regex
    if reread:  # the profile changed since the file was loaded: the batch is what the CLI would read now
        try:
            batch = read_run_batch(Path(batch.source), portal)
        except (InputError, OSError) as exc:
            raise _RereadError(str(exc)) from exc
    ensure_output_dir(output_dir(settings), settings.results_format, Path(batch.source))
    with _output_locked(settings):  # a folder another run holds is refused before any question
        try:
            Journal.check(output_dir(settings), batch)
        except JournalMismatchError as exc:
            return _Checked(portal, batch, reread, exc)
    return _Checked(portal, batch, reread, None)


def _build(
    settings: Settings, checked: _Checked, *, accept_new: bool, start_over: bool, worker_target: Callable[..., None]
) -> tuple[PoolController, list[PoResult]]:
    if start_over:
        with _output_locked(settings):  # never the journal of a run that took the folder meanwhile
            Journal.delete(output_dir(settings))
    controller = PoolController(
        settings, checked.batch, accept_new_input=accept_new, portal=checked.portal, worker_target=worker_target
    ).open()
    return controller, controller.po_results()


@contextmanager
def _output_locked(settings: Settings) -> Iterator[None]:
    lock = OutputLock(output_dir(settings))
    lock.acquire()
    try:
        yield
    finally:
        lock.release()
