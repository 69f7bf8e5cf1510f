"""The API client against a scripted transport: where the token goes, redirects, retries, renewal, sizes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from popool_gui.api import client as client_mod
from popool_gui.api.access import NEW_TOKEN_WAIT_S, REQUIRED_SCOPES, ApiAccess, ApiSetupError
from popool_gui.api.attachments import ApiAttachment, Kind, _inline_comments
from popool_gui.api.client import ApiClient, ApiFailure
from popool_gui.api.files import Fetcher
from popool_gui.batch.model import AttachmentSource

BASE = "https://acme.example.com"
SECRET = "s3cret"


def _token(request: httpx.Request) -> httpx.Response:
    body = {"access_token": "T1", "token_type": "bearer", "expires_in": 86400, "scope": " ".join(REQUIRED_SCOPES)}
    return httpx.Response(200, json=body)


def _client(
    handler: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request], api_key: str = ""
) -> ApiClient:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _token(request) if request.url.path == "/oauth2/token" else handler(request)

    access = ApiAccess(BASE, "popool", SECRET, rate_per_s=25.0, token_wait_s=0.0, api_key=api_key)
    return ApiClient(access, transport=httpx.MockTransport(record))


def _run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_mod, "_backoff_s", lambda attempt: 0.0)


def _attachment(file_url: str, size: int = 0) -> ApiAttachment:
    return ApiAttachment(AttachmentSource.HEADER, 7, Kind.FILE, "a.pdf", size, "", file_url)


def _fetch(handler: Callable[[httpx.Request], httpx.Response], tmp_path: Path, attachment: ApiAttachment) -> object:
    seen: list[httpx.Request] = []

    async def go() -> object:
        client = _client(handler, seen)
        try:
            return await Fetcher(client, tmp_path).stage(attachment)
        finally:
            await client.aclose()

    result = _run(go())
    return result, seen


def test_the_token_never_leaves_the_portals_origin(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "acme.example.com":
            return httpx.Response(302, headers={"Location": "https://files.example.net/blob/1"})
        return httpx.Response(200, content=b"x" * 10)

    (path, _), seen = _fetch(handler, tmp_path, _attachment(f"{BASE}/api/files/1/7", size=10))  # type: ignore[misc]
    assert path.read_bytes() == b"x" * 10
    outside = [r for r in seen if r.url.host == "files.example.net"]
    assert outside and all("authorization" not in r.headers for r in outside)
    inside = [r for r in seen if r.url.path.startswith("/api/")]
    assert inside and all(r.headers["authorization"] == "Bearer T1" for r in inside)
    assert all(SECRET not in r.headers.get("authorization", "") for r in seen if r.url.path != "/oauth2/token")


def test_a_file_url_on_another_site_gets_no_token_and_https_to_http_is_refused(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.example.net":
            return httpx.Response(302, headers={"Location": "http://cdn.example.net/plain"})
        return httpx.Response(200, content=b"y")

    with pytest.raises(ApiFailure, match="refused a redirect"):
        _fetch(handler, tmp_path, _attachment("https://cdn.example.net/f"))


def test_more_bytes_than_announced_are_cut_off(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"z" * 5000)

    with pytest.raises(ApiFailure, match="more bytes than"):
        _fetch(handler, tmp_path, _attachment(f"{BASE}/api/files/1/7", size=100))
    assert not list(tmp_path.iterdir()), "nothing half-written stays in staging"


def test_429_then_success_and_401_renews_the_token_once() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(429)
        if calls["n"] == 2:
            return httpx.Response(401, json={"error": "invalid_token"})
        return httpx.Response(200, json=[])

    seen: list[httpx.Request] = []

    async def go() -> object:
        client = _client(handler, seen)
        try:
            return await client.get_json("/api/purchase_orders", {"po-number": "1"})
        finally:
            await client.aclose()

    assert _run(go()) == []
    assert sum(r.url.path == "/oauth2/token" for r in seen) == 2


def test_a_refused_client_and_a_missing_scope_are_setup_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client"})

    async def sign_in(transport: httpx.MockTransport) -> object:
        client = ApiClient(ApiAccess(BASE, "popool", SECRET, token_wait_s=0.0), transport=transport)
        try:
            return await client.sign_in()
        finally:
            await client.aclose()

    with pytest.raises(ApiSetupError, match="refused API client 'popool'"):
        _run(sign_in(httpx.MockTransport(refuse)))

    def narrow(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "T", "expires_in": 60, "scope": "core.common.read"})

    with pytest.raises(ApiSetupError, match=r"lacks the scope core\.purchase_order\.read"):
        _run(sign_in(httpx.MockTransport(narrow)))


def test_url_attachments_become_shortcuts_and_odd_addresses_are_refused(tmp_path: Path) -> None:
    link = ApiAttachment(
        AttachmentSource.COMMENT, 9, Kind.URL, "attachment 9", 0, "", "", url="https://example.org/spec"
    )

    async def stage(attachment: ApiAttachment) -> object:
        client = ApiClient(ApiAccess(BASE, "popool", SECRET, token_wait_s=0.0))
        try:
            return await Fetcher(client, tmp_path).stage(attachment)
        finally:
            await client.aclose()

    path, name = _run(stage(link))  # type: ignore[misc]
    assert name == "attachment 9.url"
    assert path.read_bytes() == b"[InternetShortcut]\r\nURL=https://example.org/spec\r\n"
    for bad in ("javascript:alert(1)", "https://x.org/\r\nIconFile=evil", "file:///etc/passwd"):
        with pytest.raises(ApiFailure, match="does not write"):
            _run(stage(ApiAttachment(AttachmentSource.COMMENT, 9, Kind.URL, "x", 0, "", "", url=bad)))


def _tokens(seen: list[httpx.Request]) -> int:
    return sum(r.url.path == "/oauth2/token" for r in seen)


def test_a_new_token_is_first_used_after_its_wait() -> None:
    times: dict[str, float] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        times.setdefault("used", time.monotonic())
        return httpx.Response(200, json=[])

    def record(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            times["token"] = time.monotonic()
            return _token(request)
        return handler(request)

    async def go() -> None:
        access = ApiAccess(BASE, "popool", SECRET, token_wait_s=0.3)
        client = ApiClient(access, transport=httpx.MockTransport(record))
        try:
            await client.get_json("/api/purchase_orders")
        finally:
            await client.aclose()

    _run(go())
    assert times["used"] - times["token"] >= 0.3
    # Not a setting: 5 s as Coupa advises, none for a portal on this machine (the demo's, the tests').
    assert ApiAccess(BASE, "popool", SECRET).local().token_wait_s == NEW_TOKEN_WAIT_S == 5.0
    assert ApiAccess("http://127.0.0.1:8765", "popool", SECRET).local().token_wait_s == 0.0


def test_401_gets_exactly_one_new_token_however_many_requests_met_it() -> None:
    issued = iter(["T1", "T2", "T3"])

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/oauth2/token":
            body = {"access_token": next(issued), "expires_in": 86400, "scope": " ".join(REQUIRED_SCOPES)}
            return httpx.Response(200, json=body)
        if request.headers["Authorization"] == "Bearer T1" or request.url.path == "/api/always-401":
            return httpx.Response(401, json={"error": "invalid_token"})
        return httpx.Response(200, json=[])

    seen: list[httpx.Request] = []

    async def go() -> list[object]:
        access = ApiAccess(BASE, "popool", SECRET, token_wait_s=0.0)
        client = ApiClient(access, transport=httpx.MockTransport(record))
        try:
            found = await asyncio.gather(*(client.get_json("/api/purchase_orders") for _ in range(6)))
            with pytest.raises(ApiFailure, match="HTTP 401") as refused:
                await client.get_json("/api/always-401")
            assert refused.value.status == 401
            return list(found)
        finally:
            await client.aclose()

    assert _run(go()) == [[]] * 6
    # T1 met 401 six times: one new token (T2) for all; the request that met 401 with T2 too got one more (T3)
    # and then failed rather than asking again.
    assert _tokens(seen) == 3
    assert [r.headers["Authorization"] for r in seen if r.url.path == "/api/always-401"] == [
        "Bearer T2",
        "Bearer T3",
    ]


def test_a_legacy_key_stands_in_only_when_stored_and_the_client_is_refused() -> None:
    refused = {"on": True}

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/oauth2/token":
            return httpx.Response(401, json={"error": "invalid_client"}) if refused["on"] else _token(request)
        if request.headers.get("X-COUPA-API-KEY") not in (None, "K-123"):
            return httpx.Response(401)
        return httpx.Response(200, json=[])

    seen: list[httpx.Request] = []

    async def go(api_key: str) -> object:
        access = ApiAccess(BASE, "popool", SECRET, token_wait_s=0.0, api_key=api_key)
        client = ApiClient(access, transport=httpx.MockTransport(record))
        try:
            return await client.sign_in(), await client.get_json("/api/purchase_orders")
        finally:
            await client.aclose()

    assert _run(go("K-123")) == (frozenset(), [])
    used = [r for r in seen if r.url.path == "/api/purchase_orders"]
    assert used[0].headers["X-COUPA-API-KEY"] == "K-123" and "Authorization" not in used[0].headers
    assert "K-123" not in repr(ApiAccess(BASE, "popool", SECRET, api_key="K-123"))

    seen.clear()
    with pytest.raises(ApiSetupError, match="refused API client 'popool'"):
        _run(go(""))  # no key stored: no fallback
    assert not any("X-COUPA-API-KEY" in r.headers for r in seen)

    seen.clear()
    refused["on"] = False
    assert _run(go("K-123")) == (frozenset(REQUIRED_SCOPES), [])  # the client works: the key is never sent
    assert not any("X-COUPA-API-KEY" in r.headers for r in seen)

    seen.clear()
    refused["on"] = True
    with pytest.raises(ApiSetupError, match="legacy API key"):
        _run(go("wrong"))


def test_inline_comments_are_taken_only_when_each_says_what_it_holds() -> None:
    with_lists = {"comments": [{"id": 1, "attachments": []}, {"id": 2, "attachments": [{"id": 3}]}]}
    assert _inline_comments(with_lists) == with_lists["comments"]
    assert _inline_comments({"comments": [{"id": 1, "attachments": []}, {"id": 2}]}) is None  # the field ignored
    assert _inline_comments({"comments": "Approved"}) is None
    assert _inline_comments({}) is None
