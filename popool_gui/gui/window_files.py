"""Files in the main window: opening a PO list (dialog, drop, recent file, a recent run's Resume), what the
window shows once one is loaded, and the lists of recent files and runs.

The window keeps the state the rest of it reads (`batch`, `target`); this class sets it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from PySide6.QtWidgets import QFileDialog

from popool_gui.batch.model import Batch, RunState
from popool_gui.batch.recent_runs import recent_runs
from popool_gui.browser.portal import PortalProfile
from popool_gui.gui.banners import Level
from popool_gui.gui.file_loading import FILE_FILTER
from popool_gui.gui.po_model import rows_from_batch
from popool_gui.gui.run_target import RunTarget

if TYPE_CHECKING:
    from popool_gui.gui.main_window import MainWindow

log = structlog.get_logger()

PAGE_EMPTY, PAGE_LOADED = 0, 1  # the main window's stack: the drop zone, the loaded page


class WindowFiles:
    """The main window's loading of PO lists: connected to the file loader's signals and the recent lists' menus."""

    def __init__(self, window: MainWindow) -> None:
        self._w = window

    def choose_file(self) -> None:
        w = self._w
        start = w._state.recent_files()[0] if w._state.recent_files() else ""
        path, _ = QFileDialog.getOpenFileName(
            w, "Open a list of PO numbers", str(Path(start).parent) if start else "", FILE_FILTER
        )
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path, target: RunTarget | None = None) -> None:
        """Read a PO list in the background; on any problem show why and leave the current state untouched.

        `target`: where its run goes; by default the file's own folder inside the output folder of the settings.
        `load_finished` tells when it is done."""
        w = self._w
        if w.running or w.busy:
            w.show_message(Level.WARNING, "A run is in progress: stop it before loading another file.")
            w.load_finished.emit(False)
            return
        w._loading = target or RunTarget(path)
        if not w.loader.load(path, w._loading.settings(w.settings)):
            w.load_finished.emit(False)

    def refused(self, message: str) -> None:
        w = self._w
        w.show_message(Level.ERROR, message)
        w.load_finished.emit(False)

    def loaded(self, batch: Batch, portal: PortalProfile) -> None:
        w = self._w
        w.target = w._loading or RunTarget(Path(batch.source))
        self.set_batch(batch, portal)
        w.po_panel.show_all()  # a new file opens with every row shown, and only its own log lines
        w.log_pane.model.clear()
        w.last_summary = None
        w.messages.hide()
        w.sign_in.clear()
        w.page.workers_box.setVisible(False)
        w.status.clear_run()
        w.status.set_state(RunState.IDLE)
        w._show_batch_summary()
        w.stack.setCurrentIndex(PAGE_LOADED)
        if not w._demo.owns(Path(batch.source)):  # a demo sample is deleted on exit: not worth recalling
            w._state.add_recent(Path(batch.source))
            self.refresh_recent()
        w.setWindowTitle(f"popool - {Path(batch.source).name}")
        w._update_actions()
        log.info("gui_file_loaded", path=batch.source, pos=len(batch.records), invalid=len(batch.invalid))
        w.load_finished.emit(True)

    def set_batch(self, batch: Batch, portal: PortalProfile) -> None:
        w = self._w
        w.batch = batch
        w._batch_portal = portal
        w._po_ids = {r.key: r.po_id for r in (*batch.records, *batch.already_completed)}
        w.po_model.set_rows(rows_from_batch(batch))
        w.po_panel.apply_filter()

    def refresh_recent(self) -> None:
        w = self._w
        w.window_actions.set_recent(w._state.recent_files())
        w.drop_zone.set_recent(w._state.recent_files())

    def refresh_recent_runs(self) -> None:
        """The empty window's recent runs, from their journals; a run whose folder is gone is forgotten quietly."""
        w = self._w
        folders = w._state.recent_runs()
        for gone in (f for f in folders if not Path(f).is_dir()):
            w._state.forget_run(Path(gone))
        w.drop_zone.set_recent_runs(recent_runs(w._state.recent_runs()))

    def resume_recent_run(self, input_file: str, output: str) -> None:
        """A recent run's Resume: its input file, loaded with its output folder (`load_finished` tells when)."""
        w = self._w
        if w.running or w.busy:
            w.show_message(Level.WARNING, "A run is in progress: stop it before resuming another.")
            w.load_finished.emit(False)
            return
        self.load_file(Path(input_file), RunTarget(Path(input_file), output))

    def remember_run(self, output: Path) -> None:
        w = self._w
        if w.batch is not None and not w._demo.owns(Path(w.batch.source)):  # a demo's folder goes on exit
            w._state.add_recent_run(output)
