"""The demo portal's Coupa Core REST API, from the same data as its pages (`data.py`).

What it serves (JSON, Coupa's hyphenated keys):

- ``POST /oauth2/token``: OAuth 2.0 client credentials, the id and secret in the form body or as HTTP Basic; a
  wrong one is 401 ``invalid_client``. It grants the requested scopes the client holds (`DemoKnobs.api_scopes`)
  and names them in ``scope``; a token dies after `api_token_lifetime_s` (then 401 ``invalid_token``);
- ``GET /api/purchase_orders?po-number=X`` (``po_number`` too): an array, ``[]`` for no such PO, 403 for a PO
  the client may not see. Without a number it pages through a small catalogue: ``limit`` (at most 50),
  ``offset``; ``fields=["id",{"supplier":["name"]}]`` trims every record; with `api_inline_attachments` a record
  holds its header's and lines' attachments, as Coupa's full PO record does, and its comments with theirs (an
  assumption about a real tenant; the comments endpoint stays, and popool uses it for a record without them);
- attachment lists of the PO (``/api/purchase_orders/:id/attachments``), of its lines
  (``/api/purchase_order_lines/:id/attachments``), of its comments (inside ``/api/purchase_orders/:id/comments``)
  and of its requisition (``/api/requisitions/:id/attachments``);
- the bytes, one of two ways (`ApiBytes`): ``GET <list>/:attachment_id`` with ``Accept: */*`` answers the file,
  or the record whose ``file-url`` (``/api/files/:po_id/:attachment_id``) answers it for the same bearer token.

Every API request needs a live token with the endpoint's scope (else 401 or 403), waits `page_latency_ms`,
gets 429 beyond `api_rate_per_s` requests in any second and 503 for an `api_503_share` of requests (drawn per
path and hit, like the pages' faults). A file marked truncated is cut off halfway, as on the pages.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs

from popool_gui.demo.data import (
    COMMENT_TEXT,
    LINE_WITH_ATTACHMENTS,
    AttachmentSpec,
    PoKind,
    PoSpec,
    po_spec,
    requisition_po,
)

JSON_TYPE = "application/json; charset=utf-8"
MAX_PAGE = 50
PO_ID_OFFSET = 40_000_000  # Coupa's internal id is not the PO number: the demo's is the number plus this
LINE_ID_FACTOR = 100  # a line's id is its PO's id times this plus its line number
COMMENT_ID_FACTOR = 10  # a comment's id is its PO's id times this plus one
CATALOGUE: tuple[str, ...] = tuple(str(n) for n in range(100_001, 100_121))  # what an unfiltered listing pages


class Scope(StrEnum):
    PURCHASE_ORDER = "core.purchase_order.read"
    REQUISITION = "core.requisition.read"
    COMMON = "core.common.read"
    COMMENT = "core.comment.read"


ALL_SCOPES: tuple[str, ...] = tuple(Scope)


class ApiBytes(StrEnum):
    """How the demo tenant serves an attachment's bytes (the real API documents neither)."""

    ACCEPT = "accept"  # GET .../attachments/:id with Accept: */* answers the file
    FILE_URL = "file_url"  # that GET answers the record; its file-url answers the file


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    file: AttachmentSpec | None = None  # the body is this attachment's bytes...
    po_id: str = ""  # ... of this demo PO
    truncated: bool = False  # send half of the body, then close


@dataclass(frozen=True, slots=True)
class ApiRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""


def _json(status: int, value: Any, headers: tuple[tuple[str, str], ...] = ()) -> ApiAnswer:
    return ApiAnswer(status, json.dumps(value, ensure_ascii=False).encode("utf-8"), headers=headers)


def _error(status: int, code: str, description: str) -> ApiAnswer:
    headers = (("WWW-Authenticate", f'Bearer error="{code}"'),) if status == 401 else ()
    return _json(status, {"error": code, "error_description": description}, headers)


@dataclass(slots=True)
class _Token:
    scopes: frozenset[str]
    issued_mono: float


@dataclass(slots=True)
class _ApiState:
    tokens: dict[str, _Token] = field(default_factory=dict)
    recent: deque[float] = field(default_factory=deque)  # when the API requests of the last second came
    requests: int = 0
    rejected: int = 0  # answered 429
    peak_per_s: int = 0  # the most API requests accepted within any one second
    tokens_issued: int = 0
    busy_until: float = 0.0  # saturate(): every request until then is 429


_ATTACHMENT_PATH = re.compile(
    r"^/api/(purchase_orders|purchase_order_lines|requisitions)/(\d+)/attachments(?:/(\d+))?$"
)
_PO_PATH = re.compile(r"^/api/purchase_orders/(\d+)(/comments)?$")
_FILE_PATH = re.compile(r"^/api/files/(\d+)/(\d+)$")


class DemoApi:
    """The API's state (tokens, the rate window, counters) and its answers; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _ApiState()

    # -- counters -----------------------------------------------------------------------------------------

    @property
    def requests(self) -> int:
        with self._lock:
            return self._state.requests

    @property
    def rejected(self) -> int:
        with self._lock:
            return self._state.rejected

    @property
    def peak_per_s(self) -> int:
        with self._lock:
            return self._state.peak_per_s

    @property
    def tokens_issued(self) -> int:
        with self._lock:
            return self._state.tokens_issued

    def saturate(self, seconds: float) -> None:
        """As if the tenant's other clients used up every second of the rate limit for this long: all 429."""
        with self._lock:
            self._state.busy_until = time.monotonic() + seconds

    # -- answers ------------------------------------------------------------------------------------------

    def token(self, request: ApiRequest, knobs: Any) -> ApiAnswer:
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type", "only client_credentials is supported")
        client_id, secret = _basic(request.headers.get("authorization", ""))
        client_id = client_id or form.get("client_id", "")
        secret = secret or form.get("client_secret", "")
        if not (
            secrets.compare_digest(client_id.encode(), knobs.api_client_id.encode())
            and secrets.compare_digest(secret.encode(), knobs.api_client_secret.encode())
        ):
            return _error(401, "invalid_client", "unknown client or wrong secret")
        wanted = set(form.get("scope", "").split()) or set(knobs.api_scopes)
        granted = frozenset(wanted & set(knobs.api_scopes))
        if not granted:
            return _error(400, "invalid_scope", "the client holds none of the requested scopes")
        access = secrets.token_urlsafe(24)
        with self._lock:
            self._state.tokens[access] = _Token(granted, time.monotonic())
            self._state.tokens_issued += 1
        body = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": int(knobs.api_token_lifetime_s),
            "scope": " ".join(sorted(granted)),
        }
        return _json(200, body)

    def admit(self, request: ApiRequest, knobs: Any, hit: int) -> ApiAnswer | None:
        """The rate limit, the token and the 503 draw; an answer refuses the request, None lets it through."""
        now = time.monotonic()
        with self._lock:
            state = self._state
            state.requests += 1
            while state.recent and now - state.recent[0] >= 1.0:
                state.recent.popleft()
            if now < state.busy_until or (knobs.api_rate_per_s and len(state.recent) >= knobs.api_rate_per_s):
                state.rejected += 1
                return _error(429, "rate_limited", f"more than {knobs.api_rate_per_s} requests per second")
            state.recent.append(now)
            state.peak_per_s = max(state.peak_per_s, len(state.recent))
            token = self._live_token(request, knobs, now)
        if token is None:
            return _error(401, "invalid_token", "the access token is missing, unknown or expired")
        needed = _scope_for(request.path)
        if needed is not None and needed not in token.scopes:
            return _error(403, "insufficient_scope", f"this request needs the scope {needed}")
        draw = random.Random(f"popool-demo-api-503:{knobs.seed}:{request.path}:{hit}").random()
        if draw < knobs.api_503_share:
            return _error(503, "unavailable", "try again later")
        return None

    def answer(self, request: ApiRequest, knobs: Any, base_url: str) -> ApiAnswer:
        """An admitted API GET."""
        query = {k: v[0] for k, v in parse_qs(request.query).items()}
        path = request.path.rstrip("/") or "/"
        if path == "/api/purchase_orders":
            return self._purchase_orders(query, knobs, base_url)
        if (match := _PO_PATH.match(path)) is not None:
            spec = _po_of(int(match.group(1)), knobs)
            if spec is None:
                return _error(404, "not_found", "no such purchase order")
            if spec.kind is PoKind.DENIED:
                return _error(403, "forbidden", "you may not see this purchase order")
            if match.group(2):
                return _json(200, _comments(spec, base_url))
            return _json(200, _trim(_po_record(spec, base_url, knobs.api_inline_attachments), _fields(query)))
        if (match := _ATTACHMENT_PATH.match(path)) is not None:
            return self._attachments(match, request, knobs, base_url)
        if (match := _FILE_PATH.match(path)) is not None:
            spec = _po_of(int(match.group(1)), knobs)
            found = _find(spec, match.group(2)) if spec is not None else None
            if spec is None or found is None or spec.kind is PoKind.DENIED:
                return _error(404, "not_found", "no such file")
            return _file(spec, found)
        return _error(404, "not_found", "no such endpoint")

    def _live_token(self, request: ApiRequest, knobs: Any, now: float) -> _Token | None:
        """The request's bearer token while it lives (the caller holds the lock); an expired one is forgotten."""
        scheme, _, access = request.headers.get("authorization", "").partition(" ")
        token = self._state.tokens.get(access.strip()) if scheme.lower() == "bearer" else None
        if token is not None and now - token.issued_mono >= knobs.api_token_lifetime_s:
            del self._state.tokens[access.strip()]
            return None
        return token

    # -- endpoints ----------------------------------------------------------------------------------------

    def _purchase_orders(self, query: dict[str, str], knobs: Any, base_url: str) -> ApiAnswer:
        fields = _fields(query)
        if fields is False:
            return _error(400, "bad_request", "fields= must be a JSON array of names and {name: [...]} objects")
        number = query.get("po-number", query.get("po_number"))
        if number is not None:
            spec = po_spec(number.strip(), knobs.seed, knobs.attachment_size_range)
            if spec.kind is PoKind.NOT_FOUND or not spec.po_id.isdigit():
                return _json(200, [])
            if spec.kind is PoKind.DENIED:
                return _error(403, "forbidden", "you may not see this purchase order")
            return _json(200, [_trim(_po_record(spec, base_url, knobs.api_inline_attachments), fields)])
        try:
            limit = min(MAX_PAGE, max(1, int(query.get("limit", MAX_PAGE))))
            offset = max(0, int(query.get("offset", 0)))
        except ValueError:
            return _error(400, "bad_request", "limit and offset are whole numbers")
        visible = [
            spec
            for spec in (po_spec(n, knobs.seed, knobs.attachment_size_range) for n in CATALOGUE)
            if spec.kind not in (PoKind.NOT_FOUND, PoKind.DENIED)
        ]
        page = visible[offset : offset + limit]
        return _json(200, [_trim(_po_record(spec, base_url, knobs.api_inline_attachments), fields) for spec in page])

    def _attachments(self, match: re.Match[str], request: ApiRequest, knobs: Any, base_url: str) -> ApiAnswer:
        level, owner, attachment_id = match.group(1), int(match.group(2)), match.group(3)
        found = _owner(level, owner, knobs)
        if found is None:
            return _error(404, "not_found", "no such record")
        spec, listed = found
        if spec.kind is PoKind.DENIED:
            return _error(403, "forbidden", "you may not see this purchase order")
        if attachment_id is None:
            return _json(200, [_attachment_record(spec, a, base_url) for a in listed])
        attachment = next((a for a in listed if a.file_id == attachment_id), None)
        if attachment is None:
            return _error(404, "not_found", "no such attachment")
        wants_file = "application/json" not in request.headers.get("accept", "*/*")
        if knobs.api_bytes is ApiBytes.ACCEPT and wants_file:
            return _file(spec, attachment)
        return _json(200, _attachment_record(spec, attachment, base_url))


def _basic(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def _scope_for(path: str) -> str | None:
    if path.startswith("/api/requisitions"):
        return Scope.REQUISITION
    if path.endswith("/comments"):
        return Scope.COMMENT
    if "/attachments" in path or path.startswith("/api/files/"):
        return Scope.COMMON
    if path.startswith(("/api/purchase_orders", "/api/purchase_order_lines")):
        return Scope.PURCHASE_ORDER
    return None


def _po_of(internal_id: int, knobs: Any) -> PoSpec | None:
    number = internal_id - PO_ID_OFFSET
    if number <= 0:
        return None
    spec = po_spec(str(number), knobs.seed, knobs.attachment_size_range)
    return None if spec.kind is PoKind.NOT_FOUND else spec


def _owner(level: str, owner: int, knobs: Any) -> tuple[PoSpec, tuple[AttachmentSpec, ...]] | None:
    """The PO behind an attachment list's owner, and that list."""
    if level == "purchase_orders":
        spec = _po_of(owner, knobs)
        return (spec, spec.attachments) if spec else None
    if level == "purchase_order_lines":
        spec = _po_of(owner // LINE_ID_FACTOR, knobs)
        if spec is None or owner % LINE_ID_FACTOR not in range(1, _line_count(spec) + 1):
            return None
        return spec, spec.line_attachments if owner % LINE_ID_FACTOR == LINE_WITH_ATTACHMENTS else ()
    spec = requisition_po(str(owner), knobs.seed, knobs.attachment_size_range)
    return (spec, spec.requisition_attachments) if spec else None


def _find(spec: PoSpec, attachment_id: str) -> AttachmentSpec | None:
    try:
        return spec.attachment(attachment_id)
    except KeyError:
        return None


def _file(spec: PoSpec, attachment: AttachmentSpec) -> ApiAnswer:
    return ApiAnswer(
        200, content_type=attachment.content_type, file=attachment, po_id=spec.po_id, truncated=attachment.truncated
    )


def _internal_id(spec: PoSpec) -> int:
    return int(spec.po_id) + PO_ID_OFFSET


def _line_count(spec: PoSpec) -> int:
    return 1 + int(spec.po_id) % 3


def _po_record(spec: PoSpec, base_url: str, inline: bool) -> dict[str, Any]:
    """A PO as the API shows it; with `inline`, its header's and lines' attachments inside it, as Coupa's full
    PO record has them."""
    po_id = _internal_id(spec)
    requisition = spec.requisition_id
    lines: list[dict[str, Any]] = [
        {"id": po_id * LINE_ID_FACTOR + n, "line-num": n, "description": f"Line {n}"}
        for n in range(1, _line_count(spec) + 1)
    ]
    record = {
        "id": po_id,
        "po-number": spec.po_id,
        "status": "issued",
        "supplier": {"id": 500 + sum(map(ord, spec.supplier)) % 1000, "name": spec.supplier},
        "requisition-header": {"id": int(requisition)} if requisition else None,
        "order-lines": lines,
    }
    if inline:
        record["attachments"] = [_attachment_record(spec, a, base_url) for a in spec.attachments]
        record["comments"] = _comments(spec, base_url)
        for line in lines:
            listed = spec.line_attachments if line["line-num"] == LINE_WITH_ATTACHMENTS else ()
            line["attachments"] = [_attachment_record(spec, a, base_url) for a in listed]
    return record


def _comments(spec: PoSpec, base_url: str) -> list[dict[str, Any]]:
    if not spec.comment_attachments:
        return []
    return [
        {
            "id": _internal_id(spec) * COMMENT_ID_FACTOR + 1,
            "comments": COMMENT_TEXT,
            "attachments": [_attachment_record(spec, a, base_url) for a in spec.comment_attachments],
        }
    ]


def _attachment_record(spec: PoSpec, attachment: AttachmentSpec, base_url: str) -> dict[str, Any]:
    return {
        "id": int(attachment.file_id),
        "type": "AttachmentFile",
        "intent": "Internal" if int(attachment.file_id) % 2 else "Supplier",
        "file-file-name": attachment.name,
        "file-content-type": attachment.content_type,
        "file-file-size": attachment.size,
        "file-url": f"{base_url}/api/files/{_internal_id(spec)}/{attachment.file_id}",
        "url": None,
        "text": None,
    }


def _fields(query: dict[str, str]) -> list[Any] | bool | None:
    """The `fields=` list; None when absent, False when malformed."""
    raw = query.get("fields")
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return False
    return value if isinstance(value, list) else False


def _trim(record: dict[str, Any], fields: list[Any] | bool | None) -> dict[str, Any]:
    if not isinstance(fields, list):
        return record
    out: dict[str, Any] = {}
    for item in fields:
        if isinstance(item, str) and item in record:
            out[item] = record[item]
        elif isinstance(item, dict):
            for name, sub in item.items():
                value = record.get(name)
                if isinstance(value, dict) and isinstance(sub, list):
                    out[name] = _trim(value, sub)
                elif isinstance(value, list) and isinstance(sub, list):
                    out[name] = [_trim(v, sub) if isinstance(v, dict) else v for v in value]
    return out
