"""popool_gui.logs: JSON-lines files per process, rotation, context, redaction, what handlers see, console."""

from __future__ import annotations

import json
import logging
import threading
import warnings
from datetime import datetime
from pathlib import Path

import pytest
import structlog

from popool_gui import logs
from tests.log_capture import capture_logs


@pytest.fixture(autouse=True)
def _reset_logging():
    logs.clear_context()
    yield
    logs.clear_context()
    logs.shutdown()


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_writes_json_lines_with_context(tmp_path: Path) -> None:
    path = logs.configure("worker-3", log_dir=tmp_path)
    assert path == tmp_path / "worker-3.jsonl"
    log = structlog.get_logger()
    logs.bind_context(worker=3)
    log.info("idle")
    with structlog.contextvars.bound_contextvars(po="PO15262984", attempt=2):
        log.warning("po_slow", seconds=12.5)
    log.debug("hidden at info")
    flush()

    first, second = read_lines(path)
    assert first["event"] == "idle"
    assert first["level"] == "info"
    assert first["process"] == "worker-3"
    assert isinstance(first["pid"], int)
    assert first["worker"] == 3
    assert "po" not in first
    stamp = datetime.fromisoformat(first["timestamp"].replace("Z", "+00:00"))
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0
    assert second["event"] == "po_slow"
    assert second["level"] == "warning"
    assert (second["worker"], second["po"], second["attempt"], second["seconds"]) == (3, "PO15262984", 2, 12.5)


def test_one_file_per_process_name(tmp_path: Path) -> None:
    gui = logs.configure("gui", log_dir=tmp_path)
    structlog.get_logger().info("from_gui")
    cli = logs.configure("cli", log_dir=tmp_path)
    structlog.get_logger().info("from_cli")
    flush()
    assert [e["event"] for e in read_lines(gui)] == ["from_gui"]
    assert [e["event"] for e in read_lines(cli)] == ["from_cli"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.jsonl", "gui.jsonl"]


def test_log_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(tmp_path / "env-logs"))
    assert logs.log_dir() == tmp_path / "env-logs"
    path = logs.configure("gui")
    assert path == tmp_path / "env-logs" / "gui.jsonl"
    assert logs.log_dir() == tmp_path / "env-logs"
    explicit = logs.configure("gui", log_dir=tmp_path / "arg")
    assert explicit.parent == tmp_path / "arg" == logs.log_dir()


def test_configure_twice_does_not_duplicate(tmp_path: Path) -> None:
    root = logging.getLogger()
    logs.configure("gui", log_dir=tmp_path, console=True)
    count = len(root.handlers)
    path = logs.configure("gui", log_dir=tmp_path, console=True)
    assert len(root.handlers) == count
    with capture_logs(path) as seen:
        structlog.get_logger().info("once")
    flush()
    assert [e["event"] for e in read_lines(path)] == ["once"]
    assert seen.events() == ["once"]


def test_rotation_at_size_limit(tmp_path: Path) -> None:
    path = logs.configure("worker-1", log_dir=tmp_path, max_bytes=2_000, backup_count=2)
    log = structlog.get_logger()
    for i in range(200):
        log.info("filler", i=i, text="x" * 50)
    flush()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["worker-1.jsonl", "worker-1.jsonl.1", "worker-1.jsonl.2"]
    for name in files:
        assert (tmp_path / name).stat().st_size <= 2_000
        assert all(e["event"] == "filler" for e in read_lines(tmp_path / name))
    assert read_lines(path)[-1]["i"] == 199


def test_secrets_are_redacted(tmp_path: Path) -> None:
    path = logs.configure("gui", log_dir=tmp_path)
    with capture_logs(path) as seen:
        structlog.get_logger().info(
            "session",
            cookies=[{"name": "sid", "value": "abc123"}],
            Cookie="sid=abc123",
            password="hunter2",
            access_token="tok-1",
            client_secret="s3",
            headers={"Authorization": "Bearer xyz", "Accept": "text/html"},
            po="PO1",
        )
    flush()
    text = path.read_text(encoding="utf-8")
    for secret in ("abc123", "hunter2", "tok-1", 's3"', "Bearer xyz"):
        assert secret not in text
    (entry,) = read_lines(path)
    assert entry["cookies"] == logs.REDACTED
    assert entry["password"] == logs.REDACTED
    assert entry["headers"] == {"Authorization": logs.REDACTED, "Accept": "text/html"}
    assert entry["po"] == "PO1"
    assert seen.entries[0]["access_token"] == logs.REDACTED


def test_a_handler_sees_the_context_at_or_above_the_level(tmp_path: Path) -> None:
    path = logs.configure("gui", log_dir=tmp_path, level="info")
    log = structlog.get_logger()
    with capture_logs(path) as seen:
        with structlog.contextvars.bound_contextvars(worker=2, po="PO77", attempt=1):
            log.info("po_started", url="http://127.0.0.1/order_headers/77")
        log.debug("below level")
    log.info("after the handler left")

    (line,) = seen.entries
    assert (line["level"], line["event"], line["worker"], line["po"]) == ("info", "po_started", 2, "PO77")
    assert (line["attempt"], line["url"]) == (1, "http://127.0.0.1/order_headers/77")
    assert line["timestamp"]


def test_events_from_many_threads(tmp_path: Path) -> None:
    path = logs.configure("gui", log_dir=tmp_path)

    def work(n: int) -> None:
        logs.bind_context(worker=n)  # each thread has its own context
        for i in range(50):
            structlog.get_logger().info("tick", i=i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 5)]
    with capture_logs(path) as seen:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    flush()
    entries = read_lines(path)
    assert len(entries) == len(seen.entries) == 200
    assert {e["worker"] for e in entries} == {1, 2, 3, 4}
    assert all(line["worker"] in {1, 2, 3, 4} for line in seen.entries)


def test_stdlib_loggers_and_warnings_reach_the_file(tmp_path: Path) -> None:
    path = logs.configure("worker-2", log_dir=tmp_path, level="debug")
    logs.bind_context(worker=2)
    logging.getLogger("selenium.webdriver.remote").info("noise below warning")
    logging.getLogger("urllib3.connectionpool").debug("more noise")
    logging.getLogger("selenium.webdriver.remote").warning("driver said %s", "hello")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("deprecated thing", DeprecationWarning, stacklevel=1)
    flush()
    entries = read_lines(path)
    events = [e["event"] for e in entries]
    assert "driver said hello" in events
    assert not any("noise" in e for e in events)
    selenium = next(e for e in entries if e["event"] == "driver said hello")
    assert selenium["level"] == "warning"
    assert selenium["logger"] == "selenium.webdriver.remote"
    assert selenium["worker"] == 2
    assert selenium["process"] == "worker-2"
    assert any("deprecated thing" in e for e in events)


def test_exceptions_are_written(tmp_path: Path) -> None:
    path = logs.configure("cli", log_dir=tmp_path)
    with capture_logs(path) as seen:
        try:
            raise ValueError("boom")
        except ValueError:
            structlog.get_logger().exception("po_crashed", po="PO9")
    flush()
    (entry,) = read_lines(path)
    assert entry["level"] == "error"
    assert "ValueError: boom" in entry["exception"]
    assert "ValueError: boom" in seen.entries[0]["exception"]


def test_console_rendering_is_readable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("cli", log_dir=tmp_path, console=True)
    with structlog.contextvars.bound_contextvars(worker=1, po="PO42"):
        structlog.get_logger().warning("download_slow", seconds=3)
    err = capsys.readouterr().err
    line = err.strip().splitlines()[-1]
    assert "download_slow" in line
    assert "warning" in line
    assert "worker=1" in line and "po=PO42" in line and "seconds=3" in line
    assert "\x1b[" not in line  # no colours when stderr is not a terminal
    assert not line.startswith("{")


def test_json_console(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("cli", log_dir=tmp_path, json_console=True)
    structlog.get_logger().info("hello", n=1)
    entry = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (entry["event"], entry["n"], entry["process"]) == ("hello", 1, "cli")


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="log level"):
        logs.configure("gui", log_dir=tmp_path, level="loud")
    with pytest.raises(ValueError, match="process name"):
        logs.configure("../escape", log_dir=tmp_path)
