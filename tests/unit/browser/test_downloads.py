"""Staging helpers with fake files: temp suffixes, stable sizes, browser events, verified moves."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from popool_gui.browser.downloads import (
    TEMP_SUFFIXES,
    DownloadEvents,
    IncompleteDownloadError,
    clear_staging,
    disposition_filename,
    is_temp_name,
    move_verified,
    staged_names,
    wait_for_download,
)


def later(seconds: float, action) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def event(method: str, **params) -> dict:
    return {"message": json.dumps({"message": {"method": method, "params": params}})}


@pytest.mark.parametrize("suffix", TEMP_SUFFIXES)
def test_temp_names(suffix):
    assert is_temp_name(f"invoice.pdf{suffix}")
    assert is_temp_name(f"INVOICE.PDF{suffix.upper()}")
    assert not is_temp_name("invoice.pdf")
    assert is_temp_name(".com.google.Chrome.abc123")
    assert is_temp_name(".org.chromium.Chromium.CwpGCr")


def test_returns_a_new_final_file(tmp_path):
    (tmp_path / "old.pdf").write_bytes(b"old")
    before = staged_names(tmp_path)
    later(0.2, lambda: (tmp_path / "new.pdf").write_bytes(b"new"))
    found = wait_for_download(tmp_path, before, time.monotonic() + 5).path
    assert found == tmp_path / "new.pdf"


def test_waits_while_a_temp_file_remains(tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"placeholder")
    (tmp_path / "a.pdf.crdownload").write_bytes(b"partial")
    started = time.monotonic()
    later(0.5, lambda: (tmp_path / "a.pdf.crdownload").unlink())
    found = wait_for_download(tmp_path, set(), time.monotonic() + 5).path
    assert found == tmp_path / "a.pdf"
    assert time.monotonic() - started >= 0.5


def test_waits_until_the_size_is_stable(tmp_path):
    target = tmp_path / "growing.bin"
    stop = threading.Event()

    def grow() -> None:
        for _ in range(8):
            with target.open("ab") as f:
                f.write(b"x" * 100)
            if stop.wait(0.05):
                return

    writer = threading.Thread(target=grow)
    writer.start()
    found = wait_for_download(tmp_path, set(), time.monotonic() + 5, poll_s=0.2).path
    writer.join()
    assert found == target
    assert target.stat().st_size == 800


def test_deadline_returns_none(tmp_path):
    (tmp_path / "x.pdf.part").write_bytes(b"never finishes")
    started = time.monotonic()
    assert wait_for_download(tmp_path, set(), time.monotonic() + 0.3).path is None
    assert 0.3 <= time.monotonic() - started < 2


def test_missing_staging_folder_is_empty(tmp_path):
    assert staged_names(tmp_path / "nope") == set()


def test_events_are_parsed_from_the_performance_log():
    events = DownloadEvents()
    events.feed(
        [
            event("Page.downloadWillBegin", guid="g1", url="http://x/f/1", suggestedFilename="a.pdf"),
            event("Page.downloadProgress", guid="g1", state="inProgress", receivedBytes=5, totalBytes=10),
            event("Page.frameNavigated", frame={}),
            {"message": "not json"},
            {"nothing": 1},
            event("Browser.downloadProgress", guid="g1", state="completed", receivedBytes=10, totalBytes=10),
        ]
    )
    progress = events.downloads["g1"]
    assert (progress.suggested_name, progress.state, progress.total_bytes) == ("a.pdf", "completed", 10)
    assert events.started_since({"g1"}) == []


def test_a_canceled_download_ends_the_wait_at_once(tmp_path):
    feed = [
        [event("Page.downloadWillBegin", guid="g2", url="u", suggestedFilename="t.pdf")],
        [event("Page.downloadProgress", guid="g2", state="canceled", receivedBytes=0, totalBytes=100)],
    ]
    started = time.monotonic()
    outcome = wait_for_download(
        tmp_path, set(), time.monotonic() + 30, events=DownloadEvents(), fetch=lambda: feed.pop(0) if feed else []
    )
    assert outcome.path is None and "failed" in outcome.error
    assert outcome.expected_bytes == 100
    assert outcome.canceled and outcome.suggested_name == "t.pdf"
    assert time.monotonic() - started < 2


def test_a_completed_download_reports_its_announced_size(tmp_path):
    def fetch() -> list[dict]:
        (tmp_path / "f.pdf").write_bytes(b"12345")
        return [
            event("Page.downloadWillBegin", guid="g3", url="u", suggestedFilename="f.pdf"),
            event("Page.downloadProgress", guid="g3", state="completed", receivedBytes=5, totalBytes=5),
        ]

    outcome = wait_for_download(tmp_path, set(), time.monotonic() + 5, events=DownloadEvents(), fetch=fetch)
    assert outcome.path == tmp_path / "f.pdf"
    assert outcome.expected_bytes == 5 and outcome.guid == "g3"
    assert outcome.suggested_name == "f.pdf" and not outcome.canceled


def test_a_guid_named_download_keeps_the_servers_name(tmp_path):
    """With CDP's allowAndName behaviour the staged file is the GUID; the server's name comes from the events."""

    def fetch() -> list[dict]:
        (tmp_path / "g4").write_bytes(b"abc")
        return [
            event("Page.downloadWillBegin", guid="g4", url="u", suggestedFilename="Relatório – São.xlsx"),
            event("Page.downloadProgress", guid="g4", state="completed", receivedBytes=3, totalBytes=3),
        ]

    outcome = wait_for_download(tmp_path, set(), time.monotonic() + 5, events=DownloadEvents(), fetch=fetch)
    assert outcome.path == tmp_path / "g4" and outcome.suggested_name == "Relatório – São.xlsx"


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("attachment; filename=\"Relat_rio.xlsx\"; filename*=UTF-8''Relat%C3%B3rio.xlsx", "Relatório.xlsx"),
        ("attachment; filename*=UTF-8''a%20b.pdf; filename=\"a b.pdf\"", "a b.pdf"),
        ("attachment; filename*=iso-8859-1'en'caf%E9.txt", "café.txt"),
        ('attachment; filename="plain.pdf"', "plain.pdf"),
        ("attachment; filename=bare.pdf", "bare.pdf"),
        ("attachment; filename*=UTF-8''..%2F..%2Fevil.txt", "../../evil.txt"),  # sanitising is the layout's job
        ("attachment; filename*=bogus-charset''x.pdf; filename=\"fallback.pdf\"", "fallback.pdf"),
        ("inline", ""),
        ("", ""),
    ],
)
def test_disposition_filename_prefers_the_exact_name(header, name):
    assert disposition_filename(header) == name


def test_an_older_download_is_not_taken_for_the_new_one(tmp_path):
    events = DownloadEvents()
    events.feed([event("Page.downloadWillBegin", guid="old", url="u", suggestedFilename="o.pdf")])
    outcome = wait_for_download(
        tmp_path,
        set(),
        time.monotonic() + 0.4,
        events=events,
        fetch=lambda: [event("Page.downloadProgress", guid="old", state="canceled")],
        known={"old"},
    )
    assert outcome.path is None
    assert outcome.error == "the click started no download"


def test_no_download_started_ends_at_the_start_deadline(tmp_path):
    started = time.monotonic()
    outcome = wait_for_download(
        tmp_path,
        set(),
        time.monotonic() + 30,
        events=DownloadEvents(),
        fetch=list,
        start_deadline=time.monotonic() + 0.3,
    )
    assert outcome.error == "the click started no download"
    assert time.monotonic() - started < 2


def test_an_unfinished_download_is_reported_in_progress(tmp_path):
    (tmp_path / "big.bin.crdownload").write_bytes(b"x")
    events = DownloadEvents()
    outcome = wait_for_download(
        tmp_path,
        set(),
        time.monotonic() + 0.3,
        events=events,
        fetch=lambda: [event("Page.downloadProgress", guid="g4", state="inProgress", totalBytes=9)],
    )
    assert outcome.path is None and outcome.in_progress and outcome.guid == "g4"


def test_clear_staging_removes_everything(tmp_path):
    (tmp_path / "a.crdownload").write_bytes(b"x")
    (tmp_path / "b.pdf").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c").write_bytes(b"x")
    assert clear_staging(tmp_path) == ["a.crdownload", "b.pdf", "sub"]
    assert staged_names(tmp_path) == set()


def test_move_verified_moves_and_returns_the_size(tmp_path):
    src = tmp_path / "staging" / "a.pdf"
    src.parent.mkdir()
    src.write_bytes(b"%PDF-1.4 hello")
    dest = tmp_path / "out" / "deep" / "PO1_a.pdf"
    assert move_verified(src, dest, expected_bytes=14) == 14
    assert dest.read_bytes() == b"%PDF-1.4 hello" and not src.exists()


@pytest.mark.parametrize(
    ("name", "data", "expected", "why"),
    [
        ("empty.pdf", b"", 0, "empty"),
        ("short.pdf", b"abc", 10, "3 bytes of 10"),
    ],
)
def test_move_verified_refuses_incomplete_files(tmp_path, name, data, expected, why):
    src = tmp_path / name
    src.write_bytes(data)
    with pytest.raises(IncompleteDownloadError, match=why):
        move_verified(src, tmp_path / "out" / "x", expected_bytes=expected)
    assert src.exists()
    assert not (tmp_path / "out" / "x").exists()


def test_move_verified_works_across_file_systems(tmp_path, monkeypatch):
    import os

    src = tmp_path / "a.bin"
    src.write_bytes(b"data")

    def no_rename(a, b):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "rename", no_rename)
    dest = tmp_path / "other" / "a.bin"
    assert move_verified(src, dest) == 4
    assert dest.read_bytes() == b"data" and not src.exists()


# -- issue 12 point 7: temp-like attachment names ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["scan.TMP", "minutes.partial", "offer.download", "notes.tmp"])
def test_names_that_only_look_temporary_are_final_files(tmp_path, name):
    later(0.1, lambda: (tmp_path / name).write_bytes(b"done"))
    assert wait_for_download(tmp_path, set(), time.monotonic() + 5).path == tmp_path / name


@pytest.mark.parametrize("name", ["x.part", "w.crdownload"])
def test_a_download_the_browser_reports_complete_is_final_whatever_its_name(tmp_path, name):
    def fetch() -> list[dict]:
        (tmp_path / name).write_bytes(b"12345")
        return [
            event("Page.downloadWillBegin", guid="g7", url="u", suggestedFilename=name),
            event("Browser.downloadProgress", guid="g7", state="completed", receivedBytes=5, totalBytes=5),
        ]

    started = time.monotonic()
    outcome = wait_for_download(tmp_path, set(), time.monotonic() + 5, events=DownloadEvents(), fetch=fetch)
    assert outcome.path == tmp_path / name and time.monotonic() - started < 2
    dest = tmp_path / "out" / f"PO1_{name}"
    assert move_verified(outcome.path, dest, outcome.expected_bytes) == 5


def test_a_reported_completion_still_waits_for_the_browsers_rename(tmp_path):
    """Chromium may report completion a moment before `x.pdf.crdownload` becomes `x.pdf`."""
    (tmp_path / "x.pdf.crdownload").write_bytes(b"12345")
    later(0.5, lambda: (tmp_path / "x.pdf.crdownload").rename(tmp_path / "x.pdf"))
    reports = [
        event("Page.downloadWillBegin", guid="g8", url="u", suggestedFilename="x.pdf"),
        event("Browser.downloadProgress", guid="g8", state="completed", receivedBytes=5, totalBytes=5),
    ]
    outcome = wait_for_download(
        tmp_path,
        set(),
        time.monotonic() + 5,
        events=DownloadEvents(),
        fetch=lambda: [reports.pop(0)] if reports else [],
    )
    assert outcome.path == tmp_path / "x.pdf"


# -- issue 12 point 6: no partial file under a real name ------------------------------------------------------

_FAILING_COPY = """
import resource, signal, sys
from pathlib import Path
from popool_gui.browser.downloads import move_verified
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG, like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), resource.RLIM_INFINITY))
try:
    move_verified(Path(sys.argv[1]), Path(sys.argv[2]))
except OSError as exc:
    print(f"failed: {exc}")
"""


def test_a_failed_copy_across_file_systems_leaves_no_file_under_the_real_name(tmp_path):
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another file system than the test's folder")

    with tempfile.TemporaryDirectory(dir=shm) as staging:
        src = Path(staging) / "big.pdf"
        src.write_bytes(b"x" * 1_000_000)
        dest = tmp_path / "PO1_COMPLETED" / "PO1_big.pdf"
        done = subprocess.run(
            [sys.executable, "-c", _FAILING_COPY, str(src), str(dest), "200000"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.stdout.startswith("failed:"), done.stdout + done.stderr
        assert not dest.exists(), "a truncated copy must not sit under the real name"
        assert list(dest.parent.iterdir()) == [], "the temporary copy is removed"
        assert src.stat().st_size == 1_000_000, "the download stays in staging for a retry"

        done = subprocess.run([sys.executable, "-c", _FAILING_COPY, str(src), str(dest), "10000000"], timeout=60)
        assert dest.read_bytes() == b"x" * 1_000_000 and not src.exists()
