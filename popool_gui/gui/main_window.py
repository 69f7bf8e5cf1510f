"""The main window: wiring between the widgets and the parts that do the work.

Loading a file is `file_loading` (and the window's side of it `window_files`), starting a run `run_start`, the run
itself `run_session` (and the window's side of it `window_run`), the PO table's
actions `po_actions`, the menus `window_actions`, the loaded page's layout `loaded_page`; file and journal I/O
go through `background`, off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psutil
import structlog
from PySide6.QtCore import QEvent, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragLeaveEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHeaderView,
    QMainWindow,
    QStackedWidget,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from popool_gui import logs
from popool_gui import settings as settings_mod
from popool_gui.batch.model import Batch, RunSummary
from popool_gui.browser.portal import PortalError, PortalProfile
from popool_gui.gui import desktop
from popool_gui.gui.background import Background
from popool_gui.gui.banners import Level, MessageBar
from popool_gui.gui.demo_mode import DemoSession
from popool_gui.gui.drop_zone import DropOverlayHost, DropZone
from popool_gui.gui.file_loading import FileLoader
from popool_gui.gui.invalid_rows_dialog import InvalidRowsDialog
from popool_gui.gui.loaded_page import LoadedPage
from popool_gui.gui.log_pane import LogPane
from popool_gui.gui.po_actions import PoActions
from popool_gui.gui.po_model import PoTableModel
from popool_gui.gui.po_panel import PoPanel
from popool_gui.gui.run_bridge import RunBridge, Updates
from popool_gui.gui.run_session import RunSession
from popool_gui.gui.run_start import RunStarter
from popool_gui.gui.run_target import RunTarget
from popool_gui.gui.settings_dialog import edit_settings
from popool_gui.gui.sign_in_bar import SignInBar
from popool_gui.gui.status_bar import RunStatusBar
from popool_gui.gui.summary_dialog import SummaryDialog
from popool_gui.gui.window_actions import Slots, WindowActions
from popool_gui.gui.window_files import PAGE_EMPTY as PAGE_EMPTY  # the stack's pages, for the tests
from popool_gui.gui.window_files import PAGE_LOADED as PAGE_LOADED
from popool_gui.gui.window_files import WindowFiles
from popool_gui.gui.window_run import WindowRun
from popool_gui.gui.window_state import WindowState
from popool_gui.gui.worker_model import WorkerTableModel
from popool_gui.gui.worker_view import WorkerTableView
from popool_gui.pool.worker import worker_main
from popool_gui.run_setup import DEMO_COUNT, default_portal, output_dir, run_portal
from popool_gui.settings import Settings

log = structlog.get_logger()

TICK_MS = 1000


class MainWindow(QMainWindow):
    load_finished = Signal(bool)  # a load_file() ended: the file is loaded, or a message says why not
    start_finished = Signal(bool)  # a start_run() ended: the run is going, or a message or dialog said why not

    def __init__(
        self,
        settings: Settings,
        *,
        persist_settings: bool = True,
        worker_target: Callable[..., None] = worker_main,
        window_state: WindowState | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._persist = persist_settings
        self._state = window_state or WindowState()
        self.batch: Batch | None = None
        # Where the loaded file's run goes (and, for the demo's sample, the demo's portal); the one being loaded.
        self.target: RunTarget | None = None
        self._loading: RunTarget | None = None
        self._batch_portal: PortalProfile = default_portal()  # the profile whose PO pattern read it
        self.session: RunSession | None = None
        self.last_summary: RunSummary | None = None
        self.summary_dialog: SummaryDialog | None = None
        self._quit_after_run = False
        self._close_when_idle = False
        self._demo = DemoSession()
        self._po_ids: dict[str, str] = {}
        self.run = WindowRun(self)
        self.files = WindowFiles(self)
        self.setWindowTitle("popool")
        self.setAcceptDrops(True)
        self._build_workers(worker_target)
        self._build_banners()
        self._build_drop_zone()
        self._build_tables()
        self._build_page()
        self._build_frame()
        self.files.refresh_recent()
        self.files.refresh_recent_runs()
        self._restore_geometry()
        self._restore_headers()
        self._every_second()
        self._update_actions()

    def _build_workers(self, worker_target: Callable[..., None]) -> None:
        """The parts that read files and prepare runs off the GUI thread."""
        self.background = Background(self)
        self.background.busy_changed.connect(self._busy_changed)
        self.loader = FileLoader(self.background, self)
        self.loader.loaded.connect(self.files.loaded)
        self.loader.refused.connect(self.files.refused)
        self.starter = RunStarter(self, self.background, worker_target)
        self.starter.batch_reread.connect(self.files.set_batch)
        self.starter.ready.connect(self.run.ready)
        self.starter.refused.connect(self.run.start_refused)
        self.starter.output_changed.connect(self._set_output)

    def _build_banners(self) -> None:
        self.messages = MessageBar()
        self.messages.action_clicked.connect(self._message_action)
        self._message_callback: Callable[[], None] | None = None
        self.sign_in = SignInBar()
        self.sign_in.resume_requested.connect(self.run.resume)
        self.sign_in.settings_requested.connect(self.edit_settings)

    def _build_drop_zone(self) -> None:
        self.drop_zone = DropZone()
        self.drop_zone.open_requested.connect(self.files.choose_file)
        self.drop_zone.recent_chosen.connect(lambda path: self.load_file(Path(path)))
        self.drop_zone.settings_requested.connect(self.edit_settings)
        self.drop_zone.set_setup_needed(bool(self._portal_problem()))
        self.drop_zone.demo_requested.connect(self.try_demo)
        self.drop_zone.resume_run.connect(self.files.resume_recent_run)
        self.drop_zone.open_run_folder.connect(lambda folder: desktop.open_path(Path(folder)))

    def _build_tables(self) -> None:
        self.worker_model = WorkerTableModel()
        self.worker_view = WorkerTableView(self.worker_model)
        self.worker_view.pause_requested.connect(lambda w: self.session.pause(w) if self.session else None)
        self.worker_view.resume_requested.connect(self.run.resume)
        self.worker_view.restart_requested.connect(lambda w: self.session.restart(w) if self.session else None)
        self.po_model = PoTableModel()
        self.po_panel = PoPanel(self.po_model)
        self.po_actions = PoActions(
            self.po_model,
            self.background,
            settings=lambda: self.run_settings,
            session=lambda: self.session,
            batch=lambda: self.batch,
            parent=self,
        )
        self.po_actions.message.connect(self.show_message)
        self.po_actions.note.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.po_panel.open_folder.connect(self.po_actions.open_folder)
        self.po_panel.open_page.connect(self.po_actions.open_page)
        self.po_panel.retry.connect(self.po_actions.retry)
        self.po_panel.retry_failed.connect(self.po_actions.retry_failed)
        self.log_pane = LogPane(self._open_logs)

    def _build_page(self) -> None:
        """The loaded page (tables, Start and Stop) and the empty one, stacked under the banners."""
        self.page = LoadedPage(self.worker_view, self.po_panel, self.log_pane)
        self.page.invalid_rows_requested.connect(
            lambda: InvalidRowsDialog(self.batch, self).open() if self.batch else None
        )
        self.page.change_output.clicked.connect(self.choose_output_dir)
        self.page.start_button.clicked.connect(self.start_run)
        self.page.stop_button.clicked.connect(self.stop_run)
        # The tests and scripts reach these widgets through the window.
        self.summary_label, self.start_button, self.stop_button = (
            self.page.summary_label,
            self.page.start_button,
            self.page.stop_button,
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(DropOverlayHost(self.drop_zone))
        self.stack.addWidget(self.page)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addWidget(self.messages)
        layout.addWidget(self.sign_in)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

    def _build_frame(self) -> None:
        """Status bar, menus, tray icon and the one-second tick."""
        self.status = RunStatusBar()
        self.setStatusBar(self.status)
        # Not `self.actions`: that would hide QWidget.actions().
        self.window_actions = WindowActions(
            self,
            Slots(
                choose_file=self.files.choose_file,
                load_file=self.load_file,
                edit_settings=self.edit_settings,
                start=self.start_run,
                stop=self.stop_run,
                try_demo=self.try_demo,
                open_logs=self._open_logs,
                find=lambda: self.po_panel.search.setFocus(),
                about=self._about,
            ),
        )
        self.tray = QSystemTrayIcon(QApplication.windowIcon(), self)
        self.tray.setToolTip("popool")
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._every_second)
        self._tick.start()

    @property
    def running(self) -> bool:
        return self.session is not None

    @property
    def bridge(self) -> RunBridge | None:
        return self.session.bridge if self.session is not None else None

    @property
    def busy(self) -> bool:
        """A file, a journal or a run's start is being prepared off the GUI thread."""
        return self.background.busy

    # ================================================================== loading

    def load_file(self, path: Path, target: RunTarget | None = None) -> None:
        """Read a PO list in the background (see WindowFiles.load_file); `load_finished` tells when it is done."""
        self.files.load_file(path, target)

    @property
    def run_settings(self) -> Settings:
        """The settings a run of the loaded file uses: the user's, with the file's folder (and the demo's portal)."""
        return self.target.settings(self.settings) if self.target is not None else self.settings

    @property
    def output_dir(self) -> Path:
        """The loaded file's output folder."""
        return output_dir(self.run_settings)

    def _show_batch_summary(self) -> None:
        if self.batch is not None:
            self.page.show_batch(self.batch, str(self.output_dir))

    def choose_output_dir(self) -> None:
        """Another folder for the loaded file only: the next file gets its own again."""
        if self.target is None:
            return
        chosen = QFileDialog.getExistingDirectory(self, "Choose the folder for this list's files", str(self.output_dir))
        if chosen:
            self._set_output(chosen)

    def _set_output(self, folder: str) -> None:
        if self.target is not None:
            self.target = self.target.with_folder(folder)
            self._show_batch_summary()

    def _set_settings(self, settings: Settings) -> None:
        self.settings = settings
        if self._persist:
            try:
                settings_mod.save(settings)
            except OSError as exc:
                self.show_message(Level.WARNING, f"Settings not saved: {exc}")
        if not self.running:  # during a run the label keeps naming the folder the run writes to
            self._show_batch_summary()  # the loaded file's folder follows a new output folder unless one was chosen
        self.drop_zone.set_setup_needed(bool(self._portal_problem()))

    def _portal_problem(self) -> str:
        """Why the portal cannot be opened with the user's settings (no address, a broken profile), or ""."""
        try:
            run_portal(self.settings).require_base_url()
        except PortalError as exc:
            return str(exc)
        return ""

    def edit_settings(self) -> None:
        chosen = edit_settings(self, self.settings, self.running)
        if chosen is not None:
            self._set_settings(chosen)

    # ================================================================== drag and drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            self.drop_zone.set_highlight(True)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.drop_zone.set_highlight(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_zone.set_highlight(False)
        files = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if not files:
            return
        event.acceptProposedAction()
        if len(files) > 1:
            self.show_message(Level.WARNING, f"{len(files)} files dropped: loading only {files[0].name}.")
        self.load_file(files[0])

    # ================================================================== run

    def start_run(self) -> None:
        """Check, ask and build the run in the background, then start it; `start_finished` tells when."""
        self.run.start()

    def stop_run(self) -> None:
        self.run.stop()

    def _apply_updates(self, updates: Updates) -> None:
        self.run.apply_updates(updates)

    # ================================================================== demo, messages, misc

    def try_demo(self, count: int = DEMO_COUNT) -> bool:
        """Start the demo portal and load a sample (`load_finished` tells when); False (with a message) when the
        demo could not start."""
        if self.running or self.busy:
            self.show_message(Level.WARNING, "A run is in progress: stop it before starting the demo.")
            return False
        # Starting the portal's process takes a moment (longer from a packaged .exe): show that something happens.
        try:
            with desktop.busy():
                overrides, sample = self._demo.prepare(count)
        except OSError as exc:
            self.show_message(Level.ERROR, f"The demo could not start: {exc}")
            return False
        # The demo's portal and folder belong to its sample alone: the user's settings never see them.
        self.load_finished.connect(self._demo_loaded)
        self.load_file(sample, RunTarget.demo(sample, overrides))
        return True

    def _demo_loaded(self, loaded: bool) -> None:
        self.load_finished.disconnect(self._demo_loaded)
        if loaded:
            self.show_message(
                Level.INFO,
                f"Demo portal running at {self._demo.url} with {len(self.batch.records) if self.batch else 0} "
                "sample POs. Press Start to watch the workers download their attachments.",
            )

    def show_message(
        self, level: Level, text: str, action: str = "", callback: Callable[[], None] | None = None
    ) -> None:
        self._message_callback = callback
        self.messages.show_message(level, text, action)

    def _message_action(self) -> None:
        if self._message_callback is not None:
            self._message_callback()

    def _open_logs(self) -> None:
        desktop.open_path(logs.log_dir())

    def _about(self) -> None:
        from popool_gui import __version__

        self.show_message(Level.INFO, f"popool {__version__}: bulk download of purchase-order attachments.")

    def _every_second(self) -> None:
        # The machine's RAM is shown between runs too: the user picks the worker count from it.
        pct = psutil.virtual_memory().percent
        self.status.ram.set_values(pct, self.settings.memory_threshold_pct)
        self.worker_model.set_system_memory(pct, self.settings.memory_threshold_pct)
        if self.session is not None:
            self.worker_model.tick()
            self.page.show_countdown(self.session.countdown)

    def _busy_changed(self, busy: bool) -> None:
        self._update_actions()
        if not busy and self._close_when_idle:
            self._close_when_idle = False
            self.close()

    def _update_actions(self) -> None:
        idle = not (self.running or self.busy)
        can_start = idle and self.batch is not None and bool(self.batch.records)
        self.page.follow_run(
            can_start=can_start,
            idle=idle,
            running=self.running,
            finished_once=self.last_summary is not None,
            countdown=self.session.countdown if self.session is not None else None,
        )
        self.window_actions.follow_run(can_start=can_start, idle=idle, running=self.running)

    # ================================================================== window life

    def _restore_geometry(self) -> None:
        geometry = self._state.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1100, 760)
        splitter = self._state.splitter()
        if splitter is None or not self.page.splitter.restoreState(splitter):
            self.page.splitter.setSizes([200, 360, 160])

    def _tables(self) -> tuple[tuple[str, QHeaderView], ...]:
        return (
            (PoPanel.HEADER_KEY, self.po_panel.header()),
            (WorkerTableView.HEADER_KEY, self.worker_view.header()),
            (LogPane.HEADER_KEY, self.log_pane.header()),
        )

    def _restore_headers(self) -> None:
        """Each table's column widths, order and sort as the user left them (their defaults when none is stored)."""
        for key, header in self._tables():
            self._state.restore_header(key, header)

    def _save_headers(self) -> None:
        for key, header in self._tables():
            self._state.save_header(key, header)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy:  # a file or a start is being prepared: close once it is done
            event.ignore()
            self._close_when_idle = True
            return
        if self.session is not None:
            event.ignore()
            if self._quit_after_run:
                self.stop_run()  # closing again while stopping: force it
                return
            choice = desktop.ask(
                self,
                "A run is in progress",
                "Stop the run and quit? Workers finish their current PO first (at most "
                f"{self.session.controller.settings.shutdown_timeout_s:.0f} s); the rest stays PENDING for the next "
                "run.",
                ("Stop and quit", "Keep running"),
            )
            if choice == 0:
                self._quit_after_run = True
                self.stop_run()
            return
        self._state.save_window(self.saveGeometry(), self.page.splitter.saveState())
        self._save_headers()
        self._tick.stop()
        self._demo.close()
        self.tray.hide()
        event.accept()

    def changeEvent(self, event: QEvent) -> None:
        # The tray icon is only there to carry the finish notification; hide it once the user is back.
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.tray.hide()
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._show_batch_summary()  # rich text bakes the link colour in when it is set
        super().changeEvent(event)
