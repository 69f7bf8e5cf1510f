"""A run in the main window, from Start to its end: the checks before it, the models fed while it goes, the
message bar's hold notice, Stop and Resume, and what the window shows when it finishes, crashes or is refused.

The window keeps the state the rest of it reads (`session`, `last_summary`, `summary_dialog`); this class moves it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from popool_gui.batch.model import PoResult, PoStatus, RunState, RunSummary
from popool_gui.gui import desktop
from popool_gui.gui.banners import Level
from popool_gui.gui.loaded_page import API_LANE_TITLE, WORKERS_TITLE
from popool_gui.gui.run_bridge import Updates
from popool_gui.gui.run_session import RunSession
from popool_gui.gui.summary_dialog import SummaryDialog
from popool_gui.pool.controller import PoolController
from popool_gui.settings import RunMode

if TYPE_CHECKING:
    from popool_gui.gui.main_window import MainWindow


class WindowRun:
    """The main window's run: connected to the run starter's and the run session's signals."""

    def __init__(self, window: MainWindow) -> None:
        self._w = window
        self._waiting_shown = ""  # the hold's text the message bar was given last, if any

    def start(self) -> None:
        """Check, ask and build the run in the background, then start it; `start_finished` tells when."""
        w = self._w
        if w.running or w.busy or w.batch is None:
            w.start_finished.emit(False)
            return
        settings = w.run_settings
        if w.target is not None and not w.target.is_demo and (problem := w._portal_problem()):
            w.show_message(
                Level.ERROR,
                "Set your portal's address first (Settings, Essentials): " + problem,
                action="Settings...",
                callback=w.edit_settings,
            )
            w.start_finished.emit(False)
            return
        problems = settings.validate()
        if problems:
            w.show_message(
                Level.ERROR,
                "Fix the settings first: " + "; ".join(str(p) for p in problems),
                action="Settings...",
                callback=w.edit_settings,
            )
            w.start_finished.emit(False)
            return
        w.starter.start(settings, w.batch, w._batch_portal)

    def start_refused(self, message: str, offer_settings: bool) -> None:
        w = self._w
        if message:
            callback = w.edit_settings if offer_settings else None
            w.show_message(Level.ERROR, message, action="Settings..." if offer_settings else "", callback=callback)
        w.start_finished.emit(False)

    def ready(self, controller: PoolController, results: list[PoResult]) -> None:
        w = self._w
        w.messages.hide()
        w.sign_in.clear()
        w.last_summary = None
        w.po_model.set_results(results, w._po_ids)
        w.po_panel.apply_filter()
        w.worker_model.reset_workers(
            controller.settings.workers,
            controller.settings.memory_threshold_pct,
            on_grid=bool(controller.settings.grid_url),
            api=controller.settings.mode is RunMode.API,
        )
        w.page.workers_label.setText(API_LANE_TITLE if w.worker_model.api else WORKERS_TITLE)
        w.page.workers_box.setVisible(True)
        w.page.fit_worker_pane()
        w.files.remember_run(controller.output_dir)
        w.session = RunSession(controller, w)
        w.session.updates.connect(self.apply_updates)
        w.session.finished.connect(self._finished)
        w.session.crashed.connect(self._crashed)
        w.session.refused.connect(self._refused)
        w.session.auth_required.connect(w.sign_in.show_for)
        w.status.set_state(RunState.STARTING)
        w.session.start()
        w._update_actions()
        w.start_finished.emit(True)

    def show_waiting(self, waiting: str) -> None:
        """A hold (the portal away, the disk full) in the message bar while it lasts; gone when the run goes on
        or ends, unless another message has taken the bar since."""
        w = self._w
        if waiting:
            w.show_message(Level.WARNING, waiting, action="Stop", callback=w.stop_run)
        elif self._waiting_shown and w.messages.text() == self._waiting_shown:
            w.messages.hide()
        self._waiting_shown = waiting

    def stop(self) -> None:
        w = self._w
        if w.session is None:
            return
        if not w.session.stop():
            w.status.set_state(RunState.STOPPING)
        w._update_actions()

    def resume(self, worker: int) -> None:
        w = self._w
        if w.session is not None:
            w.session.resume(worker)
        w.sign_in.worker_resumed(worker)

    def apply_updates(self, updates: Updates) -> None:
        """Everything the run reported since the last poll, in one go per model."""
        w = self._w
        if updates.results:
            w.po_model.apply(updates.results)
        if updates.workers:
            w.worker_model.apply(sorted(updates.workers.values(), key=lambda s: s.worker))
        if updates.logs:
            w.log_pane.append(updates.logs)
        if updates.run is not None:
            w.status.show_run(updates.run)
            self.show_waiting(updates.run.waiting)
        for decision in updates.memory:
            w.statusBar().showMessage(f"Memory: {decision.action} worker {decision.worker}: {decision.reason}", 8000)

    def _finished(self, summary: RunSummary) -> None:
        w = self._w
        w.last_summary = summary
        self._end()
        w.files.refresh_recent_runs()
        w.status.show_end(summary)
        if w._quit_after_run:
            w.close()
            return
        w.summary_dialog = SummaryDialog(summary, desktop.open_path, w)
        w.summary_dialog.show()
        if not w.isActiveWindow() and QSystemTrayIcon.isSystemTrayAvailable():
            w.tray.show()
            w.tray.showMessage("popool", _tray_text(summary), QApplication.windowIcon(), 10_000)

    def _crashed(self, message: str) -> None:
        w = self._w
        self._end()
        w.status.set_state(RunState.FAILED)
        w.show_message(Level.ERROR, f"The run stopped on an internal error: {message}. See the log folder.")
        if w._quit_after_run:
            w.close()

    def _refused(self, message: str) -> None:
        w = self._w
        self._end()
        w.status.set_state(RunState.FAILED)
        w.show_message(Level.ERROR, message, action="Settings...", callback=w.edit_settings)
        if w._quit_after_run:
            w.close()

    def _end(self) -> None:
        w = self._w
        assert w.session is not None
        self.show_waiting("")
        w.session.deleteLater()
        w.session = None
        w.sign_in.clear()
        w.worker_view.set_commands_enabled(False)
        w._update_actions()


def _tray_text(summary: RunSummary) -> str:
    done = summary.counts.get(PoStatus.COMPLETED.value, 0)
    return f"{'Run stopped' if summary.stopped_early else 'Run finished'}: {done} of {summary.total} POs completed"
