"""The demo portal's URLs in each skin: Coupa's, and another portal's so popool is tested on markup not Coupa's.

- coupa: PO page ``/order_headers/{id}``, requisition page ``/requisition_headers/{rid}``, file
  ``/attachments/{id}/{fid}/attachment_file``;
- other: PO page ``/procurement/requests/PR-{id:07d}``, requisition page ``/procurement/requisitions/RQ-{rid}``,
  file ``/files/PR-{id:07d}/{fid}``.

Every PO and requisition page has its list as JSON at the page's path plus `/attachments.json` (coupa) or
`/documents.json` (other). `id` is the demo PO id of `data.py`; the other skin writes it as a 7-digit request
number (PO 100007 is request PR-0100007), so only ids below 10 000 000 exist there and the special POs keep
their contents. A malformed request number is a "not found" page, as on a real portal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from popool_gui.demo.data import REQUISITION_PREFIX


class Skin(StrEnum):
    COUPA = "coupa"
    OTHER = "other"


class PageKind(StrEnum):
    PO = "po"
    REQUISITION = "requisition"


@dataclass(frozen=True, slots=True)
class PageRoute:
    """A request for a PO or requisition page (or its list as JSON)."""

    kind: PageKind
    page_id: str | None  # the demo PO id, or the requisition id; None when the URL names no page of this skin
    list_json: bool = False


OTHER_DIGITS = 7
_OTHER_REQUEST = re.compile(rf"PR-(\d{{{OTHER_DIGITS}}})")
_OTHER_REQUISITION = re.compile(rf"RQ-({REQUISITION_PREFIX}\d+)")

_PAGE_PREFIX: dict[Skin, dict[PageKind, str]] = {
    Skin.COUPA: {PageKind.PO: "/order_headers/", PageKind.REQUISITION: "/requisition_headers/"},
    Skin.OTHER: {PageKind.PO: "/procurement/requests/", PageKind.REQUISITION: "/procurement/requisitions/"},
}
_LIST_SUFFIX: dict[Skin, str] = {Skin.COUPA: "/attachments.json", Skin.OTHER: "/documents.json"}
_COUPA_FILE = re.compile(r"^/attachments/([^/]+)/([^/]+)/attachment_file$")
_OTHER_FILE = re.compile(r"^/files/([^/]+)/([^/]+)$")
COUPA_FILE_URL = "/attachments/{po_id}/{file_id}/attachment_file"


def request_number(po_id: str) -> str:
    """The other skin's name for a demo PO: `100007` -> `PR-0100007`; ValueError when it cannot have one."""
    if not po_id.isdigit() or len(str(int(po_id))) > OTHER_DIGITS:
        raise ValueError(f"the other skin numbers requests with {OTHER_DIGITS} digits; PO {po_id!r} has no number")
    return f"PR-{int(po_id):0{OTHER_DIGITS}d}"


def demo_id(skin: Skin, portal_id: str) -> str:
    """The demo PO id behind a portal id as a profile's `po_id_regex` captures it (`0100007` -> `100007`)."""
    if skin is Skin.OTHER and portal_id.isdigit():
        return str(int(portal_id))
    return portal_id


def _segment(skin: Skin, kind: PageKind, page_id: str) -> str:
    if skin is Skin.COUPA:
        return page_id
    return request_number(page_id) if kind is PageKind.PO else f"RQ-{page_id}"


def page_path(skin: Skin, kind: PageKind, page_id: str) -> str:
    return _PAGE_PREFIX[skin][kind] + _segment(skin, kind, page_id)


def list_path(skin: Skin, kind: PageKind, page_id: str) -> str:
    """The JSON endpoint of a page's attachment list."""
    return page_path(skin, kind, page_id) + _LIST_SUFFIX[skin]


def file_path(skin: Skin, po_id: str, file_id: str) -> str:
    """Where an attachment of PO `po_id` (its requisition's files included) is downloaded."""
    if skin is Skin.COUPA:
        return COUPA_FILE_URL.format(po_id=po_id, file_id=file_id)
    return f"/files/{request_number(po_id)}/{file_id}"


def _page_id(skin: Skin, kind: PageKind, segment: str) -> str | None:
    if skin is Skin.COUPA:
        return segment
    match = (_OTHER_REQUEST if kind is PageKind.PO else _OTHER_REQUISITION).fullmatch(segment)
    if match is None:
        return None
    return demo_id(skin, match.group(1)) if kind is PageKind.PO else match.group(1)


def page_route(skin: Skin, path: str) -> PageRoute | None:
    """The page (or page list) a path asks for in this skin, or None when it is no such path."""
    for kind, prefix in _PAGE_PREFIX[skin].items():
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :]
        list_json = rest.endswith(_LIST_SUFFIX[skin])
        segment = rest[: -len(_LIST_SUFFIX[skin])] if list_json else rest.removesuffix("/")
        if not segment or "/" in segment:
            return None
        return PageRoute(kind, _page_id(skin, kind, segment), list_json)
    return None


def file_route(skin: Skin, path: str) -> tuple[str, str] | None:
    """(demo PO id, file id) of a download path in this skin, or None."""
    match = (_COUPA_FILE if skin is Skin.COUPA else _OTHER_FILE).match(path)
    if match is None:
        return None
    if skin is Skin.COUPA:
        return match.group(1), match.group(2)
    request = _OTHER_REQUEST.fullmatch(match.group(1))
    return (demo_id(skin, request.group(1)), match.group(2)) if request else None
