"""Logging for every popool process: structlog events as JSON lines, one rotated file per process.

    logs.configure("worker-1", level="info")      # once, first thing in a process
    logs.bind_context(worker=1)                   # every later event of this thread carries worker=1
    log = structlog.get_logger()
    log.info("po_done", po="PO123", status="COMPLETED")

Files: `<log_dir>/<process_name>.jsonl` (`gui.jsonl`, `cli.jsonl`, `worker-1.jsonl`...), rotated by size.
`log_dir()` is `platformdirs.user_log_dir("popool")`, overridden by `POPOOL_LOG_DIR` or the `log_dir` argument.
Each line: `timestamp` (ISO 8601, UTC), `level`, `event`, `process`, `pid`, `logger`, the bound context
(`worker`, `po`, `attempt`) and the event's own keys. Values of keys that look like secrets (cookies,
passwords, tokens, authorization headers) are replaced by `[redacted]` before anything is written, and so are the
query strings, fragments and `user:password@` parts of URLs in every text value (`popool_gui.redact`).

structlog goes through stdlib `logging` (`ProcessorFormatter`), so stdlib loggers (selenium, urllib3 at
WARNING and above, `warnings.warn` through `py.warnings`) land in the same file.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from popool_gui.redact import REDACTED, redact_urls
from popool_gui.settings import APP_NAME, LOG_LEVELS

LOG_DIR_ENV = "POPOOL_LOG_DIR"
FILE_SUFFIX = ".jsonl"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 3
# Chatty third-party loggers: only their warnings and errors reach the file.
QUIET_LOGGERS = ("selenium", "urllib3", "websocket", "trio", "asyncio")
CONTEXT_KEYS = ("worker", "po", "attempt")
_SECRET_KEY = re.compile(r"cookie|passw|token|secret|authori[sz]ation|api[_-]?key|credential", re.IGNORECASE)
_REDACT_DEPTH = 4


def log_dir() -> Path:
    """The folder of the current process's log file, or the default one before `configure()` ran."""
    if _state.directory is not None:
        return _state.directory
    return _default_log_dir()


def _default_log_dir() -> Path:
    override = os.environ.get(LOG_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


# ---------------------------------------------------------------------------------------------- processors


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Replace the values of secret-looking keys (cookie, password, token...) and the secret parts of URLs in
    text values, in nested mappings and lists too."""
    return _redact(event_dict, 0)


def _redact(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return redact_urls(value)
    if depth > _REDACT_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else _redact(v, depth + 1)
            for k, v in value.items()
        }
    if type(value) in (list, tuple):
        return type(value)(_redact(v, depth + 1) for v in value)
    return value


def _add_process(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    event_dict.setdefault("process", _state.process_name)
    event_dict.setdefault("pid", os.getpid())
    return event_dict


_FIRST_KEYS = ("timestamp", "level", "event", "process", "pid", *CONTEXT_KEYS)


def _order_keys(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Put the fixed keys first so a line reads well in a text editor."""
    first = {k: event_dict[k] for k in _FIRST_KEYS if k in event_dict}
    return {**first, **{k: v for k, v in event_dict.items() if k not in first}}


def _drop_console_noise(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    event_dict.pop("process", None)
    event_dict.pop("pid", None)
    return event_dict


def _shared_processors() -> list[Processor]:
    """Run on structlog events and on stdlib records alike."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_process,
        redact_secrets,
    ]


def _json_formatter(shared: list[Processor]) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,  # again: a formatted traceback may quote a URL
            _order_keys,
            structlog.processors.JSONRenderer(default=str, ensure_ascii=False),
        ],
    )


def _console_formatter(shared: list[Processor], stream: Any) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _drop_console_noise,
            structlog.dev.ConsoleRenderer(colors=_use_colors(stream)),
        ],
    )


def _use_colors(stream: Any) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
    if not tty:
        return False
    if sys.platform == "win32":  # structlog needs colorama for colours on Windows
        try:
            import colorama  # noqa: F401
        except ImportError:
            return False
    return True


# ---------------------------------------------------------------------------------------------- configure


class _State:
    """What configure() installed, so a second call replaces it instead of adding to it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.process_name = "popool"
        self.directory: Path | None = None
        self.handlers: list[logging.Handler] = []


_state = _State()


def configure(
    process_name: str,
    *,
    level: str = "info",
    console: bool = False,
    json_console: bool = False,
    log_dir: Path | None = None,
    max_bytes: int = MAX_BYTES,
    backup_count: int = BACKUP_COUNT,
) -> Path:
    """Send this process's logs to `<log_dir>/<process_name>.jsonl` (and stderr if asked); return that path.

    Calling it again replaces the earlier handlers (never duplicates them). `console` renders readable lines on
    stderr, `json_console` JSON lines (it wins when both are set).
    """
    level_name = _level_name(level)
    path = _log_path(process_name, log_dir)

    with _state.lock:
        _remove_handlers()
        _state.process_name = process_name
        _state.directory = path.parent

        shared = _shared_processors()
        handlers = _handlers(path, shared, console, json_console, max_bytes, backup_count)
        _install_handlers(handlers, level_name)
        _state.handlers = handlers
        _configure_structlog(shared)
    return path


def _level_name(level: str) -> str:
    level_name = level.strip().lower()
    if level_name not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    return level_name


def _log_path(process_name: str, log_dir: Path | None) -> Path:
    """The process's log file in `log_dir` (or the default folder), the folder made if missing."""
    if not process_name or re.search(r"[\\/:*?\"<>|]", process_name):
        raise ValueError(f"process name must be a plain file name, not {process_name!r}")
    directory = Path(log_dir) if log_dir is not None else _default_log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{process_name}{FILE_SUFFIX}"


def _handlers(
    path: Path, shared: list[Processor], console: bool, json_console: bool, max_bytes: int, backup_count: int
) -> list[logging.Handler]:
    """The rotating JSON file and, if asked, stderr (JSON or readable)."""
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
    )
    file_handler.setFormatter(_json_formatter(shared))
    handlers: list[logging.Handler] = [file_handler]
    if console or json_console:
        stream = sys.stderr
        console_handler = logging.StreamHandler(stream)
        console_handler.setFormatter(_json_formatter(shared) if json_console else _console_formatter(shared, stream))
        handlers.append(console_handler)
    return handlers


def _install_handlers(handlers: list[logging.Handler], level_name: str) -> None:
    root = logging.getLogger()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level_name.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)


def _configure_structlog(shared: list[Processor]) -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        context_class=dict,
        cache_logger_on_first_use=False,
    )


def _remove_handlers() -> None:
    root = logging.getLogger()
    for handler in _state.handlers:
        root.removeHandler(handler)
        handler.close()
    _state.handlers = []


def shutdown() -> None:
    """Close this process's log handlers and reset structlog (tests, end of a process)."""
    with _state.lock:
        _remove_handlers()
        logging.captureWarnings(False)
        _state.directory = None
        structlog.reset_defaults()


# ---------------------------------------------------------------------------------------------- context


def bind_context(**values: Any) -> None:
    """Bind keys (`worker`, `po`, `attempt`...) to every later event of the current thread/context."""
    structlog.contextvars.bind_contextvars(**values)


def clear_context() -> None:
    structlog.contextvars.clear_contextvars()
