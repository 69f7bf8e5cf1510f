"""Downloads of a browser on a Grid node: the Grid's managed downloads API brings each file to this machine.

A click downloads into the node's folder for the session, which popool cannot see. So the node's file list
(`get_downloadable_files`) takes the place of the local staging folder: a file counts once the browser reported it
complete (DevTools events, where the browser gives them) or, without those reports, once no file with a browser's
in-progress name is left. Then `download_file` fetches it, zipped, into the local staging folder under a name of
popool's own (the node's name is the portal's, so it is not trusted as a path), and the caller verifies its size
and files it exactly as a local download. `delete_downloadable_files` empties the node's folder between files and
POs, so no file of one PO is taken for another's.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.remote.command import Command
from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.browser.downloads import (
    STATE_CANCELED,
    STATE_COMPLETED,
    DownloadEvents,
    DownloadOutcome,
    IncompleteDownloadError,
    canceled_outcome,
    expiry_outcome,
    is_temp_name,
    this_download,
)

STAGED_PREFIX = "managed-"


def node_files(driver: WebDriver) -> set[str]:
    """The names in the node's download folder of this session."""
    return set(driver.execute(Command.GET_DOWNLOADABLE_FILES)["value"]["names"])


def clear_node_files(driver: WebDriver) -> None:
    """Empty the node's download folder of this session (a dead session's errors are left to the next call)."""
    with contextlib.suppress(WebDriverException):
        driver.execute(Command.DELETE_DOWNLOADABLE_FILES)


def fetch_node_file(driver: WebDriver, name: str, staging: Path) -> Path:
    """Bring the node's file `name` into `staging` under a name of popool's own; verified against the archive.

    Raises IncompleteDownloadError when the Grid's answer is not one whole file.
    """
    contents = driver.execute(Command.DOWNLOAD_FILE, {"name": name})["value"]["contents"]
    try:
        archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(contents, validate=True)))
    except (binascii.Error, zipfile.BadZipFile, ValueError) as exc:
        raise IncompleteDownloadError(f"{name}: the Grid sent no readable archive ({exc})") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) != 1:
            raise IncompleteDownloadError(f"{name}: the Grid's archive holds {len(members)} files, expected 1")
        member = members[0]
        staging.mkdir(parents=True, exist_ok=True)
        target = staging / f"{STAGED_PREFIX}{uuid.uuid4().hex}"
        try:
            with archive.open(member) as source, target.open("wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)  # zipfile checks the CRC at the end
            size = target.stat().st_size
            if size != member.file_size:
                raise IncompleteDownloadError(f"{name}: {size} bytes of {member.file_size} from the Grid")
        except (zipfile.BadZipFile, OSError, IncompleteDownloadError) as exc:
            with contextlib.suppress(OSError):
                target.unlink()
            if isinstance(exc, IncompleteDownloadError):
                raise
            raise IncompleteDownloadError(f"{name}: {exc}") from exc
    return target


def wait_for_managed_download(
    driver: WebDriver,
    staging: Path,
    before: set[str],
    deadline: float,
    *,
    poll_s: float = 0.1,
    events: DownloadEvents | None = None,
    fetch: Callable[[], list[dict[str, Any]]] | None = None,
    known: set[str] | None = None,
    start_deadline: float | None = None,
) -> DownloadOutcome:
    """`downloads.wait_for_download` for a browser on a Grid node: wait for the node's file, then fetch it.

    `before` holds the node's names before the click. The outcome's path is the fetched file in `staging`.
    """
    watching = events is not None and fetch is not None
    while True:
        mine = this_download(events, fetch, known or set())
        if mine is not None and mine.state == STATE_CANCELED:
            return canceled_outcome(mine)
        reported_done = mine is not None and mine.state == STATE_COMPLETED
        final_name = mine.suggested_name if mine is not None and reported_done else ""
        new = node_files(driver) - before
        unfinished = any(is_temp_name(n) and n.casefold() != final_name.casefold() for n in new)
        if new and not unfinished and (mine is None or reported_done):
            name = next((n for n in new if n.casefold() == final_name.casefold()), sorted(new)[0])
            try:
                path = fetch_node_file(driver, name, staging)
            except IncompleteDownloadError as exc:
                return DownloadOutcome(None, error=str(exc))
            clear_node_files(driver)
            if mine is None:
                return DownloadOutcome(path, suggested_name=name)
            return DownloadOutcome(
                path, expected_bytes=mine.total_bytes, guid=mine.guid, suggested_name=mine.suggested_name or name
            )
        idle = mine is None and not new
        expired = expiry_outcome(mine, watching=watching, idle=idle, deadline=deadline, start_deadline=start_deadline)
        if expired is not None:
            return expired
        time.sleep(poll_s)
