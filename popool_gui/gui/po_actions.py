"""What the PO table's context menu and double-click do: open a PO's folder or page, retry it.

Links come from the journal and are untrusted: they go through `links` before the desktop sees them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from popool_gui.batch.journal import JournalMismatchError
from popool_gui.batch.model import RETRY_STATUSES, Batch, PoResult, PoStatus
from popool_gui.browser.portal import PortalError
from popool_gui.gui import desktop, links
from popool_gui.gui.background import Background
from popool_gui.gui.banners import Level
from popool_gui.gui.po_model import PoTableModel
from popool_gui.gui.run_session import RunSession
from popool_gui.pool.output_gate import OutputGate
from popool_gui.pool.output_lock import OutputInUseError
from popool_gui.run_setup import output_dir, run_portal
from popool_gui.settings import Settings

NOTE_MS = 5000


class PoActions(QObject):
    message = Signal(object, str)  # Level, text for the message bar
    note = Signal(str, int)  # text for the status bar, for how many ms

    def __init__(
        self,
        model: PoTableModel,
        background: Background,
        *,
        settings: Callable[[], Settings],
        session: Callable[[], RunSession | None],
        batch: Callable[[], Batch | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._background = background
        self._settings = settings
        self._session = session
        self._batch = batch

    def open_folder(self, row: int) -> None:
        root = output_dir(self._settings())
        folder = self._model.folder_of(row, root)
        if folder is None:
            self.note.emit("This PO has no folder yet", NOTE_MS)
            return
        try:
            folder = links.checked_folder(folder, root)  # before exists(): that touches a UNC host
        except links.LinkRefusedError as exc:
            self.message.emit(Level.WARNING, str(exc))
            return
        if not folder.exists():
            self.note.emit("This PO has no folder yet", NOTE_MS)
            return
        desktop.open_path(folder)

    def open_page(self, row: int) -> None:
        po = self._model.row(row)
        try:
            # The portal's profile gives the origin a PO address must have, and builds one a row lacks.
            portal = run_portal(self._settings())
            url = po.url or (portal.po_url_for(po.po_id) if po.po_id else "")
        except (PortalError, ValueError) as exc:
            self.message.emit(Level.ERROR, f"Cannot build or check the PO's address: {exc}")
            return
        if not url:
            return
        try:
            desktop.open_url(links.checked_page_url(url, portal.base_url))
        except links.LinkRefusedError as exc:
            self.message.emit(Level.WARNING, str(exc))

    def retry(self, rows: list[int]) -> None:
        """The context menu's Retry: the selected POs."""
        keys = [self._model.row(r).key for r in rows]
        self._requeue(keys, lambda gate, batch: gate.retry(batch, keys))

    def retry_failed(self) -> None:
        """The context menu's Retry all failed: every FAILED, AUTH_REQUIRED and PARTIAL PO."""
        rows = (self._model.row(r) for r in range(self._model.rowCount()))
        keys = [po.key for po in rows if po.status in RETRY_STATUSES]
        self._requeue(keys, lambda gate, batch: gate.retry_failed(batch))

    def _requeue(self, keys: list[str], between_runs: Callable[[OutputGate, Batch], list[str]]) -> None:
        if not keys:
            return
        session = self._session()
        if session is not None:  # during a run: they join the pending queue
            session.retry(keys)
            return
        batch = self._batch()
        if batch is None:
            return
        # Between runs: the output folder's gate marks them pending in the journal, so the next Start takes only them.
        gate = OutputGate.of(self._settings())
        self._background.run(lambda: between_runs(gate, batch), self._queued, lambda exc: self._failed(len(keys), exc))

    def _queued(self, keys: list[str]) -> None:
        self._model.apply([PoResult(key=key, status=PoStatus.PENDING) for key in keys])
        what = keys[0] if len(keys) == 1 else f"{len(keys)} POs"
        self.note.emit(f"{what} will be processed at the next Start", NOTE_MS)

    def _failed(self, count: int, exc: Exception) -> None:
        # OutputInUseError: another popool (a `popool run` in a console) holds the folder; its journal is its own.
        if not isinstance(exc, (JournalMismatchError, OutputInUseError, OSError, sqlite3.Error)):
            raise exc
        self.message.emit(Level.ERROR, f"Cannot re-queue {count} POs: {exc}")
