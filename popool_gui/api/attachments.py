"""What a PO holds, read from the API: the PO record by number, and its attachments at every level.

Everything the portal sends is checked before use: records must be JSON objects, ids whole numbers (they go
into URL paths), names text (the layout sanitises them), sizes non-negative whole numbers, URLs strings (the
client decides where a token may go).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from popool_gui.api.client import ApiClient, ApiFailure
from popool_gui.batch.model import AttachmentSource

_ATTACHMENT_FIELDS = (
    '["id","type","intent","file-file-name","file-content-type","file-file-size","file-url","url","text"]'
)
# One lookup brings the header's and the lines' attachments when the tenant inlines them (Coupa's full PO record
# does), and the comments with theirs when it inlines those too: two to four requests per PO fewer, where the pace
# of 20/s is what bounds a run. A record without them sends popool to each list's endpoint instead.
PO_FIELDS = (
    '["id","po-number",{"supplier":["name"]},{"requisition-header":["id"]},'
    f'{{"attachments":{_ATTACHMENT_FIELDS}}},{{"order-lines":["id",{{"attachments":{_ATTACHMENT_FIELDS}}}]}},'
    f'{{"comments":["id",{{"attachments":{_ATTACHMENT_FIELDS}}}]}}]'
)


class Kind(StrEnum):
    FILE = "AttachmentFile"
    URL = "AttachmentUrl"
    TEXT = "AttachmentText"


@dataclass(frozen=True, slots=True)
class ApiAttachment:
    source: AttachmentSource
    attachment_id: int
    kind: Kind
    name: str
    size: int  # file-file-size; 0 when the portal does not say
    record_url: str  # the attachment's own API path ("" when it has none, e.g. a comment's)
    file_url: str
    intent: str = ""
    url: str = ""  # an URL attachment's target
    text: str = ""  # a text attachment's text


@dataclass(frozen=True, slots=True)
class PoLine:
    line_id: int
    attachments: list[Any] | None  # the raw items when the record held them, else None: ask the line's endpoint


@dataclass(frozen=True, slots=True)
class PoRecordApi:
    po_api_id: int
    supplier: str
    requisition_id: int | None
    lines: tuple[PoLine, ...]
    attachments: list[Any] | None  # as PoLine.attachments, for the header
    # The comments when the record held them, each with its attachments list; else None: ask the comments endpoint.
    comments: list[Any] | None = None


class NotFound(Exception):
    """No PO with this number."""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


async def find_po(client: ApiClient, number: str) -> PoRecordApi:
    """The PO whose po-number is exactly `number`. NotFound; ApiFailure (403: denied) from the client."""
    found = await client.get_json("/api/purchase_orders", {"po-number": number, "fields": PO_FIELDS})
    if not isinstance(found, list):
        raise ApiFailure("the PO lookup did not answer a list", transient=True)
    # The search may match more than the number asked for; only the exact one is this PO.
    record = next((r for r in found if isinstance(r, dict) and str(r.get("po-number", "")) == number), None)
    if record is None or _int(record.get("id")) is None:
        raise NotFound(number)
    supplier = record.get("supplier")
    requisition = record.get("requisition-header")
    lines = record.get("order-lines")
    return PoRecordApi(
        po_api_id=int(record["id"]),
        supplier=_text(supplier.get("name")).strip() if isinstance(supplier, dict) else "",
        requisition_id=_int(requisition.get("id")) if isinstance(requisition, dict) else None,
        lines=tuple(
            PoLine(line_id, _items(line))
            for line in (lines if isinstance(lines, list) else ())
            if isinstance(line, dict) and (line_id := _int(line.get("id"))) is not None
        ),
        attachments=_items(record),
        comments=_inline_comments(record),
    )


def _inline_comments(record: dict[str, Any]) -> list[Any] | None:
    """The record's comments, only when every one says what it holds: a comment without its attachments list (a
    tenant that ignored the nested field) is not taken for a comment without attachments."""
    comments = record.get("comments")
    if not isinstance(comments, list):
        return None
    if all(isinstance(c, dict) and isinstance(c.get("attachments"), list) for c in comments):
        return comments
    return None


def _items(record: dict[str, Any]) -> list[Any] | None:
    value = record.get("attachments")
    return value if isinstance(value, list) else None


def _parse(source: AttachmentSource, item: Any, list_path: str) -> ApiAttachment | None:
    if not isinstance(item, dict) or (attachment_id := _int(item.get("id"))) is None:
        return None
    try:
        kind = Kind(item.get("type") or Kind.FILE)
    except ValueError:
        return None  # a kind popool does not know is not guessed at
    size = _int(item.get("file-file-size")) or 0
    name = _text(item.get("file-file-name")) if kind is Kind.FILE else ""
    return ApiAttachment(
        source=source,
        attachment_id=attachment_id,
        kind=kind,
        name=name or f"attachment {attachment_id}",
        size=size,
        record_url=f"{list_path}/{attachment_id}" if list_path else "",
        file_url=_text(item.get("file-url")),
        intent=_text(item.get("intent")),
        url=_text(item.get("url")),
        text=_text(item.get("text")),
    )


async def _list(
    client: ApiClient, source: AttachmentSource, path: str, inline: list[Any] | None = None
) -> list[ApiAttachment]:
    """The attachments listed at `path`, or the `inline` items the PO record already held for it."""
    items = await client.get_json(path) if inline is None else inline
    if not isinstance(items, list):
        raise ApiFailure(f"{path}: not a list", transient=True)
    return [a for item in items if (a := _parse(source, item, path)) is not None]


async def _comments(client: ApiClient, po: PoRecordApi) -> list[ApiAttachment]:
    comments = po.comments
    if comments is None:
        comments = await client.get_json(f"/api/purchase_orders/{po.po_api_id}/comments")
    if not isinstance(comments, list):
        raise ApiFailure("the comments are not a list", transient=True)
    return [
        a
        for comment in comments
        if isinstance(comment, dict) and isinstance(comment.get("attachments"), list)
        for item in comment["attachments"]
        if (a := _parse(AttachmentSource.COMMENT, item, "")) is not None
    ]


async def po_attachments(client: ApiClient, po: PoRecordApi) -> list[ApiAttachment]:
    """The header's, the lines' and the comments' attachments, in that order, read concurrently."""
    header = f"/api/purchase_orders/{po.po_api_id}/attachments"
    lists = await asyncio.gather(
        _list(client, AttachmentSource.HEADER, header, po.attachments),
        *(
            _list(
                client, AttachmentSource.LINE, f"/api/purchase_order_lines/{line.line_id}/attachments", line.attachments
            )
            for line in po.lines
        ),
        _comments(client, po),
    )
    return [a for found in lists for a in found]


async def requisition_attachments(client: ApiClient, po: PoRecordApi) -> list[ApiAttachment]:
    if po.requisition_id is None:
        return []
    return await _list(client, AttachmentSource.REQUISITION, f"/api/requisitions/{po.requisition_id}/attachments")
