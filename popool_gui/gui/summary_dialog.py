"""The end-of-run summary: counts per status, time and rate, with the output folder and results file a click away."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from popool_gui.batch.model import PoStatus, RunSummary
from popool_gui.duration import format_duration
from popool_gui.gui.theme import chip_style
from popool_gui.status_colours import PO_STATUS_COLOURS


class SummaryDialog(QDialog):
    def __init__(self, summary: RunSummary, open_path: Callable[[Path], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("popool: run summary")
        self.summary = summary
        title = QLabel(f"<h3>{summary.headline}</h3>")
        figures = QLabel(
            f"{summary.processed_this_run} POs processed in {format_duration(summary.elapsed_s)} "
            f"({summary.rate_per_min:.1f} per minute); {summary.total} POs in the file."
        )
        figures.setWordWrap(True)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        shown = [(PoStatus(s), n) for s, n in summary.counts.items() if n]
        shown.sort(key=lambda item: list(PoStatus).index(item[0]))
        for row, (status, count) in enumerate(shown):
            chip = QLabel(str(status))
            chip.setStyleSheet(chip_style(PO_STATUS_COLOURS[status]))
            number = QLabel(str(count))
            grid.addWidget(chip, row, 0)
            grid.addWidget(number, row, 1)
        grid.setColumnStretch(2, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(figures)
        if summary.message:
            message = QLabel(summary.message)
            message.setWordWrap(True)
            layout.addWidget(message)
        layout.addLayout(grid)
        where = QLabel(f"Output: {summary.output_dir}")
        where.setWordWrap(True)
        layout.addWidget(where)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.open_folder = QPushButton("Open folder")
        self.open_folder.setToolTip(summary.output_dir)
        self.open_folder.clicked.connect(lambda: open_path(Path(summary.output_dir)))
        buttons.addButton(self.open_folder, QDialogButtonBox.ButtonRole.ActionRole)
        self.open_results = QPushButton("Open results")
        results = self.results_file()
        self.open_results.setEnabled(results is not None)
        self.open_results.setToolTip(str(results) if results else "No results file was written")
        self.open_results.clicked.connect(lambda: results and open_path(results))
        buttons.addButton(self.open_results, QDialogButtonBox.ButtonRole.ActionRole)
        self.open_report = self._report_button(open_path)
        buttons.addButton(self.open_report, QDialogButtonBox.ButtonRole.ActionRole)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
        if self.open_report.isEnabled():
            self.open_report.setFocus()  # the page most people want next: Enter opens it

    def _report_button(self, open_path: Callable[[Path], object]) -> QPushButton:
        button = QPushButton("Open report")
        report = Path(self.summary.report_file) if self.summary.report_file else None
        button.setEnabled(report is not None)
        button.setToolTip(
            f"{report}: a page to hand on, with the counts, the charts and every PO not completed"
            if report
            else "The run report could not be written (see the log)"
        )
        button.clicked.connect(lambda: report and open_path(report))
        return button

    def results_file(self) -> Path | None:
        """The Excel copy when there is one: that is what users open."""
        files = [Path(f) for f in self.summary.results_files]
        files.sort(key=lambda p: p.suffix != ".xlsx")
        return files[0] if files else None
