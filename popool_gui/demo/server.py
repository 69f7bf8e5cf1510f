"""The embedded demo portal: a local web server that behaves like a Coupa tenant, stdlib only.

It serves on 127.0.0.1 (port 0 picks a free one) for new users without a portal, the integration tests and
the benchmarks. What each PO holds comes from `data.py`, the markup from `pages.py`, the file bytes from
`files.py`. `DemoKnobs` make it slow or faulty on purpose, reproducibly:

- faults are drawn per request from `random.Random(seed, fault, path, n)` where n counts the requests for that
  path, so a run is reproducible and a retry of a URL that failed gets a fresh draw;
- PO and requisition pages can hang or answer 500; downloads can hang, answer 500 or be truncated (the full
  Content-Length is announced, half the bytes are sent, then the connection closes). Home, sign-in, static
  files and `/healthz` never fail, so a browser can always sign in and a caller can always probe readiness;
- a hanging request holds its connection until `hang_s` passes or the portal stops: handler threads are daemons
  and `stop()` closes every open connection, so stopping never waits for them.
- the attachment list appears by script `render_delay_ms(knobs, id)` after load: `js_render_delay_ms` for every
  page, or with `js_render_delay_max_ms` a delay drawn per page from (seed, id) in between; two items first, the
  rest `second_batch_ms` later. With `list_via_fetch` the script then fetches the list from the page's JSON
  endpoint (`/order_headers/{id}/attachments.json`; `skins.py` has every skin's URLs), which has the pages'
  sign-in rules and faults (it does not use up `expire_after_requests`) and answers `list_fetch_latency_ms`
  late. `loading_placeholder` shows `div#attachments-loading.loading-indicator` until the list appears;
- `skin` picks Coupa's URLs and markup (`pages.py`) or another portal's (`other_pages.py`, no "rendered" marker);
  sign-in, sessions, file bytes and faults are the same in both.

Sign-in: without a valid session cookie every PO, requisition and attachment URL redirects (302) to
`/sessions/new?return_to=...` (``sign_in="auto"``) or `/sso/login?return_to=...` (``sign_in="sso"``).
In auto mode a visit to `/` signs in; in SSO mode `/` redirects to the SSO page, whose "Continue with SSO"
button signs in and returns. The password form on `/sessions/new` signs in with anything in both modes.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import re
import secrets
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import structlog

from popool_gui.demo import other_pages, pages, skins
from popool_gui.demo.api import ALL_SCOPES, ApiAnswer, ApiBytes, ApiRequest, DemoApi
from popool_gui.demo.data import (
    DEFAULT_SIZE_RANGE,
    AttachmentSpec,
    PageVariant,
    PoKind,
    PoSpec,
    file_bytes,
    po_spec,
    requisition_po,
)
from popool_gui.demo.files import png_image
from popool_gui.demo.list_script import SECOND_STEP_MS, ListRender, list_items, list_json
from popool_gui.demo.skins import PageKind, PageRoute, Skin

log = structlog.get_logger()

HOST = "127.0.0.1"
SESSION_MAX_AGE_S = 8 * 3600
HOME_SAMPLE_IDS: tuple[str, ...] = ("100007", "100001", "100005", "100011", "100003", "100004")

JSON_TYPE = "application/json; charset=utf-8"

_STATIC_PATH = re.compile(r"^/static/([\w.-]+)$")


class SignIn(StrEnum):
    AUTO = "auto"  # visiting the home page signs in
    SSO = "sso"  # the home page redirects to an SSO page where a person clicks "Continue with SSO"


class Fault(StrEnum):
    ERROR_500 = "error_500"
    HANG = "hang"
    TRUNCATED = "truncated"


class FaultTarget(StrEnum):
    """Which requests the fault shares apply to: a fault on one kind alone tests what popool makes of it."""

    PO_PAGE = "po"  # PO pages and their JSON lists
    REQUISITION_PAGE = "requisition"  # requisition pages and their JSON lists
    FILE = "file"  # attachment downloads


_PAGE_FAULTS = (Fault.HANG, Fault.ERROR_500)
_DOWNLOAD_FAULTS = (Fault.HANG, Fault.ERROR_500, Fault.TRUNCATED)


@dataclass(frozen=True, slots=True)
class DemoKnobs:
    page_latency_ms: int = 0
    js_render_delay_ms: int = 400  # the attachment list appears this long after the page loads
    # 0 = every page waits js_render_delay_ms; above it, each page's delay is drawn in between (render_delay_ms)
    js_render_delay_max_ms: int = 0
    list_via_fetch: bool = False  # the script fetches the list from the page's JSON endpoint after the delay
    list_fetch_latency_ms: int = 0  # how long that endpoint takes to answer
    loading_placeholder: bool = False  # a visible "Loading documents..." element until the list is shown
    second_batch_ms: int = SECOND_STEP_MS  # the list shows two items, then the rest this much later
    download_bytes_per_s: int = 0  # 0 = unlimited
    error_500_share: float = 0.0
    hang_share: float = 0.0
    hang_s: float = 300.0
    truncated_share: float = 0.0
    faults_on: tuple[FaultTarget, ...] = tuple(FaultTarget)  # the requests the three shares above apply to
    sign_in: SignIn = SignIn.AUTO
    expire_after_requests: int = 0  # 0 = never; else a session ends after this many PO/requisition pages
    seed: int = 0
    attachment_size_range: tuple[int, int] = DEFAULT_SIZE_RANGE
    toolbar: bool = True  # a fixed toolbar that covers part of the page
    skin: Skin = Skin.COUPA  # whose URLs and markup the portal serves (skins.py)
    # The API (api.py): the one client it knows, the scopes that client holds, how it serves bytes, its limits.
    api_client_id: str = "popool-demo"
    api_client_secret: str = "demo-secret"
    api_scopes: tuple[str, ...] = ALL_SCOPES
    api_bytes: ApiBytes = ApiBytes.ACCEPT
    api_rate_per_s: int = 0  # 0 = no limit; beyond it in any second: 429
    api_token_lifetime_s: float = 86_400.0
    api_503_share: float = 0.0
    api_inline_attachments: bool = True  # PO records hold their header's and lines' attachments, and comments

    def __post_init__(self) -> None:
        problems = []
        for name, kind in (("sign_in", SignIn), ("skin", Skin), ("api_bytes", ApiBytes)):
            try:
                object.__setattr__(self, name, kind(getattr(self, name)))
            except ValueError:
                problems.append(f"{name} must be one of {', '.join(kind)}, not {getattr(self, name)!r}")
        object.__setattr__(self, "api_scopes", tuple(self.api_scopes))
        if self.api_rate_per_s < 0 or self.api_token_lifetime_s <= 0:
            problems.append("api_rate_per_s must not be negative and api_token_lifetime_s must be positive")
        for name in ("error_500_share", "hang_share", "truncated_share", "api_503_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"{name} must be between 0 and 1, not {getattr(self, name)}")
        for name in (
            "page_latency_ms",
            "js_render_delay_ms",
            "js_render_delay_max_ms",
            "list_fetch_latency_ms",
            "second_batch_ms",
            "download_bytes_per_s",
            "expire_after_requests",
        ):
            if getattr(self, name) < 0:
                problems.append(f"{name} must not be negative, not {getattr(self, name)}")
        if 0 < self.js_render_delay_max_ms < self.js_render_delay_ms:
            problems.append(
                f"js_render_delay_max_ms must be 0 or at least js_render_delay_ms ({self.js_render_delay_ms}), "
                f"not {self.js_render_delay_max_ms}"
            )
        try:
            object.__setattr__(self, "faults_on", tuple(FaultTarget(t) for t in self.faults_on))
        except ValueError:
            problems.append(f"faults_on takes {', '.join(FaultTarget)}, not {self.faults_on!r}")
        if self.hang_s < 0:
            problems.append(f"hang_s must not be negative, not {self.hang_s}")
        low, high = self.attachment_size_range
        object.__setattr__(self, "attachment_size_range", (int(low), int(high)))
        if not 1 <= low <= high:
            problems.append(f"attachment_size_range must be (low, high) with 1 <= low <= high, not {(low, high)}")
        if problems:
            raise ValueError("; ".join(problems))


def render_delay_ms(knobs: DemoKnobs, page_id: str) -> int:
    """How long after load the page of `page_id` (a demo PO id as `po_spec` takes it, or a requisition id) starts
    rendering its attachment list: drawn from (seed, page_id), so every run and every skin agree."""
    low, high = knobs.js_render_delay_ms, knobs.js_render_delay_max_ms
    if high <= low:
        return low
    return random.Random(f"popool-demo-render-delay:{knobs.seed}:{page_id}").randint(low, high)


@dataclass(slots=True)
class _Session:
    page_requests: int = 0


def _chance(seed: int, fault: Fault, path: str, hit: int, share: float) -> bool:
    if share <= 0.0:
        return False
    if share >= 1.0:
        return True
    return random.Random(f"popool-demo-fault:{seed}:{fault}:{path}:{hit}").random() < share


def _safe_return_to(value: str) -> str:
    """Only paths on this server: an open redirect would be a bad habit even in a demo."""
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the exact name in RFC 5987 form."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@functools.cache
def _static_assets() -> dict[str, tuple[bytes, str]]:
    rng = random.Random("popool-demo-static")
    # The banner is noise, so it does not compress: pages carry a real image weight for "block images" runs.
    return {
        "logo.png": (png_image(64, 64, rng), "image/png"),
        "banner.png": (png_image(320, 60, rng, noise=True), "image/png"),
        "demo-sans.woff2": (b"wOF2" + rng.randbytes(8_000), "font/woff2"),
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for hanging handlers

    def __init__(self, portal: DemoPortal, port: int) -> None:
        self.portal = portal
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__((HOST, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return  # browsers cancel downloads and drop keep-alive connections all the time
        log.exception("demo_portal_error", client=str(client_address))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CoupaDemo/1.0"
    timeout = 120  # an idle keep-alive connection gives its thread back eventually
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: http.server writes every request to stderr; the counters and structlog say enough."""

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # -- routing -----------------------------------------------------------------------------------------

    @property
    def portal(self) -> DemoPortal:
        return self.server.portal

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        hit = self.portal._record(path)
        knobs = self.portal.knobs
        if path == "/oauth2/token" or path.startswith("/api/"):
            self._api(method, path, parts.query, hit, knobs)
            return
        if method == "POST":
            if path in ("/sessions", "/sso/login"):
                self._sign_in()
            else:
                self._send(404, pages.missing_page())
            return
        if path == "/healthz":
            self._send(200, b"ok\n", "text/plain; charset=utf-8")
        elif path == "/favicon.ico" or _STATIC_PATH.match(path):
            self._static("logo.png" if path == "/favicon.ico" else path.rsplit("/", 1)[-1])
        elif path == "/":
            self._home(knobs)
        elif path == "/sessions/new":
            self._send(200, pages.login_page(self._return_to(parts.query)))
        elif path == "/sso/login":
            self._send(200, pages.sso_page(self._return_to(parts.query)))
        elif (page := skins.page_route(knobs.skin, path)) is not None:
            if page.list_json:
                self._attachment_list(knobs, page, path, hit)
            else:
                self._page(knobs, page, path, hit)
        elif (file := skins.file_route(knobs.skin, path)) is not None:
            self._attachment(knobs, file[0], file[1], path, hit)
        else:
            self._missing(knobs)

    def _home(self, knobs: DemoKnobs) -> None:
        headers: list[tuple[str, str]] = []
        if not self.portal._authorize(self._token(), page=False):
            if knobs.sign_in is SignIn.SSO:
                self._redirect("/sso/login?return_to=%2F")
                return
            headers.append(("Set-Cookie", self._new_session_cookie()))
        self._wait_latency(knobs)
        skin = knobs.skin
        samples = tuple(
            (
                skins.page_path(skin, PageKind.PO, i),
                f"Purchase Order #{i}" if skin is Skin.COUPA else f"Request {skins.request_number(i)}",
            )
            for i in HOME_SAMPLE_IDS
        )
        brand = pages.BRAND if skin is Skin.COUPA else other_pages.BRAND
        self._send(200, pages.home_page(samples, toolbar=knobs.toolbar, brand=brand), headers=headers)

    def _page(self, knobs: DemoKnobs, page: PageRoute, path: str, hit: int) -> None:
        target = _page_target(page)
        if not self._signed_in(knobs, page=True) or self._page_fault(knobs, path, hit, knobs.page_latency_ms, target):
            return
        found = self.portal._page_spec(page)
        if found is None:
            self._not_found(knobs, PageVariant.STANDARD if page.page_id else PageVariant.MISSING_PAGE)
            return
        spec, attachments = found
        if spec.kind is PoKind.NOT_FOUND:
            self._not_found(knobs, spec.variant)
            return
        if spec.kind is PoKind.DENIED:
            if knobs.skin is Skin.COUPA:
                self._send(200, pages.denied_page(spec.po_id, spec.variant, toolbar=knobs.toolbar))
            else:
                self._send(other_pages.DENIED_STATUS, other_pages.denied_page(spec.po_id, toolbar=knobs.toolbar))
            return
        assert page.page_id is not None  # a page without an id has no spec
        render = ListRender(
            delay_ms=render_delay_ms(knobs, page.page_id),
            second_batch_ms=knobs.second_batch_ms,
            fetch_url=skins.list_path(knobs.skin, page.kind, page.page_id) if knobs.list_via_fetch else "",
            placeholder=knobs.loading_placeholder,
        )
        skin_pages = pages if knobs.skin is Skin.COUPA else other_pages
        build = skin_pages.order_page if page.kind is PageKind.PO else skin_pages.requisition_page
        items = self.portal._list_items(spec, attachments)
        self._send(200, build(spec, items, render=render, toolbar=knobs.toolbar))

    def _attachment_list(self, knobs: DemoKnobs, page: PageRoute, path: str, hit: int) -> None:
        """A page's attachment list as JSON: the page's sign-in rules and faults, its own latency."""
        latency_ms, target = knobs.list_fetch_latency_ms, _page_target(page)
        if not self._signed_in(knobs, page=False) or self._page_fault(knobs, path, hit, latency_ms, target):
            return
        found = self.portal._page_spec(page)
        if found is None or found[0].kind in (PoKind.NOT_FOUND, PoKind.DENIED):
            self._send(404, b'{"error": "no such page"}', JSON_TYPE)
            return
        items = self.portal._list_items(*found)
        self._send(200, list_json(items), JSON_TYPE, headers=[("X-Content-Type-Options", "nosniff")])

    def _not_found(self, knobs: DemoKnobs, variant: PageVariant) -> None:
        if knobs.skin is Skin.COUPA:
            self._send(200, pages.not_found_page(variant, toolbar=knobs.toolbar))
        else:
            self._send(other_pages.NOT_FOUND_STATUS, other_pages.not_found_page(toolbar=knobs.toolbar))

    def _missing(self, knobs: DemoKnobs) -> None:
        if knobs.skin is Skin.COUPA:
            self._send(404, pages.missing_page())
        else:
            self._send(404, other_pages.not_found_page(toolbar=False))

    def _attachment(self, knobs: DemoKnobs, po_id: str, file_id: str, path: str, hit: int) -> None:
        if not self._signed_in(knobs, page=False):
            return
        spec = self.portal.po_spec(po_id)
        try:
            attachment = spec.attachment(file_id)
        except KeyError:
            self._send(404, pages.missing_page())
            return
        if attachment.truncated:
            fault: Fault | None = self.portal._count_fault(Fault.TRUNCATED, path, hit)
        else:
            fault = self.portal._draw_fault(knobs, path, hit, _DOWNLOAD_FAULTS, FaultTarget.FILE)
        if fault is Fault.HANG:
            self._hang(knobs)
            return
        if fault is Fault.ERROR_500:
            self._send(500, pages.server_error_page())
            return
        data = self.portal.file_bytes(po_id, file_id)
        self.send_response(200)
        self.send_header("Content-Type", attachment.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Disposition", content_disposition(attachment.name))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if fault is Fault.TRUNCATED:
            self._write(data[: len(data) // 2], knobs.download_bytes_per_s)
            self.close_connection = True  # the client sees the connection end before Content-Length bytes
        else:
            self._write(data, knobs.download_bytes_per_s)

    def _api(self, method: str, path: str, query: str, hit: int, knobs: DemoKnobs) -> None:
        api = self.portal.api
        length = min(int(self.headers.get("Content-Length") or 0), 64 * 1024)
        request = ApiRequest(
            method, path, query, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
        )
        if path == "/oauth2/token":
            answer = api.token(request, knobs) if method == "POST" else ApiAnswer(405, b"{}")
        elif method != "GET":
            answer = ApiAnswer(405, b"{}")
        else:
            answer = api.admit(request, knobs, hit) or self._api_answer(request, knobs)
        if answer.file is None:
            self._send(answer.status, answer.body, answer.content_type, headers=list(answer.headers))
            return
        data = self.portal.file_bytes(answer.po_id, answer.file.file_id)
        self.send_response(200)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Disposition", content_disposition(answer.file.name))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if answer.truncated:
            self._write(data[: len(data) // 2], knobs.download_bytes_per_s)
            self.close_connection = True
        else:
            self._write(data, knobs.download_bytes_per_s)

    def _api_answer(self, request: ApiRequest, knobs: DemoKnobs) -> ApiAnswer:
        self._wait_latency(knobs)
        return self.portal.api.answer(request, knobs, self.portal.url)

    def _sign_in(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace")) if length else {}
        return_to = _safe_return_to(form.get("return_to", ["/"])[0])
        self._redirect(return_to, headers=[("Set-Cookie", self._new_session_cookie())])

    def _static(self, name: str) -> None:
        asset = _static_assets().get(name)
        if asset is None:
            self._send(404, pages.missing_page())
            return
        data, content_type = asset
        self._send(200, data, content_type, headers=[("Cache-Control", "public, max-age=3600")])

    # -- sign-in, faults, sending -------------------------------------------------------------------------

    def _token(self) -> str:
        try:
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
        except CookieError:
            return ""
        morsel = cookie.get(self.portal.cookie_name)
        return morsel.value if morsel else ""

    def _new_session_cookie(self) -> str:
        token = self.portal._new_session()
        return f"{self.portal.cookie_name}={token}; Path=/; Max-Age={SESSION_MAX_AGE_S}; HttpOnly; SameSite=Lax"

    def _return_to(self, query: str) -> str:
        return _safe_return_to(parse_qs(query).get("return_to", ["/"])[0])

    def _signed_in(self, knobs: DemoKnobs, *, page: bool) -> bool:
        """True when the request has a live session; otherwise the login redirect is already sent."""
        if self.portal._authorize(self._token(), page=page):
            return True
        login = "/sso/login" if knobs.sign_in is SignIn.SSO else "/sessions/new"
        self._redirect(f"{login}?return_to={quote(self.path, safe='')}")
        return False

    def _page_fault(self, knobs: DemoKnobs, path: str, hit: int, latency_ms: int, target: FaultTarget) -> bool:
        """Apply the latency and any drawn page fault; True when the fault already answered the request."""
        fault = self.portal._draw_fault(knobs, path, hit, _PAGE_FAULTS, target)
        if fault is Fault.HANG:
            self._hang(knobs)
            return True
        if latency_ms:
            self.portal._stopping.wait(latency_ms / 1000)
        if fault is Fault.ERROR_500:
            self._send(500, pages.server_error_page())
            return True
        return False

    def _wait_latency(self, knobs: DemoKnobs) -> None:
        if knobs.page_latency_ms:
            self.portal._stopping.wait(knobs.page_latency_ms / 1000)

    def _hang(self, knobs: DemoKnobs) -> None:
        self.portal._stopping.wait(knobs.hang_s)
        self.close_connection = True

    def _redirect(self, location: str, headers: list[tuple[str, str]] | None = None) -> None:
        self._send(302, b"", "text/plain", headers=[("Location", location), *(headers or [])])

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        extra = headers or []
        if not any(name == "Cache-Control" for name, _ in extra):
            self.send_header("Cache-Control", "no-store")
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _write(self, data: bytes, bytes_per_s: int) -> None:
        """Send `data`, no faster than `bytes_per_s` when it is set: the server is the slow party."""
        if bytes_per_s <= 0:
            self.wfile.write(data)
            return
        chunk = max(1024, min(64 * 1024, bytes_per_s // 10))
        started = time.monotonic()
        for offset in range(0, len(data), chunk):
            piece = data[offset : offset + chunk]
            self.wfile.write(piece)
            delay = started + (offset + len(piece)) / bytes_per_s - time.monotonic()
            if delay > 0 and self.portal._stopping.wait(delay):
                raise ConnectionAbortedError("demo portal stopping")


class DemoPortal:
    """The demo portal server. `start()` returns once it accepts connections; `stop()` within about a second."""

    def __init__(self, knobs: DemoKnobs | None = None, *, port: int = 0, **changes: Any) -> None:
        base = knobs or DemoKnobs()
        self._knobs = dataclasses.replace(base, **changes) if changes else base
        self._requested_port = port
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._hits: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._requests = 0
        self._sign_ins = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.api = DemoApi()

    # -- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> DemoPortal:
        if self._server is not None:
            raise RuntimeError("the demo portal is already running")
        self._stopping.clear()
        self._server = _Server(self, self._requested_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-portal", daemon=True
        )
        self._thread.start()
        log.info("demo_portal_started", url=self.url)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()  # wakes hanging, throttled and slow handlers
        server.shutdown()
        server.server_close()
        with server.connections_lock:
            connections = list(server.connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        thread.join(timeout=2.0)
        self._server = self._thread = None
        log.info("demo_portal_stopped", requests=self.requests_served)

    def __enter__(self) -> DemoPortal:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the demo portal is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:54321 (no trailing slash)."""
        return f"http://{HOST}:{self.port}"

    def po_url(self, po_id: str) -> str:
        """The page of a demo PO in the current skin (`100007` -> .../procurement/requests/PR-0100007 in OTHER)."""
        return f"{self.url}{skins.page_path(self._knobs.skin, PageKind.PO, po_id)}"

    def attachment_url(self, po_id: str, file_id: str) -> str:
        return f"{self.url}{skins.file_path(self._knobs.skin, po_id, file_id)}"

    def list_url(self, po_id: str) -> str:
        """A PO page's attachment list as JSON (what the page's script fetches with `list_via_fetch`)."""
        return f"{self.url}{skins.list_path(self._knobs.skin, PageKind.PO, po_id)}"

    @property
    def cookie_name(self) -> str:
        # Cookies ignore ports: a per-port name keeps two portals on 127.0.0.1 from signing each other out.
        return f"coupa_demo_session_{self.port}"

    # -- knobs and sessions -------------------------------------------------------------------------------

    @property
    def knobs(self) -> DemoKnobs:
        return self._knobs

    def set_knobs(self, **changes: Any) -> DemoKnobs:
        """Change knobs at run time (requests already in progress keep the knobs they started with)."""
        with self._lock:
            self._knobs = dataclasses.replace(self._knobs, **changes)
            knobs = self._knobs
        log.info("demo_portal_knobs", **{key: str(value) for key, value in changes.items()})
        return knobs

    def expire_sessions(self) -> None:
        """Invalidate every session now: the next protected request meets the login wall."""
        with self._lock:
            self._sessions.clear()

    @property
    def sign_ins(self) -> int:
        """Sessions created since the start (home visits in auto mode, SSO and password sign-ins)."""
        with self._lock:
            return self._sign_ins

    # -- counters -----------------------------------------------------------------------------------------

    @property
    def requests_served(self) -> int:
        with self._lock:
            return self._requests

    def hits(self, path: str) -> int:
        """Requests for one path (without the query string), e.g. hits("/sessions/new")."""
        with self._lock:
            return self._hits[path]

    def path_hits(self) -> dict[str, int]:
        with self._lock:
            return dict(self._hits)

    def faults_served(self) -> dict[str, int]:
        """How many of each fault were injected, by Fault value."""
        with self._lock:
            return dict(self._faults)

    def reset_counters(self) -> None:
        with self._lock:
            self._hits.clear()
            self._faults.clear()
            self._requests = 0
            self._sign_ins = 0

    # -- data ---------------------------------------------------------------------------------------------

    def po_spec(self, po_id: str | int) -> PoSpec:
        """What a PO holds; `po_id` may be the portal id a profile captured (`0100007` in the other skin)."""
        knobs = self._knobs
        return po_spec(skins.demo_id(knobs.skin, str(po_id)), knobs.seed, knobs.attachment_size_range)

    def file_bytes(self, po_id: str | int, file_id: str | int) -> bytes:
        knobs = self._knobs
        return file_bytes(skins.demo_id(knobs.skin, str(po_id)), str(file_id), knobs.seed, knobs.attachment_size_range)

    def _page_spec(self, page: PageRoute) -> tuple[PoSpec, tuple[AttachmentSpec, ...]] | None:
        """The PO behind a page and the attachments that page lists, or None when there is no such page."""
        if page.page_id is None:
            return None
        if page.kind is PageKind.PO:
            spec = self.po_spec(page.page_id)
            return spec, spec.attachments
        knobs = self._knobs
        found = requisition_po(page.page_id, knobs.seed, knobs.attachment_size_range)
        return (found, found.requisition_attachments) if found else None

    def _list_items(self, spec: PoSpec, attachments: tuple[AttachmentSpec, ...]) -> list[dict[str, str]]:
        skin = self._knobs.skin
        return list_items(attachments, lambda file_id: skins.file_path(skin, spec.po_id, file_id))

    # -- used by the request handler ----------------------------------------------------------------------

    def _record(self, path: str) -> int:
        """Count a request; returns how many requests this path has had, this one included."""
        with self._lock:
            self._requests += 1
            self._hits[path] += 1
            return self._hits[path]

    def _new_session(self) -> str:
        token = secrets.token_urlsafe(18)
        with self._lock:
            self._sessions[token] = _Session()
            self._sign_ins += 1
        return token

    def _authorize(self, token: str, *, page: bool) -> bool:
        """Whether `token` is a live session; a page request uses up one of its `expire_after_requests`."""
        with self._lock:
            session = self._sessions.get(token) if token else None
            if session is None:
                return False
            limit = self._knobs.expire_after_requests
            if page and limit:
                if session.page_requests >= limit:
                    del self._sessions[token]
                    return False
                session.page_requests += 1
            return True

    def _draw_fault(
        self, knobs: DemoKnobs, path: str, hit: int, faults: tuple[Fault, ...], target: FaultTarget
    ) -> Fault | None:
        if target not in knobs.faults_on:
            return None
        shares = {
            Fault.HANG: knobs.hang_share,
            Fault.ERROR_500: knobs.error_500_share,
            Fault.TRUNCATED: knobs.truncated_share,
        }
        for fault in faults:
            if _chance(knobs.seed, fault, path, hit, shares[fault]):
                return self._count_fault(fault, path, hit)
        return None

    def _count_fault(self, fault: Fault, path: str, hit: int) -> Fault:
        with self._lock:
            self._faults[fault.value] += 1
        log.debug("demo_portal_fault", fault=fault.value, path=path, hit=hit)
        return fault


def _page_target(page: PageRoute) -> FaultTarget:
    return FaultTarget.PO_PAGE if page.kind is PageKind.PO else FaultTarget.REQUISITION_PAGE


@contextmanager
def demo_portal(port: int = 0, **knobs: Any) -> Iterator[DemoPortal]:
    """A running demo portal for the duration of the block: `with demo_portal(seed=3) as portal: ...`."""
    portal = DemoPortal(DemoKnobs(**knobs), port=port)
    portal.start()
    try:
        yield portal
    finally:
        portal.stop()
