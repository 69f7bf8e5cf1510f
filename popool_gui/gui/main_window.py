"""The main window: load a PO list, start the pool, watch workers and POs, stop, see the summary."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

import psutil
import structlog
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QKeySequence,
    QPalette,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QSystemTrayIcon,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from popool_gui import logs
from popool_gui import settings as settings_mod
from popool_gui.batch.input import InputError
from popool_gui.batch.journal import JOURNAL_DIR, JOURNAL_FILE, Journal, JournalMismatchError
from popool_gui.batch.model import Batch, PoResult, PoStatus, RunState, RunSummary
from popool_gui.browser.portal import PortalError, PortalProfile, load_portal
from popool_gui.gui import desktop, links
from popool_gui.gui.banners import Level, MessageBar
from popool_gui.gui.demo_mode import DEFAULT_COUNT, DemoSession
from popool_gui.gui.drop_zone import DropOverlayHost, DropZone
from popool_gui.gui.log_pane import LogPane
from popool_gui.gui.po_model import PoTableModel, rows_from_batch
from popool_gui.gui.po_panel import PoPanel
from popool_gui.gui.run_bridge import RunBridge, RunCollector
from popool_gui.gui.settings_dialog import edit_settings
from popool_gui.gui.status_bar import RunStatusBar
from popool_gui.gui.summary_dialog import SummaryDialog
from popool_gui.gui.window_state import WindowState
from popool_gui.gui.worker_model import WorkerTableModel
from popool_gui.gui.worker_view import WorkerTableView
from popool_gui.pool.controller import PoolController
from popool_gui.pool.output_lock import OutputInUseError
from popool_gui.pool.worker import worker_main
from popool_gui.run_setup import default_portal, read_run_batch, run_portal
from popool_gui.settings import Settings

log = structlog.get_logger()

ACCEPTED_SUFFIXES = (".csv", ".xlsx", ".txt", ".tsv")
# 10 Hz is smooth to the eye and keeps model updates batched for 10,000-row runs.
POLL_MS = 100
TICK_MS = 1000
PAGE_EMPTY, PAGE_LOADED = 0, 1


class MainWindow(QMainWindow):
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
        self._worker_target = worker_target
        self._state = window_state or WindowState()
        self.batch: Batch | None = None
        self._batch_portal: PortalProfile = default_portal()  # the profile whose PO pattern read it
        self.bridge: RunBridge | None = None
        self.last_summary: RunSummary | None = None
        self.summary_dialog: SummaryDialog | None = None
        self._stop_deadline: float | None = None  # monotonic; set by the first Stop
        self._quit_after_run = False
        self._demo = DemoSession()
        self._po_ids: dict[str, str] = {}

        self.setWindowTitle("popool")
        self.setAcceptDrops(True)
        self.messages = MessageBar()
        self.messages.action_clicked.connect(self._message_action)
        self._message_callback: Callable[[], None] | None = None
        self.sign_in = MessageBar()
        self.sign_in.action_clicked.connect(self._sign_in_action)
        self._sign_in_worker: int | None = None

        self.drop_zone = DropZone()
        self.drop_zone.open_requested.connect(self.choose_file)
        self.drop_zone.recent_chosen.connect(lambda path: self.load_file(Path(path)))
        self.drop_zone.demo_requested.connect(self.try_demo)

        self.worker_model = WorkerTableModel()
        self.worker_view = WorkerTableView(self.worker_model)
        self.worker_view.pause_requested.connect(lambda w: self._command("pause", w))
        self.worker_view.resume_requested.connect(self._resume)
        self.worker_view.restart_requested.connect(lambda w: self._command("restart", w))
        self.po_model = PoTableModel()
        self.po_panel = PoPanel(self.po_model)
        self.po_panel.open_folder.connect(self._open_po_folder)
        self.po_panel.open_page.connect(self._open_po_page)
        self.po_panel.retry.connect(self._retry_po)
        self.log_pane = LogPane(lambda: desktop.open_path(logs.log_dir()))

        self.stack = QStackedWidget()
        self.stack.addWidget(DropOverlayHost(self.drop_zone))
        self.stack.addWidget(self._loaded_page())
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addWidget(self.messages)
        layout.addWidget(self.sign_in)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.status = RunStatusBar()
        self.setStatusBar(self.status)
        self._make_actions()
        self.tray = QSystemTrayIcon(QApplication.windowIcon(), self)
        self.tray.setToolTip("popool")

        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.apply_updates)
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._every_second)
        self._tick.start()

        self.drop_zone.set_recent(self._state.recent_files())
        self._refresh_recent_menu()
        self._restore_geometry()
        self._every_second()
        self._update_actions()

    # ================================================================== layout

    def _loaded_page(self) -> QWidget:
        self.summary_label = QLabel()
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setWordWrap(True)
        self.summary_label.linkActivated.connect(self._summary_link)
        self.output_label = QLabel()
        self.output_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.output_label.setToolTip("Where the PO folders and the results file go")
        self.change_output = QPushButton("Change...")
        self.change_output.setToolTip("Choose another output folder (a folder used before resumes its run)")
        self.change_output.clicked.connect(self.choose_output_dir)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("start")
        self.start_button.setToolTip("Start processing the POs (Ctrl+R)")
        self.start_button.clicked.connect(self.start_run)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop")
        self.stop_button.setToolTip(
            "Stop gracefully: workers finish their current PO (Ctrl+.). Click again to force the stop at once"
        )
        self.stop_button.clicked.connect(self.stop_run)
        for button in (self.start_button, self.stop_button):
            button.setMinimumWidth(self.fontMetrics().horizontalAdvance("Stopping... 000 s · Force stop") + 24)

        header = QHBoxLayout()
        info = QVBoxLayout()
        info.addWidget(self.summary_label)
        where = QHBoxLayout()
        where.addWidget(QLabel("Output:"))
        where.addWidget(self.output_label, 1)
        where.addWidget(self.change_output)
        info.addLayout(where)
        header.addLayout(info, 1)
        header.addWidget(self.start_button)
        header.addWidget(self.stop_button)

        workers = QWidget()
        workers_layout = QVBoxLayout(workers)
        workers_layout.setContentsMargins(0, 0, 0, 0)
        workers_layout.addWidget(QLabel("<b>Workers</b>"))
        workers_layout.addWidget(self.worker_view)
        self.workers_box = workers

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(workers)
        self.splitter.addWidget(self.po_panel)
        self.splitter.addWidget(self.log_pane)
        self.splitter.setStretchFactor(1, 1)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.splitter, 1)
        return page

    def _make_actions(self) -> None:
        def action(text: str, slot: Callable[[], object], shortcut: Any = None, tip: str = "") -> QAction:
            made = QAction(text, self)
            made.triggered.connect(lambda _=False: slot())
            if shortcut is not None:
                made.setShortcut(QKeySequence(shortcut))
            made.setStatusTip(tip)
            made.setToolTip(tip)
            return made

        self.open_action = action(
            "&Open...", self.choose_file, QKeySequence.StandardKey.Open, "Open a CSV or Excel file of PO numbers"
        )
        self.settings_action = action(
            "&Settings...",
            self.edit_settings,
            QKeySequence.StandardKey.Preferences,
            "Workers, browser, portal, output folder and limits",
        )
        if self.settings_action.shortcut().isEmpty():
            self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        quit_action = action("&Quit", self.close, QKeySequence.StandardKey.Quit, "Close popool")
        self.start_action = action("&Start", self.start_run, "Ctrl+R", "Start processing the POs")
        self.stop_action = action("S&top", self.stop_run, "Ctrl+.", "Stop gracefully; again to force")
        self.demo_action = action(
            "Try the &demo", self.try_demo, None, "Start a built-in demo portal and load a sample list of POs"
        )
        logs_action = action(
            "Open &log folder", lambda: desktop.open_path(logs.log_dir()), None, "Open the folder with the log files"
        )
        focus_search = action(
            "Find", lambda: self.po_panel.search.setFocus(), QKeySequence.StandardKey.Find, "Search the PO table"
        )
        self.addAction(focus_search)

        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = QMenu("Open &recent", self)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        for menu in (file_menu, self.recent_menu):
            menu.setToolTipsVisible(True)
        run_menu = menus.addMenu("&Run")
        run_menu.addAction(self.start_action)
        run_menu.addAction(self.stop_action)
        help_menu = menus.addMenu("&Help")
        help_menu.addAction(self.demo_action)
        help_menu.addAction(logs_action)
        help_menu.addAction(action("&About popool", self._about, None, "Version and licence"))
        run_menu.setToolTipsVisible(True)
        help_menu.setToolTipsVisible(True)

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self._state.recent_files()
        for path in files:
            made = self.recent_menu.addAction(Path(path).name)
            made.setToolTip(path)
            made.triggered.connect(lambda _=False, p=path: self.load_file(Path(p)))
        self.recent_menu.setEnabled(bool(files))

    # ================================================================== loading

    @property
    def running(self) -> bool:
        return self.bridge is not None

    def choose_file(self) -> None:
        start = self._state.recent_files()[0] if self._state.recent_files() else ""
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a list of PO numbers",
            str(Path(start).parent) if start else "",
            "PO lists (*.csv *.xlsx *.txt *.tsv);;All files (*)",
        )
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path) -> bool:
        """Load a PO list; on any problem show why and leave the current state untouched."""
        if self.running:
            self.show_message(Level.WARNING, "A run is in progress: stop it before loading another file.")
            return False
        if path.suffix.lower() not in ACCEPTED_SUFFIXES:
            self.show_message(
                Level.ERROR,
                f"{path.name} is not a PO list. Drop a CSV (.csv) or Excel (.xlsx) file with a PO_NUMBER column.",
            )
            return False
        portal = self._load_portal()
        try:
            with desktop.busy():
                batch = read_run_batch(path, portal)
        except InputError as exc:
            self.show_message(Level.ERROR, str(exc))
            return False
        except OSError as exc:
            self.show_message(Level.ERROR, f"Cannot read {path}: {exc.strerror or exc}")
            return False
        self._set_batch(batch, portal)
        self.last_summary = None
        self.messages.hide()
        self.sign_in.hide()
        self.workers_box.setVisible(False)
        self.status.clear_run()
        self.status.set_state(RunState.IDLE)
        self._show_batch_summary()
        self.stack.setCurrentIndex(PAGE_LOADED)
        if not self._demo.owns(Path(batch.source)):  # a demo sample is deleted on exit: not worth recalling
            self._state.add_recent(Path(batch.source))
            self._refresh_recent_menu()
            self.drop_zone.set_recent(self._state.recent_files())
        self.setWindowTitle(f"popool - {Path(batch.source).name}")
        self._update_actions()
        log.info("gui_file_loaded", path=batch.source, pos=len(batch.records), invalid=len(batch.invalid))
        return True

    def _set_batch(self, batch: Batch, portal: PortalProfile) -> None:
        self.batch = batch
        self._batch_portal = portal
        self._po_ids = {r.key: r.po_id for r in (*batch.records, *batch.already_completed)}
        self.po_model.set_rows(rows_from_batch(batch))
        self.po_panel.apply_filter()

    def _load_portal(self) -> PortalProfile:
        try:
            return run_portal(self.settings)
        except PortalError:
            # A broken portal profile is reported at Start; the file still loads with the standard PO pattern,
            # and is read again with the profile's at Start.
            return default_portal()

    def _show_batch_summary(self) -> None:
        batch = self.batch
        if batch is None:
            return
        parts = [f"<b>{escape(Path(batch.source).name)}</b>", f"{len(batch.records):,} POs"]
        if batch.invalid:
            link = self.palette().color(QPalette.ColorRole.Link).name()
            parts.append(f'<a href="invalid" style="color: {link}">{_plural(len(batch.invalid), "invalid row")}</a>')
        if batch.duplicates:
            parts.append(f"{_plural(len(batch.duplicates), 'duplicate')} (processed once)")
        if batch.already_completed:
            parts.append(f"{len(batch.already_completed):,} already completed")
        self.summary_label.setText(" · ".join(parts))
        self.summary_label.setToolTip(batch.source)
        self.output_label.setText(self.settings.output_dir)

    def _summary_link(self, link: str) -> None:
        if link == "invalid" and self.batch is not None:
            InvalidRowsDialog(self.batch, self).open()

    def choose_output_dir(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Choose the output folder", self.settings.output_dir)
        if chosen:
            self._set_settings(self.settings.replace(output_dir=chosen))

    def _set_settings(self, settings: Settings) -> None:
        self.settings = settings
        if self._persist:
            try:
                settings_mod.save(settings)
            except OSError as exc:
                self.show_message(Level.WARNING, f"Settings not saved: {exc}")
        self.output_label.setText(settings.output_dir)

    def edit_settings(self) -> None:
        chosen = edit_settings(self, self.settings, self.running)
        if chosen is not None:
            self._persist = True  # the user chose these, demo or not
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
        if self.running or self.batch is None:
            return
        problems = self.settings.validate()
        if problems:
            self.show_message(
                Level.ERROR,
                "Fix the settings first: " + "; ".join(str(p) for p in problems),
                action="Settings...",
                callback=self.edit_settings,
            )
            return
        controller = self._make_controller()
        if controller is None:
            return
        self.messages.hide()
        self.sign_in.hide()
        self.last_summary = None
        collector = RunCollector()
        controller.listener = collector
        self.po_model.set_results(controller.po_results(), self._po_ids)
        self.po_panel.apply_filter()
        self.worker_model.reset_workers(self.settings.workers, self.settings.memory_threshold_pct)
        self.workers_box.setVisible(True)
        self._fit_worker_pane()
        self.bridge = RunBridge(controller, collector)
        self.bridge.finished.connect(self._run_finished)
        self.bridge.crashed.connect(self._run_crashed)
        self.bridge.auth_required.connect(self._auth_required)
        self._stop_deadline = None
        self.status.set_state(RunState.STARTING)
        self.bridge.start()
        self._poll.start()
        self._update_actions()

    def _make_controller(self) -> PoolController | None:
        assert self.batch is not None
        try:
            portal = run_portal(self.settings)
            if portal.po_id_regex != self._batch_portal.po_id_regex:
                # The profile changed since the file was loaded: the batch is what the CLI would read now.
                with desktop.busy():
                    self._set_batch(read_run_batch(Path(self.batch.source), portal), portal)
        except PortalError as exc:
            self.show_message(Level.ERROR, str(exc), action="Settings...", callback=self.edit_settings)
            return None
        except (InputError, OSError) as exc:
            self.show_message(Level.ERROR, f"Cannot read {self.batch.source} again: {exc}")
            return None
        accept_new = False
        for _ in range(2):
            try:
                # Opening the journal seeds it with every PO: about half a second for 10,000.
                with desktop.busy():
                    return PoolController(
                        self.settings,
                        self.batch,
                        accept_new_input=accept_new,
                        portal=portal,
                        worker_target=self._worker_target,
                    ).open()
            except JournalMismatchError as exc:
                choice = desktop.ask(
                    self,
                    "This output folder holds another run",
                    f"{exc}\n\nKeep the POs already finished there and go on, or start over and process every "
                    "PO again?",
                    ("Keep finished POs", "Start over", "Cancel"),
                )
                if choice == 0:
                    accept_new = True
                elif choice == 1:
                    self._delete_journal()
                else:
                    return None
            except OutputInUseError as exc:
                desktop.warn(self, "Output folder in use", str(exc))
                return None
            except PortalError as exc:
                self.show_message(Level.ERROR, str(exc), action="Settings...", callback=self.edit_settings)
                return None
            except (OSError, sqlite3.Error) as exc:
                self.show_message(Level.ERROR, f"Cannot use the output folder {self.settings.output_dir}: {exc}")
                return None
        return None

    def _fit_worker_pane(self) -> None:
        """Give the worker table the height of its rows; the PO table gets the rest, the log keeps its size."""
        sizes = self.splitter.sizes()
        label = self.workers_box.layout().itemAt(0).widget().sizeHint().height()
        wanted = self.worker_view.fitting_height() + label + self.workers_box.layout().spacing()
        total = sizes[0] + sizes[1]
        if total > wanted * 2:
            self.splitter.setSizes([wanted, total - wanted, sizes[2]])

    def _delete_journal(self) -> None:
        folder = Path(self.settings.output_dir).expanduser().resolve() / JOURNAL_DIR
        for suffix in ("", "-wal", "-shm"):
            (folder / (JOURNAL_FILE + suffix)).unlink(missing_ok=True)

    def stop_run(self) -> None:
        if self.bridge is None:
            return
        if self._stop_deadline is None:
            self._stop_deadline = time.monotonic() + self.settings.shutdown_timeout_s
            self.bridge.controller.stop()
            self.status.set_state(RunState.STOPPING)
        else:
            self.bridge.controller.stop()  # the second call forces
            self._stop_deadline = time.monotonic()
            self.stop_button.setText("Forcing stop...")
            self.stop_button.setEnabled(False)
        self._update_stop_button()

    def _command(self, name: str, worker: int) -> None:
        if self.bridge is not None:
            getattr(self.bridge.controller, name)(worker)

    def _resume(self, worker: int) -> None:
        self._command("resume", worker)
        if self._sign_in_worker == worker:
            self.sign_in.hide()
            self._sign_in_worker = None

    def apply_updates(self) -> None:
        """Take everything the runner collected since the last poll and apply it in one go per model."""
        if self.bridge is None:
            return
        updates = self.bridge.take_updates()
        if updates.results:
            self.po_model.apply(updates.results)
        if updates.workers:
            self.worker_model.apply(sorted(updates.workers.values(), key=lambda s: s.worker))
        if updates.logs:
            self.log_pane.append(updates.logs)
        if updates.run is not None:
            self.status.show_run(updates.run)
        for decision in updates.memory:
            self.statusBar().showMessage(f"Memory: {decision.action} worker {decision.worker}: {decision.reason}", 8000)

    def _run_finished(self, summary: RunSummary) -> None:
        self.last_summary = summary
        self._end_run()
        self.status.set_state(summary.state)
        if self._quit_after_run:
            self.close()
            return
        self.summary_dialog = SummaryDialog(summary, desktop.open_path, self)
        self.summary_dialog.show()
        if not self.isActiveWindow() and QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.show()
            self.tray.showMessage("popool", _tray_text(summary), QApplication.windowIcon(), 10_000)

    def _run_crashed(self, message: str) -> None:
        self._end_run()
        self.status.set_state(RunState.FAILED)
        self.show_message(Level.ERROR, f"The run stopped on an internal error: {message}. See the log folder.")
        if self._quit_after_run:
            self.close()

    def _end_run(self) -> None:
        assert self.bridge is not None
        self.bridge.wait(10_000)
        self.apply_updates()
        self._poll.stop()
        self.bridge = None
        self._stop_deadline = None
        self.sign_in.hide()
        self.worker_view.set_commands_enabled(False)
        self._update_actions()

    def _auth_required(self, worker: int, po: str, headless: bool) -> None:
        self._sign_in_worker = worker
        if headless:
            self.sign_in.show_message(
                Level.WARNING,
                f"Sign-in needed: worker {worker} reached the portal's sign-in page at {po}. The browsers run "
                "headless, so nobody can sign in there. Turn off Headless in Settings, start once and sign in "
                "in the browser window, then run again.",
                action="Settings...",
                action_tip="Open the settings to turn off Headless",
            )
        else:
            self.sign_in.show_message(
                Level.WARNING,
                f"Sign-in needed: worker {worker} reached the portal's sign-in page at {po}. Sign in in worker "
                f"{worker}'s browser window, then press Resume.",
                action=f"Resume worker {worker}",
                action_tip="Tell the worker you have signed in; it checks and goes on",
            )

    def _sign_in_action(self) -> None:
        if self._sign_in_worker is None:
            return
        if self.sign_in.action.text().startswith("Resume"):
            self._resume(self._sign_in_worker)
        else:
            self.edit_settings()

    # ================================================================== PO actions

    def _output_dir(self) -> Path:
        return Path(self.settings.output_dir).expanduser().resolve()

    def _open_po_folder(self, row: int) -> None:
        folder = self.po_model.folder_of(row, self._output_dir())
        if folder is None:
            self.statusBar().showMessage("This PO has no folder yet", 5000)
            return
        try:
            folder = links.checked_folder(folder, self._output_dir())  # before exists(): that touches a UNC host
        except links.LinkRefusedError as exc:
            self.show_message(Level.WARNING, str(exc))
            return
        if not folder.exists():
            self.statusBar().showMessage("This PO has no folder yet", 5000)
            return
        desktop.open_path(folder)

    def _open_po_page(self, row: int) -> None:
        po = self.po_model.row(row)
        try:
            # The portal's profile gives the origin a PO address must have, and builds one a row lacks.
            portal = load_portal(self.settings.portal, self.settings.base_url)
            url = po.url or (portal.po_url_for(po.po_id) if po.po_id else "")
        except (PortalError, ValueError) as exc:
            self.show_message(Level.ERROR, f"Cannot build or check the PO's address: {exc}")
            return
        if not url:
            return
        try:
            desktop.open_url(links.checked_page_url(url, portal.base_url))
        except links.LinkRefusedError as exc:
            self.show_message(Level.WARNING, str(exc))

    def _retry_po(self, row: int) -> None:
        key = self.po_model.row(row).key
        if self.bridge is not None:
            self.bridge.controller.retry(key)
            return
        if self.batch is None:
            return
        # Between runs: mark it pending in the journal, so the next Start takes it.
        try:
            journal = Journal.open(self._output_dir(), self.batch)
        except (JournalMismatchError, OSError, sqlite3.Error) as exc:
            self.show_message(Level.ERROR, f"Cannot re-queue {key}: {exc}")
            return
        try:
            journal.reset(key)
        finally:
            journal.close()
        self.po_model.apply([PoResult(key=key, status=PoStatus.PENDING)])
        self.statusBar().showMessage(f"{key} will be processed at the next Start", 5000)

    # ================================================================== demo, messages, misc

    def try_demo(self, count: int = DEFAULT_COUNT) -> bool:
        """Start the demo portal and load a sample; False (with a message) when that could not be done."""
        if self.running:
            self.show_message(Level.WARNING, "A run is in progress: stop it before starting the demo.")
            return False
        # Starting the portal's process takes a moment (longer from a packaged .exe): show that something happens.
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            demo_settings, sample = self._demo.prepare(self.settings, count)
        except OSError as exc:
            self.show_message(Level.ERROR, f"The demo could not start: {exc}")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        # Demo settings are for this session only: the user's own portal settings stay in the file.
        self.settings = demo_settings
        self._persist = False
        if not self.load_file(sample):
            return False
        self.show_message(
            Level.INFO,
            f"Demo portal running at {self._demo.url} with {len(self.batch.records) if self.batch else 0} "
            "sample POs. Press Start to watch the workers download their attachments.",
        )
        return True

    def show_message(
        self, level: Level, text: str, action: str = "", callback: Callable[[], None] | None = None
    ) -> None:
        self._message_callback = callback
        self.messages.show_message(level, text, action)

    def _message_action(self) -> None:
        if self._message_callback is not None:
            self._message_callback()

    def _about(self) -> None:
        from popool_gui import __version__

        self.show_message(Level.INFO, f"popool {__version__}: bulk download of purchase-order attachments.")

    def _every_second(self) -> None:
        # The machine's RAM is shown between runs too: the user picks the worker count from it.
        pct = psutil.virtual_memory().percent
        self.status.ram.set_values(pct, self.settings.memory_threshold_pct)
        self.worker_model.set_system_memory(pct, self.settings.memory_threshold_pct)
        if self.running:
            self.worker_model.tick()
            self._update_stop_button()

    def _update_actions(self) -> None:
        running = self.running
        loaded = self.batch is not None
        self.start_button.setEnabled(loaded and not running)
        self.start_action.setEnabled(loaded and not running)
        self.start_button.setText("Start" if not self.last_summary else "Start again")
        self.stop_button.setEnabled(running)
        self.stop_action.setEnabled(running)
        self.change_output.setEnabled(not running)
        self.open_action.setEnabled(not running)
        self.demo_action.setEnabled(not running)
        self._update_stop_button()

    def _update_stop_button(self) -> None:
        if self._stop_deadline is None:
            self.stop_button.setText("Stop")
            return
        if not self.stop_button.isEnabled():
            return
        left = max(0, round(self._stop_deadline - time.monotonic()))
        self.stop_button.setText(f"Stopping... {left} s · Force stop")
        self.stop_button.setToolTip("Workers are finishing their current PO. Click to stop them at once")

    # ================================================================== window life

    def _restore_geometry(self) -> None:
        geometry = self._state.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1100, 760)
        splitter = self._state.splitter()
        if splitter is None or not self.splitter.restoreState(splitter):
            self.splitter.setSizes([200, 360, 160])

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.bridge is not None:
            event.ignore()
            if self._quit_after_run:
                self.stop_run()  # closing again while stopping: force it
                return
            choice = desktop.ask(
                self,
                "A run is in progress",
                "Stop the run and quit? Workers finish their current PO first (at most "
                f"{self.settings.shutdown_timeout_s:.0f} s); the rest stays PENDING for the next run.",
                ("Stop and quit", "Keep running"),
            )
            if choice == 0:
                self._quit_after_run = True
                self.stop_run()
            return
        self._state.save_window(self.saveGeometry(), self.splitter.saveState())
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


class InvalidRowsDialog(QDialog):
    """The rows whose PO value is unusable, with the reason for each."""

    def __init__(self, batch: Batch, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Invalid rows")
        table = QTableWidget(len(batch.invalid), 3)
        table.setHorizontalHeaderLabels(["Row", "Value", "Reason"])
        table.verticalHeader().hide()
        for i, problem in enumerate(batch.invalid):
            for j, text in enumerate((str(problem.row_number), problem.value, problem.reason)):
                table.setItem(i, j, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        note = QLabel("These rows are reported as INVALID_PO in the results file. Row numbers count data rows.")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(table)
        self.resize(560, 320)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'s' if count != 1 else ''}"


def _tray_text(summary: RunSummary) -> str:
    done = summary.counts.get(PoStatus.COMPLETED.value, 0)
    return f"{'Run stopped' if summary.stopped_early else 'Run finished'}: {done} of {summary.total} POs completed"
