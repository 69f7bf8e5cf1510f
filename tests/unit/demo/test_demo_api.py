"""The demo portal's Coupa API over real HTTP on a random loopback port: tokens, lookups, the four attachment
levels, the bytes both ways, pagination, fields=, and the 401/403/429/503 knobs."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from popool_gui.demo.api import MAX_PAGE, ApiBytes, Scope
from popool_gui.demo.data import po_spec
from popool_gui.demo.server import DemoPortal, demo_portal

ID, SECRET = "popool-demo", "demo-secret"


@pytest.fixture
def portal() -> Iterator[DemoPortal]:
    with demo_portal(js_render_delay_ms=0) as running:
        yield running


def _call(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def _token(portal: DemoPortal, *, basic: bool = False, secret: str = SECRET, scope: str = "") -> tuple[int, Any]:
    form: dict[str, str] = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{ID}:{secret}".encode()).decode()
    else:
        form |= {"client_id": ID, "client_secret": secret}
    status, body, _ = _call(f"{portal.url}/oauth2/token", data=urlencode(form).encode(), headers=headers)
    return status, json.loads(body)


def _get(portal: DemoPortal, token: str, path: str, accept: str = "application/json") -> tuple[int, bytes]:
    status, body, _ = _call(f"{portal.url}{path}", headers={"Authorization": f"Bearer {token}", "Accept": accept})
    return status, body


def _bearer(portal: DemoPortal) -> str:
    status, body = _token(portal)
    assert status == 200
    return str(body["access_token"])


def _lookup(portal: DemoPortal, token: str, number: str) -> tuple[int, Any]:
    status, body = _get(portal, token, f"/api/purchase_orders?po-number={number}")
    return status, json.loads(body)


def test_token_in_the_body_or_as_basic_and_a_wrong_secret_is_401(portal: DemoPortal) -> None:
    for basic in (False, True):
        status, body = _token(portal, basic=basic)
        assert status == 200
        assert body["token_type"] == "bearer"
        assert set(body["scope"].split()) == set(Scope)
    status, body = _token(portal, secret="wrong")
    assert status == 401
    assert body["error"] == "invalid_client"


def test_scopes_granted_are_those_the_client_holds(portal: DemoPortal) -> None:
    portal.set_knobs(api_scopes=(Scope.COMMON, Scope.REQUISITION))
    status, body = _token(portal, scope=" ".join(Scope))
    assert status == 200
    assert set(body["scope"].split()) == {Scope.COMMON, Scope.REQUISITION}
    status, _ = _lookup(portal, body["access_token"], "100007")
    assert status == 403


def test_lookup_by_number_found_not_found_denied(portal: DemoPortal) -> None:
    token = _bearer(portal)
    status, found = _lookup(portal, token, "100007")
    assert status == 200
    assert len(found) == 1
    assert found[0]["po-number"] == "100007"
    assert found[0]["id"] != 100007  # Coupa's internal id is not the PO number
    assert _lookup(portal, token, "100003") == (200, [])
    assert _lookup(portal, token, "nonsense") == (200, [])
    assert _get(portal, token, "/api/purchase_orders?po_number=100004")[0] == 403
    status, found = _get(portal, token, "/api/purchase_orders?po_number=100001")
    assert json.loads(found)[0]["po-number"] == "100001"


def test_fields_trims_and_pages_hold_at_most_fifty(portal: DemoPortal) -> None:
    token = _bearer(portal)
    fields = json.dumps(["id", "po-number", {"supplier": ["name"]}])
    status, body = _get(portal, token, "/api/purchase_orders?" + urlencode({"po-number": "100014", "fields": fields}))
    assert status == 200
    (record,) = json.loads(body)
    assert record == {
        "id": record["id"],
        "po-number": "100014",
        "supplier": {"name": "Smith & Sons / Partners: A.B.C."},
    }
    assert _get(portal, token, "/api/purchase_orders?fields=notjson")[0] == 400
    first = json.loads(_get(portal, token, "/api/purchase_orders?limit=500")[1])
    second = json.loads(_get(portal, token, f"/api/purchase_orders?limit=500&offset={MAX_PAGE}")[1])
    assert len(first) == MAX_PAGE
    assert second
    assert not {p["id"] for p in first} & {p["id"] for p in second}


def _attachment_lists(portal: DemoPortal, token: str, number: str) -> dict[str, list[dict[str, Any]]]:
    record = _lookup(portal, token, number)[1][0]
    po = record["id"]
    lists = {"header": json.loads(_get(portal, token, f"/api/purchase_orders/{po}/attachments")[1])}
    lists["line"] = [
        a
        for line in record["order-lines"]
        for a in json.loads(_get(portal, token, f"/api/purchase_order_lines/{line['id']}/attachments")[1])
    ]
    comments = json.loads(_get(portal, token, f"/api/purchase_orders/{po}/comments")[1])
    lists["comment"] = [a for c in comments for a in c["attachments"]]
    requisition = record["requisition-header"]
    lists["requisition"] = (
        json.loads(_get(portal, token, f"/api/requisitions/{requisition['id']}/attachments")[1]) if requisition else []
    )
    return lists


def test_attachments_at_every_level_with_coupas_keys(portal: DemoPortal) -> None:
    token = _bearer(portal)
    lists = _attachment_lists(portal, token, "100017")
    spec = po_spec("100017")
    assert [a["file-file-name"] for a in lists["header"]] == [a.name for a in spec.attachments]
    assert [a["file-file-name"] for a in lists["line"]] == [a.name for a in spec.line_attachments]
    assert [a["file-file-name"] for a in lists["comment"]] == [a.name for a in spec.comment_attachments]
    one = lists["header"][0]
    assert one["type"] == "AttachmentFile"
    assert one["intent"] in ("Internal", "Supplier")
    assert one["file-file-size"] == spec.attachments[0].size
    assert one["file-url"].startswith(portal.url + "/api/")
    req = _attachment_lists(portal, token, "100005")["requisition"]
    assert [a["file-file-name"] for a in req] == [a.name for a in po_spec("100005").requisition_attachments]


def test_bytes_with_accept_any_or_through_file_url(portal: DemoPortal) -> None:
    token = _bearer(portal)
    po = _lookup(portal, token, "100007")[1][0]["id"]
    listed = json.loads(_get(portal, token, f"/api/purchase_orders/{po}/attachments")[1])[0]
    expected = portal.file_bytes("100007", str(listed["id"]))
    path = f"/api/purchase_orders/{po}/attachments/{listed['id']}"
    assert _get(portal, token, path, accept="*/*") == (200, expected)
    portal.set_knobs(api_bytes=ApiBytes.FILE_URL)
    status, body = _get(portal, token, path, accept="*/*")
    assert status == 200
    assert json.loads(body)["file-url"] == listed["file-url"]
    assert _get(portal, token, listed["file-url"].removeprefix(portal.url), accept="*/*") == (200, expected)
    assert _get(portal, "not-a-token", listed["file-url"].removeprefix(portal.url), accept="*/*")[0] == 401


def test_denied_po_lists_are_403(portal: DemoPortal) -> None:
    token = _bearer(portal)
    denied = 100004 + 40_000_000
    assert _get(portal, token, f"/api/purchase_orders/{denied}/attachments")[0] == 403


def test_rate_limit_answers_429(portal: DemoPortal) -> None:
    token = _bearer(portal)
    portal.set_knobs(api_rate_per_s=5)
    statuses = [_lookup(portal, token, "100007")[0] for _ in range(8)]
    assert statuses[:5] == [200] * 5
    assert 429 in statuses[5:]
    assert portal.api.rejected >= 1
    assert portal.api.peak_per_s == 5


def test_token_lifetime_then_401(portal: DemoPortal) -> None:
    portal.set_knobs(api_token_lifetime_s=0.3)
    token = _bearer(portal)
    assert _lookup(portal, token, "100007")[0] == 200
    time.sleep(0.4)
    status, body = _lookup(portal, token, "100007")
    assert status == 401
    assert body["error"] == "invalid_token"


def test_503_share(portal: DemoPortal) -> None:
    token = _bearer(portal)
    portal.set_knobs(api_503_share=1.0)
    assert _lookup(portal, token, "100007")[0] == 503
