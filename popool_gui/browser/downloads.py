"""The per-worker staging folder: knowing when a browser download is complete, and moving it out verified.

A download counts only when its final file is on disk: the browser reported it complete (or, without its
reports, no file with a browser's in-progress name is left), size stable over two polls, and, when the browser
reported a Content-Length, exactly that size. Chromium browsers also report download
progress as DevTools events in the performance log; when those are available a failed download (for example
a truncated response: Chromium retries, then cancels) is recognised at once instead of at the deadline.
With the `direct_download` setting, plain attachment links are fetched over HTTP with the session's cookies
(`fetch_direct`), verified against Content-Length; the browser click stays the fallback. Those cookies go into a
jar that scopes them as the browser does, and never past a redirect to another origin.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from popool_gui.batch.layout import long_path, plain_path
from popool_gui.redact import redact_urls

# The names browsers give a file they are still writing: Chromium and Edge `.crdownload`, Firefox `.part`.
# Other "temporary" endings (`.tmp`, `.partial`, `.download`) are ordinary attachment names: a real `scan.TMP`
# is a finished file.
TEMP_SUFFIXES: tuple[str, ...] = (".crdownload", ".part")

MOVE_TEMP_PREFIX = ".popool-move-"  # a copy into a PO folder before it is complete

# DevTools states of Page/Browser.downloadProgress.
STATE_IN_PROGRESS = "inProgress"
STATE_COMPLETED = "completed"
STATE_CANCELED = "canceled"


class IncompleteDownloadError(ValueError):
    """A file that must not be counted as downloaded (empty, temporary, or not the announced size)."""


class DiskFullError(OSError):
    """The output folder's disk has no room for a file and the reserve that keeps the journal and the results
    writable. `needed` is the free space, in bytes, that would let the file go in."""

    def __init__(self, folder: Path, needed: int, free: int) -> None:
        folder = plain_path(folder)  # the user's form, not Windows' extended one
        super().__init__(
            errno.ENOSPC,
            f"the disk is full: {folder} has {free / MIB:.1f} MB free and needs {needed / MIB:.1f} MB",
        )
        self.folder = folder
        self.needed = needed

    def __str__(self) -> str:
        return str(self.strerror)  # the sentence alone, without OSError's "[Errno 28]"


MIB = 1024 * 1024
# Room kept free on the output folder's disk for the journal, the results files and the report: a download that
# would eat into it waits for space instead, so popool's own records never meet a full disk.
DISK_RESERVE_BYTES = 32 * MIB


# Chrome and Edge write `.com.google.Chrome.XXXXXX` first; Linux builds of Chromium `.org.chromium.Chromium.XXXXXX`
# (seen on a Grid node: listed before the browser renamed it).
TEMP_PREFIXES: tuple[str, ...] = (".com.google.chrome.", ".org.chromium.chromium.")


def is_temp_name(name: str) -> bool:
    """A name a browser uses while it writes a download; a finished download may carry one too (`x.part`),
    which only the browser's own report of the download tells."""
    lowered = name.lower()
    return lowered.endswith(TEMP_SUFFIXES) or lowered.startswith(TEMP_PREFIXES)


def staged_names(staging: Path) -> set[str]:
    with contextlib.suppress(FileNotFoundError):
        return {entry.name for entry in os.scandir(staging)}
    return set()


@dataclass(slots=True)
class DownloadProgress:
    """What the browser said about one download."""

    guid: str
    url: str = ""
    suggested_name: str = ""
    frame: str = ""  # the frame that started it: a tab's top frame id is that tab's window handle
    state: str = STATE_IN_PROGRESS
    received_bytes: int = 0
    total_bytes: int = 0  # the Content-Length; 0 when the server did not send one


class DownloadEvents:
    """Download state rebuilt from Chromium performance-log entries (`driver.get_log("performance")`)."""

    def __init__(self) -> None:
        self.downloads: dict[str, DownloadProgress] = {}
        # Tabs (window handles) waiting for the download a click of theirs started (browser/tab_downloads.py).
        self.awaiting: set[str] = set()

    def feed(self, entries: Iterable[dict[str, Any]]) -> None:
        for entry in entries:
            try:
                message = json.loads(entry["message"])["message"]
                method, params = message["method"], message["params"]
            except (KeyError, TypeError, ValueError):
                continue
            kind = method.split(".", 1)[-1]
            if kind not in ("downloadWillBegin", "downloadProgress") or "guid" not in params:
                continue
            progress = self.downloads.setdefault(params["guid"], DownloadProgress(guid=params["guid"]))
            if kind == "downloadWillBegin":
                progress.url = params.get("url", progress.url)
                progress.suggested_name = params.get("suggestedFilename", progress.suggested_name)
                progress.frame = params.get("frameId", progress.frame)
            else:
                progress.state = params.get("state", progress.state)
                progress.received_bytes = int(params.get("receivedBytes", progress.received_bytes) or 0)
                progress.total_bytes = int(params.get("totalBytes", progress.total_bytes) or 0)

    def started_since(self, known: set[str]) -> list[DownloadProgress]:
        return [p for guid, p in self.downloads.items() if guid not in known]


@dataclass(frozen=True, slots=True)
class DownloadOutcome:
    path: Path | None
    error: str = ""  # why there is no file
    expected_bytes: int = 0  # the size the browser announced; 0 when unknown
    guid: str = ""  # the browser's id of the download, when events were available
    in_progress: bool = False  # the browser was still downloading at the deadline
    # The server's name for the file, as the browser reported it; the staged file may carry another name
    # (a GUID with CDP's "allowAndName" download behaviour, or "name (1).ext" after a clash).
    suggested_name: str = ""
    canceled: bool = False  # the browser itself gave up (network error, truncated body, a name it cannot store)


def wait_for_download(
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
    """Wait for the download a click just started: the first new final file in `staging`, once no temp file
    remains and its size held over two polls. `deadline` is a `time.monotonic()` value; `events`/`fetch` add the
    browser's own progress reports.

    `known` holds the download ids seen before the click, so an older download finishing late is not taken
    for this one. With events, a click that starts no download by `start_deadline` ends the wait early.
    """
    known = known or set()
    last_sizes: dict[str, int] = {}
    watching = events is not None and fetch is not None
    while True:
        mine = this_download(events, fetch, known)
        if mine is not None and mine.state == STATE_CANCELED:
            return canceled_outcome(mine)
        # Once the browser reports this download complete, a file under the server's name is final even when
        # that name looks like a browser's temp name (an attachment called `x.part`).
        reported_done = mine is not None and mine.state == STATE_COMPLETED
        final_name = mine.suggested_name if mine is not None and reported_done else ""
        found = _settled_file(staging, before, last_sizes, final_name=final_name)
        browser_done = mine is None or reported_done
        if found is not None and browser_done:
            if mine is None:
                return DownloadOutcome(found)
            return DownloadOutcome(
                found, expected_bytes=mine.total_bytes, guid=mine.guid, suggested_name=mine.suggested_name
            )
        idle = mine is None and not (staged_names(staging) - before)
        expired = expiry_outcome(mine, watching=watching, idle=idle, deadline=deadline, start_deadline=start_deadline)
        if expired is not None:
            return expired
        time.sleep(poll_s)


def this_download(
    events: DownloadEvents | None, fetch: Callable[[], list[dict[str, Any]]] | None, known: set[str]
) -> DownloadProgress | None:
    """The download the click started, after feeding the browser's latest reports; None without reports."""
    if events is None or fetch is None:
        return None
    events.feed(fetch())
    started = events.started_since(known)
    return started[0] if started else None


def canceled_outcome(mine: DownloadProgress) -> DownloadOutcome:
    return DownloadOutcome(
        None,
        error="download failed in the browser (network error or truncated response)",
        expected_bytes=mine.total_bytes,
        guid=mine.guid,
        suggested_name=mine.suggested_name,
        canceled=True,
    )


def expiry_outcome(
    mine: DownloadProgress | None, *, watching: bool, idle: bool, deadline: float, start_deadline: float | None
) -> DownloadOutcome | None:
    """The outcome of a wait whose time is up, or None while it may go on.

    `idle`: no report and no new file yet. With the browser's reports, a click that started nothing by
    `start_deadline` ends the wait early."""
    now = time.monotonic()
    if watching and idle and start_deadline is not None and now >= start_deadline:
        return DownloadOutcome(None, error="the click started no download")
    if now < deadline:
        return None
    if mine is None and watching:
        return DownloadOutcome(None, error="the click started no download")
    return DownloadOutcome(
        None,
        error="download did not finish in time",
        expected_bytes=mine.total_bytes if mine else 0,
        guid=mine.guid if mine else "",
        in_progress=mine is not None,
    )


def _settled_file(staging: Path, before: set[str], last_sizes: dict[str, int], *, final_name: str = "") -> Path | None:
    """A new file whose size equals the previous poll's, provided no temp name other than `final_name` (a
    finished download's own name) is left; updates last_sizes."""
    names = staged_names(staging)
    if any(is_temp_name(n) and n.casefold() != final_name.casefold() for n in names):
        last_sizes.clear()
        return None
    sizes: dict[str, int] = {}
    for name in sorted(names - before):
        with contextlib.suppress(OSError):
            sizes[name] = (staging / name).stat().st_size
    settled = next((n for n, size in sizes.items() if last_sizes.get(n) == size), None)
    last_sizes.clear()
    last_sizes.update(sizes)
    return staging / settled if settled is not None else None


def clear_staging(staging: Path) -> list[str]:
    """Empty the staging folder (leftovers of failed downloads); returns the names removed."""
    removed: list[str] = []
    for name in sorted(staged_names(staging)):
        path = staging / name
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(name)
        except FileNotFoundError:
            continue
    return removed


def move_verified(src: Path, dest: Path, expected_bytes: int = 0) -> int:
    """Move a finished download to `dest` (any file system) and return its size once verified on disk.

    Raises IncompleteDownloadError for an empty file, or one whose size differs from the `expected_bytes` the
    browser announced (when known); the file is then left where it was. Across file systems the bytes are copied
    to a temporary name in `dest`'s folder and renamed only once complete, so a failed copy (a full disk, a share
    that went away) never leaves a truncated file under the real name. Both paths go through `long_path`; the
    messages name the file only, never its extended path.
    """
    src, dest = long_path(src), long_path(dest)  # a PO folder deep in OneDrive can pass Windows' MAX_PATH
    size = src.stat().st_size
    if size == 0:
        raise IncompleteDownloadError(f"{src.name}: empty file")
    if expected_bytes and size != expected_bytes:
        raise IncompleteDownloadError(f"{src.name}: {size} bytes of {expected_bytes}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Across drives the file needs its own room beside the reserve; on one drive a rename takes no more space, but a
    # drive already into the reserve (the staged file's bytes count there) is full all the same.
    same_drive = src.stat().st_dev == dest.parent.stat().st_dev
    _require_room(dest.parent, 0 if same_drive else size)
    try:
        os.rename(src, dest)  # one file system: atomic, nothing to verify
    except OSError:
        _copy_then_rename(src, dest, size)
        src.unlink()
    moved = dest.stat().st_size
    if moved != size:
        raise IncompleteDownloadError(f"{dest.name}: {moved} bytes after the move, expected {size}")
    return moved


def _require_room(folder: Path, size: int) -> None:
    needed = size + DISK_RESERVE_BYTES
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise DiskFullError(folder, needed, free)


def _copy_then_rename(src: Path, dest: Path, size: int) -> None:
    # A short name: the real one may already use the whole 255 bytes a name can have.
    tmp = dest.with_name(f"{MOVE_TEMP_PREFIX}{uuid.uuid4().hex}.tmp")
    try:
        try:
            shutil.copy2(src, tmp)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            # Something else filled the disk since the check: the same answer, a hold until there is room.
            raise DiskFullError(dest.parent, size + DISK_RESERVE_BYTES, shutil.disk_usage(dest.parent).free) from exc
        copied = tmp.stat().st_size
        if copied != size:
            raise IncompleteDownloadError(f"{dest.name}: {copied} bytes copied, expected {size}")
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


@dataclass(frozen=True, slots=True)
class DirectOutcome:
    path: Path | None  # the fetched file in the staging folder
    error: str = ""
    file_name: str = ""  # from Content-Disposition, when the server sent one


def same_origin(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc) and a.scheme in ("http", "https")


class InsecureRedirectError(urllib.error.URLError):
    """A redirect from https to plain http: the session must never travel unencrypted."""


def cookie_jar(cookies: Iterable[Mapping[str, Any]]) -> http.cookiejar.CookieJar:
    """A jar of the browser's cookies (as WebDriver's `get_cookies()` reports them) that sends each one only
    where the browser would: host-only or domain scope, path, `Secure` only over https, not once expired."""
    # Without DomainStrictNonDomain a host-only cookie of example.com would also go to sub.example.com.
    jar = http.cookiejar.CookieJar(
        http.cookiejar.DefaultCookiePolicy(strict_ns_domain=http.cookiejar.DefaultCookiePolicy.DomainStrictNonDomain)
    )
    for cookie in cookies:
        domain = str(cookie.get("domain") or "").lower()
        if not domain or not cookie.get("name"):
            continue
        scoped = domain.startswith(".")  # the browser marks a cookie set with a Domain attribute by a leading dot
        if not scoped and "." not in domain:
            domain += ".local"  # how http.cookiejar names a dotless host (localhost) when it matches host-only cookies
        expiry = cookie.get("expiry")
        jar.set_cookie(
            http.cookiejar.Cookie(
                version=0,
                name=str(cookie["name"]),
                value=str(cookie.get("value", "")),
                port=None,
                port_specified=False,
                domain=domain,
                domain_specified=scoped,
                domain_initial_dot=scoped,
                path=str(cookie.get("path") or "/"),
                path_specified=True,
                secure=bool(cookie.get("secure")),
                expires=int(expiry) if expiry is not None else None,
                discard=expiry is None,
                comment=None,
                comment_url=None,
                rest={"HttpOnly": ""} if cookie.get("httpOnly") else {},
            )
        )
    return jar


class _OriginCookies(urllib.request.HTTPCookieProcessor):
    """The jar's cookies for requests to the fetch's own origin only: a redirect elsewhere gets none."""

    def __init__(self, jar: http.cookiejar.CookieJar, origin: str) -> None:
        super().__init__(jar)
        self.origin = origin

    def http_request(self, request: urllib.request.Request) -> urllib.request.Request:
        if same_origin(request.full_url, self.origin):
            return super().http_request(request)
        return request

    https_request = http_request


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects as the session needs them: never from https to http, and no credentials to another origin."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(req.full_url).scheme == "https" and urlsplit(newurl).scheme != "https":
            fp.close()
            raise InsecureRedirectError(f"refused a redirect from https to {redact_urls(newurl)}")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and not same_origin(newurl, self.origin):
            for name in _CREDENTIAL_HEADERS:
                new.remove_header(name)
            if new.has_header("Referer"):
                # What a browser sends across origins by default (strict-origin-when-cross-origin): no path.
                new.add_header("Referer", _origin_of(self.origin) + "/")
        return new


_CREDENTIAL_HEADERS = ("Cookie", "Authorization", "Proxy-authorization")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def fetch_direct(
    url: str,
    *,
    cookies: Iterable[Mapping[str, Any]],
    headers: dict[str, str],
    staging: Path,
    timeout_s: float,
) -> DirectOutcome:
    """Fetch one attachment over HTTP with the browser's cookies; verified against Content-Length.

    `cookies` are the browser's own (`driver.get_cookies()`): each goes only where the browser would send it, and
    none, nor an `Authorization` header, follows a redirect to another origin; a redirect from https to http is
    refused. Runs on a helper thread: it uses no WebDriver. A web page instead of a file (a login wall, an error
    page) counts as a failure, so the caller falls back to clicking in the browser.
    """
    request = urllib.request.Request(url, headers=dict(headers))
    host = urlsplit(url).hostname or ""
    handlers: list[urllib.request.BaseHandler] = [_OriginCookies(cookie_jar(cookies), url), _GuardedRedirects(url)]
    if host in ("127.0.0.1", "localhost", "::1"):
        handlers.append(urllib.request.ProxyHandler({}))  # loopback never goes through a proxy from the environment
    opener = urllib.request.build_opener(*handlers)
    tmp = staging / f"direct-{uuid.uuid4().hex}.part"
    try:
        with opener.open(request, timeout=timeout_s) as response:
            disposition = response.headers.get("Content-Disposition", "")
            content_type = response.headers.get_content_type()
            if content_type == "text/html" and "attachment" not in disposition.lower():
                return DirectOutcome(None, error="the server answered with a web page, not a file")
            length = response.headers.get("Content-Length")
            with tmp.open("wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        size = tmp.stat().st_size
        if length is not None and length.isdigit() and size != int(length):
            tmp.unlink()
            return DirectOutcome(None, error=f"truncated: {size} bytes of {length}")
        if size == 0:
            tmp.unlink()
            return DirectOutcome(None, error="empty response")
        name = disposition_filename(disposition)
        # No extension: the server's may look like a browser's temp name (`x.part`) and stall a click's wait.
        final = tmp.with_name(f"direct-{uuid.uuid4().hex}")
        os.replace(tmp, final)
        return DirectOutcome(final, file_name=name)
    except InsecureRedirectError as exc:
        return DirectOutcome(None, error=str(exc.reason))
    except urllib.error.HTTPError as exc:
        return DirectOutcome(None, error=f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            # The staging drive is full: the PO waits for room (pool/disk_watch.py) instead of failing.
            raise DiskFullError(staging, DISK_RESERVE_BYTES, shutil.disk_usage(staging).free) from exc
        if isinstance(exc, http.client.IncompleteRead):
            return DirectOutcome(None, error=f"truncated: {len(exc.partial)} bytes, then the connection closed")
        return DirectOutcome(None, error=f"{type(exc).__name__}: {exc}")


_EXT_FILENAME = re.compile(r"""filename\*\s*=\s*([\w!#$%&+^`{}~-]+)'[^']*'([^;\s]+)""", re.IGNORECASE)


def disposition_filename(header: str) -> str:
    """The file name of a Content-Disposition header; the RFC 5987 `filename*` wins over `filename`.

    The standard library's parsers return whichever parameter comes first, which for the usual
    `filename="ascii fallback"; filename*=UTF-8''exact` gives the lossy fallback (RFC 6266 says the opposite).
    """
    if not header:
        return ""
    extended = _EXT_FILENAME.search(header)
    if extended:
        charset, value = extended.groups()
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            codecs.lookup(charset)  # unquote only consults the charset when there is an escape to decode
            name = unquote(value, encoding=charset, errors="strict")
            if name:
                return name
    message = Message()
    message["Content-Disposition"] = header
    params = message.get_params(header="content-disposition") or []
    # The plain parameter; an undecodable `filename*` shows up here as a tuple and is skipped.
    return next((value for key, value in params if key == "filename" and isinstance(value, str)), "")
