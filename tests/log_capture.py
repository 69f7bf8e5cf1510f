"""What a log handler receives once `popool_gui.logs.configure()` has run, for tests that assert on it.

    path = logs.configure("gui", log_dir=tmp_path)
    with capture_logs(path) as captured:
        structlog.get_logger().info("po_started", po="PO1")
    assert captured.entries[0]["event"] == "po_started"

`capture_logs` adds a handler to the root logger beside the ones `configure()` installed, so it sees every
record at or above the configured level, from structlog and stdlib loggers alike. Each record is rendered with
the formatter of the process's own log file (found among the root logger's handlers, so exactly what popool set
up) and kept as the dict that line would be.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class LogCapture(logging.Handler):
    """Keeps each record it is handed, rendered as popool's log file would render it, in `entries`."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(formatter)
        self.entries: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:  # handle() holds the handler's lock: threads may log
        self.entries.append(json.loads(self.format(record)))

    def events(self) -> list[str]:
        return [entry["event"] for entry in self.entries]


def _file_formatter(log_file: Path) -> logging.Formatter:
    wanted = os.path.abspath(log_file)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler) and handler.baseFilename == wanted and handler.formatter:
            return handler.formatter
    raise LookupError(f"no handler writes {log_file}: run logs.configure() first")


@contextmanager
def capture_logs(log_file: Path) -> Iterator[LogCapture]:
    """A `LogCapture` on the root logger while the block runs; `log_file` is what `logs.configure()` returned."""
    capture = LogCapture(_file_formatter(log_file))
    root = logging.getLogger()
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
