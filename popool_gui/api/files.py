"""One attachment's bytes into the lane's staging folder, checked against every size the portal announced.

Files come one of two ways and the lane learns which the tenant answers (`BytesWay`, logged once): the
attachment's own API URL with ``Accept: */*`` gives the file, or it gives the attachment's record, whose
``file-url`` gives the file. URL attachments become Internet Shortcut files, text attachments text files.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import structlog

from popool_gui.api.attachments import ApiAttachment, Kind
from popool_gui.api.client import ApiClient, ApiFailure
from popool_gui.browser.downloads import disposition_filename

log = structlog.get_logger()

MAX_FILE_BYTES = 4 * 1024**3  # a file that announces no size still ends here
MAX_RECORD_BYTES = 1024 * 1024  # an attachment record is a few hundred bytes
CHUNK = 1 << 16


class BytesWay(StrEnum):
    UNKNOWN = "unknown"
    ACCEPT = "attachment URL"  # GET .../attachments/:id with Accept: */* answers the file
    FILE_URL = "file-url"  # that GET answers the record; its file-url answers the file


@dataclass(slots=True)
class Fetcher:
    """Stages attachments for one lane; remembers how the tenant serves bytes."""

    client: ApiClient
    staging: Path
    way: BytesWay = BytesWay.UNKNOWN

    async def stage(self, attachment: ApiAttachment) -> tuple[Path, str]:
        """The staged file and the name the portal served it under ("" if none); ApiFailure when it fails."""
        if attachment.kind is Kind.URL:
            return self._write(_shortcut(attachment.url)), f"{attachment.name}.url"
        if attachment.kind is Kind.TEXT:
            return self._write(attachment.text.encode("utf-8")), f"{attachment.name}.txt"
        url = attachment.file_url
        if attachment.record_url and self.way is not BytesWay.FILE_URL:
            record_url = self.client.access.url(attachment.record_url)
            async with self.client.open_file(record_url) as response:
                if not _is_json(response):
                    self._learn(BytesWay.ACCEPT)
                    return await self._save(response, attachment)
                body = await _read(response, MAX_RECORD_BYTES)
                record = _as_record(body, attachment.attachment_id)
                if record is None:  # a JSON attachment, served as the file it is
                    self._learn(BytesWay.ACCEPT)
                    return self._checked(self._write(body), attachment, response), _served(response)
                self._learn(BytesWay.FILE_URL)
                url = record
        if not url:
            raise ApiFailure(f"{attachment.name}: the portal gives no file-url", transient=False)
        async with self.client.open_file(url) as response:
            return await self._save(response, attachment)

    def _learn(self, way: BytesWay) -> None:
        if self.way is BytesWay.UNKNOWN:
            self.way = way
            log.info("api_bytes_way", way=way.value)

    def _write(self, data: bytes) -> Path:
        path = self.staging / f"api-{uuid.uuid4().hex}"
        path.write_bytes(data)
        return path

    async def _save(self, response: httpx.Response, attachment: ApiAttachment) -> tuple[Path, str]:
        # The smallest size the portal announced, and never more than MAX_FILE_BYTES: a body that runs past it is
        # cut off at once rather than written to the end.
        limit = min([MAX_FILE_BYTES, *(n for n in (attachment.size, _length(response)) if n)])
        path = self.staging / f"api-{uuid.uuid4().hex}.part"
        try:
            with path.open("wb") as out:
                written = 0
                async for chunk in response.aiter_bytes(CHUNK):
                    written += len(chunk)
                    if written > limit:
                        raise ApiFailure(f"{attachment.name}: more bytes than the {limit} announced", transient=True)
                    out.write(chunk)
        except httpx.HTTPError as exc:
            path.unlink(missing_ok=True)
            raise ApiFailure(
                f"{attachment.name}: the download broke off ({type(exc).__name__})", transient=True
            ) from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        final = path.with_suffix("")
        path.rename(final)
        return self._checked(final, attachment, response), _served(response)

    @staticmethod
    def _checked(path: Path, attachment: ApiAttachment, response: httpx.Response) -> Path:
        size = path.stat().st_size
        for announced, by in ((_length(response), "Content-Length"), (attachment.size, "file-file-size")):
            if announced and size != announced:
                path.unlink(missing_ok=True)
                raise ApiFailure(f"{attachment.name}: {size} bytes of {announced} ({by})", transient=True)
        return path


def _is_json(response: httpx.Response) -> bool:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower() == "application/json"


def _length(response: httpx.Response) -> int:
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else 0


def _served(response: httpx.Response) -> str:
    return disposition_filename(response.headers.get("Content-Disposition", ""))


async def _read(response: httpx.Response, limit: int) -> bytes:
    body = b""
    async for chunk in response.aiter_bytes(CHUNK):
        body += chunk
        if len(body) > limit:
            raise ApiFailure(f"an attachment record larger than {limit} bytes", transient=False)
    return body


def _as_record(body: bytes, attachment_id: int) -> str | None:
    """The record's file-url when `body` is this attachment's record, else None."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if isinstance(value, dict) and value.get("id") == attachment_id and isinstance(value.get("file-url"), str):
        return str(value["file-url"])
    return None


def _shortcut(url: str) -> bytes:
    """An Internet Shortcut; only a plain web address, so the file cannot carry more than one line of it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in "\r\n\0"):
        raise ApiFailure(f"an URL attachment with an address popool does not write: {url[:80]!r}", transient=False)
    return f"[InternetShortcut]\r\nURL={url}\r\n".encode()
