"""The rows whose PO value is unusable, with the reason for each (from the batch summary's link)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from popool_gui.batch.model import Batch


class InvalidRowsDialog(QDialog):
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
