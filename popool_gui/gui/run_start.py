"""Start: from the loaded batch to a PoolController whose journal is open and seeded, off the GUI thread.

Two background steps with one question between them. The check makes the run's `RunPlan` as the CLI does (the file
is read again only when the portal profile changed since it was loaded), and asks the output folder's gate
(`pool/output_gate.py`) whether another run holds it and whose journal is there.
When that journal belongs to another input the user chooses before anything is built: a new folder (the default),
a folder of their own, or making that folder this list's (keeping its finished POs, never the default); the first
two check again from the start. Then the controller is built once. Opening its journal seeds it with every PO:
about half a second for 10,000.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from popool_gui.api.access import ApiSetupError
from popool_gui.api.engine import run_arguments
from popool_gui.batch.input import InputError
from popool_gui.batch.journal import JournalCorruptError, JournalMismatchError
from popool_gui.batch.model import Batch, PoResult
from popool_gui.batch.recent_runs import RecentRun, read_run
from popool_gui.browser.portal import PortalError, PortalProfile
from popool_gui.gui import desktop
from popool_gui.gui.background import Background
from popool_gui.pool.controller import PoolController
from popool_gui.pool.output_folder import OutputFolderError
from popool_gui.pool.output_gate import OutputGate
from popool_gui.pool.output_lock import OutputInUseError
from popool_gui.run_setup import RunPlan, output_dir, plan_run
from popool_gui.safe_text import printable
from popool_gui.settings import Settings

# The buttons of the question about another list's journal, in order; "Use a new folder" is the default.
NEW_FOLDER, CHOOSE_FOLDER, KEEP, CANCEL = range(4)
CHOICES = ("Use a new folder", "Choose another folder...", "Keep finished POs and go on", "Cancel")
QUESTION_TITLE = "This folder holds another list's files"


@dataclass(frozen=True, slots=True)
class _Checked:
    plan: RunPlan
    reread: bool  # the batch was read again with the profile's PO pattern
    mismatch: JournalMismatchError | None  # the output folder's journal belongs to another input
    other: RecentRun | None = None  # what that journal says (its input, how far it got)
    free_folder: Path | None = None  # a folder beside it that holds no other list's run


class _RereadError(Exception):
    """The input file could not be read again with the changed profile's PO pattern."""


class _NothingToDo(Exception):
    """Every PO of the list already has a final result in its folder: a run would process nothing."""


class RunStarter(QObject):
    """Turns a Start into `ready(controller)`, or into a message or dialog saying why not (then `refused`)."""

    batch_reread = Signal(object, object)  # Batch, PortalProfile
    ready = Signal(object, object)  # PoolController, its journal's results (list[PoResult])
    refused = Signal(str, bool)  # message for the message bar ("" when a dialog said it), offer the settings
    output_changed = Signal(str)  # the user chose another folder for the loaded file; the check starts again

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
            self.batch_reread.emit(checked.plan.batch, checked.plan.portal)
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
                self._parent, QUESTION_TITLE, _question(settings, checked), CHOICES, default=NEW_FOLDER
            )
            folder = ""
            if choice == NEW_FOLDER and checked.free_folder is not None:
                folder = str(checked.free_folder)
            elif choice == CHOOSE_FOLDER:
                folder = desktop.choose_folder(
                    self._parent, "Choose the folder for this list's files", str(output_dir(settings).parent)
                )
            elif choice == KEEP:
                accept_new = True
            if folder:
                self.output_changed.emit(folder)
                self.start(settings.replace(output_dir=folder), checked.plan.batch, checked.plan.portal)
                return
            if not accept_new:
                self.refused.emit("", False)
                return
        target = self._worker_target
        self._background.run(
            lambda: _build(checked.plan, accept_new=accept_new, start_over=start_over, worker_target=target),
            lambda built: self.ready.emit(*built),
            lambda exc: self._failed(settings, checked.plan.batch, exc),
        )

    def _failed(self, settings: Settings, batch: Batch, exc: Exception) -> None:
        if isinstance(exc, OutputInUseError):
            desktop.warn(self._parent, "Output folder in use", str(exc))
            self.refused.emit("", False)
        elif isinstance(exc, PortalError | ApiSetupError):
            self.refused.emit(str(exc), True)
        elif isinstance(exc, _NothingToDo):
            self.refused.emit(str(exc), False)
        elif isinstance(exc, _RereadError):
            self.refused.emit(printable(f"Cannot read {batch.source} again: {exc}"), False)
        elif isinstance(exc, OutputFolderError):
            self.refused.emit(str(exc), True)
        elif isinstance(exc, (JournalMismatchError, OSError, sqlite3.Error)):
            self.refused.emit(printable(f"Cannot use the output folder {settings.output_dir}: {exc}"), False)
        else:
            raise exc


def _check(settings: Settings, batch: Batch, batch_portal: PortalProfile) -> _Checked:
    try:
        # The run's plan as the CLI makes it; the file is read again only when the profile changed since it was
        # loaded, so only that can fail to read.
        plan = plan_run(settings, Path(batch.source), already_read=(batch, batch_portal))
    except (InputError, OSError) as exc:
        raise _RereadError(str(exc)) from exc
    gate = OutputGate.of(settings)
    try:
        gate.check(plan.batch)  # a folder another run holds is refused before any question
    except JournalMismatchError as exc:
        return _Checked(plan, plan.batch is not batch, exc, read_run(gate.folder), gate.free_folder_beside(plan.batch))
    return _Checked(plan, plan.batch is not batch, None)


def _question(settings: Settings, checked: _Checked) -> str:
    """The question in an analyst's words: what is in the folder, and what each answer does."""
    folder = output_dir(settings)
    other = checked.other
    if other is not None and other.input_file:
        held = f"the files of another list, {Path(other.input_file).name} ({other.done:,} of {other.total:,} POs done)"
    else:
        held = "the files of another list, or of another version of popool"
    new = f" ({checked.free_folder.name})" if checked.free_folder is not None else ""
    return (
        f"The folder {folder} already holds {held}.\n\n"
        f"Use a new folder{new} beside it for {Path(checked.plan.batch.source).name}, or choose a folder yourself.\n\n"
        "Keep finished POs and go on makes that folder this list's: the POs the two lists share keep their "
        "files, and the other list's results file is replaced by this one's."
    )


def _build(
    plan: RunPlan, *, accept_new: bool, start_over: bool, worker_target: Callable[..., None]
) -> tuple[PoolController, list[PoResult]]:
    # API mode: the connection is checked here, off the GUI thread; its refusal is one line in the message bar.
    arguments = run_arguments(plan.settings, plan.portal, worker_target)
    # start_over only for a damaged journal: the gate forgets it under the lock the run then keeps.
    controller = PoolController(
        batch=plan.batch, accept_new_input=accept_new, start_over=start_over, **arguments.controller_kwargs()
    ).open()
    if not controller.journal.pending():
        controller.close()
        raise _NothingToDo(
            f"Nothing to do: every PO of {Path(plan.batch.source).name} in {controller.output_dir} has its result. "
            "To try some again, right-click them in the table and choose Retry."
        )
    return controller, controller.po_results()
