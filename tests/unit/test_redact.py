"""Issue 12 point 9: URL query strings, fragments and `user:password@` parts never reach logs or messages."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest
import structlog

from popool_gui import logs
from popool_gui.batch.input import read_batch
from popool_gui.batch.journal import Journal
from popool_gui.batch.model import PoResult, PoStatus
from popool_gui.browser.backend_choice import build_driver
from popool_gui.browser.errors import BrowserStartError
from popool_gui.redact import REDACTED, redact_urls
from popool_gui.settings import BrowserKind, Settings
from tests.log_capture import capture_logs

TOKEN = "tok-5ecret"
SIGNED = f"https://files.example.com/a/scan.pdf?X-Amz-Signature={TOKEN}&exp=1#access_token={TOKEN}"


@pytest.fixture(autouse=True)
def _reset_logging():
    yield
    logs.clear_context()
    logs.shutdown()


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        (
            f"failed: {SIGNED} (timeout)",
            f"failed: https://files.example.com/a/scan.pdf?{REDACTED}#{REDACTED} (timeout)",
        ),
        ("grid http://ann:pa55@127.0.0.1:4444/wd/hub down", f"grid http://{REDACTED}@127.0.0.1:4444/wd/hub down"),
        ("HTTPS://a@b:c@host/x?", f"HTTPS://{REDACTED}@host/x?"),
        ("'http://x/p?q=1'", f"'http://x/p?{REDACTED}'"),
        ("http://host/plain/path@not-userinfo", "http://host/plain/path@not-userinfo"),
        ("no address at all ?a=b", "no address at all ?a=b"),
        (f"Grid at http://g/wd/hub?key={TOKEN}: refused.", f"Grid at http://g/wd/hub?{REDACTED}: refused."),
        (
            f"Max retries exceeded with url: /wd/hub?key={TOKEN}/session (x)",
            f"Max retries exceeded with url: /wd/hub?{REDACTED} (x)",
        ),
        ("C:/data/a.txt and ./rel/b?c", "C:/data/a.txt and ./rel/b?c"),
    ],
)
def test_redact_urls(text: str, redacted: str) -> None:
    assert redact_urls(text) == redacted
    assert redact_urls(redacted) == redacted


def test_urls_in_every_log_field_are_redacted(tmp_path: Path) -> None:
    path = logs.configure("worker-1", log_dir=tmp_path)
    log = structlog.get_logger()
    with capture_logs(path) as seen:
        log.info("requisition_fallback", url=SIGNED, chain=[SIGNED, {"next": SIGNED}])
        try:
            raise OSError(f"cannot open {SIGNED}")
        except OSError:
            log.exception("po_crashed")
        logging.getLogger("urllib3").warning("Retrying %s", SIGNED)  # a stdlib record
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["url"] == f"https://files.example.com/a/scan.pdf?{REDACTED}#{REDACTED}"
    assert "cannot open https://files.example.com/a/scan.pdf" in lines[1]["exception"]
    assert all(TOKEN not in repr(line) for line in seen.entries) and len(seen.entries) == 3


def test_error_messages_in_the_journal_and_results_are_redacted(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("PO_NUMBER\nPO100001\nPO100002\n", encoding="utf-8")
    with Journal.open(tmp_path / "out", read_batch(source)) as journal:
        journal.record(PoResult(key="PO100001", status=PoStatus.PARTIAL, error=f"missing: scan.pdf ({SIGNED})"))
        journal.requeue("PO100002", f"sign-in required at {SIGNED}", 1)
        assert TOKEN not in journal.result("PO100001").error
        assert journal.result("PO100001").error.startswith("missing: scan.pdf (https://files.example.com/a/scan.pdf?")
        assert TOKEN not in journal.result("PO100002").error


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_start_error_never_echoes_the_grid_password(tmp_path: Path) -> None:
    """A real connection attempt to a Grid address on loopback that nothing listens on."""
    grid = f"http://ann:pa55w0rd@127.0.0.1:{_closed_port()}/wd/hub?key={TOKEN}"
    settings = Settings().replace(browser=BrowserKind.CHROMIUM, grid_url=grid, start_timeout_s=5.0)
    with pytest.raises(BrowserStartError) as caught:
        build_driver(settings, staging_dir=tmp_path, user_data_dir=None)
    message = str(caught.value)
    assert "pa55w0rd" not in message and TOKEN not in message
    assert f"http://{REDACTED}@127.0.0.1:" in message
