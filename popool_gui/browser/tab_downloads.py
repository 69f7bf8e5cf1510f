"""Downloads of several tabs at once, each file told apart by the browser's own report of it.

The local Chromium session downloads with CDP `Browser.setDownloadBehavior` `allowAndName`: every file lands in
the staging folder under its download's guid, never under a name a server chose, so two tabs downloading
`invoice.pdf` at the same moment cannot meet. `downloadWillBegin` names the frame that started each download;
a tab's top frame id is its window handle, so each download belongs to the tab whose click started it. A download
that a click started in a tab of its own (a link with target=_blank) carries that new tab's frame: it is taken
only by a tab that is the one waiting for a download, never guessed between two.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from popool_gui.browser.downloads import (
    STATE_CANCELED,
    STATE_COMPLETED,
    DownloadEvents,
    DownloadOutcome,
    DownloadProgress,
    canceled_outcome,
    expiry_outcome,
)
from popool_gui.browser.steps import Steps, Waiting


def download_of(events: DownloadEvents, tab: str, known: set[str], po_tabs: Collection[str]) -> DownloadProgress | None:
    """The download `tab`'s click started: the first new one from its own frame, or from a frame of no PO tab
    while `tab` is the only tab waiting for one."""
    alone = events.awaiting == {tab}
    for guid, progress in events.downloads.items():
        if guid in known:
            continue
        if progress.frame == tab or (alone and progress.frame and progress.frame not in po_tabs):
            return progress
    return None


def watch_download(
    events: DownloadEvents,
    fetch: Callable[[], list[dict[str, Any]]],
    staging: Path,
    *,
    tab: str,
    po_tabs: Collection[str],
    known: set[str],
    deadline: float,
    start_deadline: float,
) -> Steps[DownloadOutcome]:
    """Wait, one look per step, for the download a click in `tab` just started; `known`: the download ids seen
    before the click. The file counts once the browser reports it complete and it is on disk under its guid."""
    events.awaiting.add(tab)
    try:
        while True:
            events.feed(fetch())
            mine = download_of(events, tab, known, po_tabs)
            if mine is not None and mine.state == STATE_CANCELED:
                return canceled_outcome(mine)
            if mine is not None and mine.state == STATE_COMPLETED and (staging / mine.guid).is_file():
                return DownloadOutcome(
                    staging / mine.guid,
                    expected_bytes=mine.total_bytes,
                    guid=mine.guid,
                    suggested_name=mine.suggested_name,
                )
            expired = expiry_outcome(
                mine, watching=True, idle=mine is None, deadline=deadline, start_deadline=start_deadline
            )
            if expired is not None:
                return expired
            yield Waiting("downloading", anywhere=True)
    finally:
        events.awaiting.discard(tab)


def forget(staging: Path, guid: str) -> None:
    """Remove what is left in staging of one download (a file that failed its check, a canceled one's part)."""
    for name in (guid, f"{guid}.crdownload"):
        with contextlib.suppress(OSError):
            (staging / name).unlink()
