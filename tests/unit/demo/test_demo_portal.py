"""The demo portal over real HTTP on 127.0.0.1: sign-in, pages, attachments, fault and list knobs, both skins and
`popool portal`."""

from __future__ import annotations

import argparse
import dataclasses
import email
import email.policy
import http.client
import io
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit
from xml.etree import ElementTree

import openpyxl
import pytest

from popool_gui.batch.input import normalise_po, read_batch
from popool_gui.browser.downloads import disposition_filename
from popool_gui.browser.portal import load_portal
from popool_gui.demo import data, pages, skins
from popool_gui.demo.cli import add_portal_arguments, knobs_from
from popool_gui.demo.data import Markup, PoKind
from popool_gui.demo.files import OLE_MAGIC, PNG_SIGNATURE
from popool_gui.demo.sample import expected_status, write_sample_csv
from popool_gui.demo.server import (
    DemoKnobs,
    DemoPortal,
    Fault,
    SignIn,
    content_disposition,
    demo_portal,
    render_delay_ms,
)
from popool_gui.demo.skins import Skin

POPOOL = Path(sys.executable).with_name("popool")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are what these tests look at, so they are returned instead of followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Client:
    """A tiny browser: keeps the portal's cookies, never follows redirects, never uses a proxy."""

    portal: DemoPortal
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0

    def request(self, path: str, form: dict[str, str] | None = None, timeout: float | None = None) -> Reply:
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.portal.url + path, data=body)
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
        try:
            response = opener.open(request, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as exc:  # 3xx (not followed), 4xx, 5xx
            response = exc
        with response:
            reply = Reply(response.status, response.headers, response.read())
        for header in reply.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return reply

    def get(self, path: str, **kwargs: float) -> Reply:
        return self.request(path, **kwargs)  # type: ignore[arg-type]

    def sign_in(self) -> None:
        assert self.get("/").status == 200
        assert self.portal.cookie_name in self.cookies


@pytest.fixture
def portal() -> Iterator[DemoPortal]:
    with demo_portal() as running:
        yield running


@pytest.fixture
def client(portal: DemoPortal) -> Client:
    signed_in = Client(portal)
    signed_in.sign_in()
    return signed_in


def attachment_items(html: str) -> list[dict[str, str]]:
    """The attachment list a page hands to its script (the list itself is built in the browser)."""
    match = re.search(r'<script type="application/json" id="attachment-data">(.*?)</script>', html, re.S)
    assert match, "the page carries no attachment data"
    return json.loads(match.group(1))


def disposition_name(reply: Reply) -> str:
    return disposition_filename(reply.headers["Content-Disposition"])


# -- sign-in -----------------------------------------------------------------------------------------------


def test_without_a_session_every_protected_page_redirects_to_the_login_page(portal: DemoPortal) -> None:
    anonymous = Client(portal)
    for path in (
        "/order_headers/100007",
        "/requisition_headers/7100005",
        pages.ATTACHMENT_URL.format(po_id="100007", file_id=portal.po_spec("100007").attachments[0].file_id),
    ):
        reply = anonymous.get(path)
        assert reply.status == 302, path
        target = urlsplit(reply.location)
        assert target.path == "/sessions/new"
        assert unquote(target.query) == f"return_to={path}"
    login = anonymous.get(urlsplit(reply.location).path + "?" + urlsplit(reply.location).query)
    assert login.status == 200
    assert 'id="user_email"' in login.text and 'id="user_password"' in login.text
    assert portal.sign_ins == 0


def test_auto_mode_signs_in_on_the_home_page(portal: DemoPortal) -> None:
    browser = Client(portal)
    home = browser.get("/")
    assert home.status == 200 and "Coupa demo" in home.text
    cookie = home.headers["Set-Cookie"]
    assert cookie.startswith(f"coupa_demo_session_{portal.port}=") and "HttpOnly" in cookie and "Max-Age=" in cookie
    page = browser.get("/order_headers/100007")
    assert page.status == 200 and "Purchase Order #100007" in page.text
    assert portal.sign_ins == 1
    assert "Set-Cookie" not in browser.get("/").headers  # an existing session is kept


def test_a_forged_or_foreign_cookie_is_not_a_session(portal: DemoPortal) -> None:
    forged = Client(portal, cookies={portal.cookie_name: "not-a-session"})
    assert forged.get("/order_headers/100007").status == 302
    broken = Client(portal, cookies={"bad cookie": '"'})
    assert broken.get("/order_headers/100007").status == 302


def test_the_password_form_signs_in_and_returns(portal: DemoPortal) -> None:
    browser = Client(portal)
    reply = browser.request("/sessions", form={"return_to": "/order_headers/100001", "user[email]": "a@b.c"})
    assert reply.status == 302 and reply.location == "/order_headers/100001"
    assert browser.get(reply.location).status == 200


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "relative"])
def test_sign_in_never_redirects_off_the_portal(portal: DemoPortal, target: str) -> None:
    reply = Client(portal).request("/sessions", form={"return_to": target})
    assert reply.status == 302 and reply.location == "/"


def test_sso_mode_needs_a_person_to_click_through() -> None:
    with demo_portal(sign_in="sso") as portal:
        browser = Client(portal)
        home = browser.get("/")
        assert home.status == 302 and home.location == "/sso/login?return_to=%2F"
        assert browser.cookies == {}  # no session from the home page in SSO mode
        page = browser.get("/order_headers/100007")
        assert page.status == 302 and page.location.startswith("/sso/login?return_to=")
        sso = browser.get(page.location)
        assert sso.status == 200 and 'id="sso_continue"' in sso.text
        assert 'value="/order_headers/100007"' in sso.text
        done = browser.request("/sso/login", form={"return_to": "/order_headers/100007"})
        assert done.status == 302 and done.location == "/order_headers/100007"
        assert browser.get("/order_headers/100007").status == 200
        assert browser.get("/").status == 200
        assert portal.sign_ins == 1
        assert portal.knobs.sign_in is SignIn.SSO


def test_sessions_expire_after_n_page_requests(portal: DemoPortal) -> None:
    portal.set_knobs(expire_after_requests=3)
    browser = Client(portal)
    browser.sign_in()
    spec = portal.po_spec("100001")
    for _ in range(3):
        assert browser.get("/order_headers/100001").status == 200
    # Downloads and the home page do not use up the allowance; only PO and requisition pages do.
    assert browser.get(pages.ATTACHMENT_URL.format(po_id="100001", file_id=spec.attachments[0].file_id)).status == 200
    wall = browser.get("/order_headers/100001")
    assert wall.status == 302 and wall.location.startswith("/sessions/new")
    assert browser.get("/order_headers/100001").status == 302  # the session is gone, not just one page
    browser.sign_in()  # a new sign-in gives a new allowance
    assert browser.get("/order_headers/100001").status == 200
    assert portal.sign_ins == 2


def test_expire_sessions_signs_everyone_out(client: Client, portal: DemoPortal) -> None:
    assert client.get("/order_headers/100007").status == 200
    portal.expire_sessions()
    assert client.get("/order_headers/100007").status == 302
    client.sign_in()
    assert client.get("/order_headers/100007").status == 200


def test_two_portals_on_one_host_do_not_share_sessions(portal: DemoPortal) -> None:
    with demo_portal() as other:
        assert other.cookie_name != portal.cookie_name
        browser = Client(portal)
        browser.sign_in()
        elsewhere = Client(other, cookies=dict(browser.cookies))
        assert elsewhere.get("/order_headers/100007").status == 302


# -- pages -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("po_id", "text"),
    [
        ("100003", "Oops! We couldn't find what you wanted"),
        ("100012", "Desculpe, não encontramos o que você procurava"),
        ("ABC123", "The page you were looking for doesn't exist"),
    ],
)
def test_not_found_is_an_oops_page_with_http_200(client: Client, po_id: str, text: str) -> None:
    reply = client.get(f"/order_headers/{po_id}")
    assert reply.status == 200
    assert text in reply.text.replace("&#x27;", "'")
    assert 'id="attachment-data"' not in reply.text and 'class="flash_error"' not in reply.text


def test_access_denied_pages(client: Client) -> None:
    standard = client.get("/order_headers/100004")
    assert standard.status == 200
    assert '<div class="flash_error">You are not authorized' in standard.text and "Access denied" in standard.text
    explained = client.get("/order_headers/100013")
    assert explained.status == 200
    assert '<div id="error_explanation">' in explained.text and "You are not authorized" in explained.text


def test_a_po_page_carries_supplier_notices_requisition_and_toolbar(client: Client, portal: DemoPortal) -> None:
    spec = portal.po_spec("100010")
    html = client.get("/order_headers/100010").text
    assert f"<span data-supplier-name>{spec.supplier}</span>" in html.replace("&#x27;", "'")
    assert html.count('class="notice"') == 2  # valid POs show notices: they are not errors
    assert f'href="/requisition_headers/{data.REQUISITION_PREFIX}100010"' in html
    assert 'class="floating-toolbar"' in html
    assert 'class="floating-toolbar"' not in client.get("/sessions/new").text


def test_the_toolbar_can_be_switched_off() -> None:
    with demo_portal(toolbar=False) as portal:
        browser = Client(portal)
        browser.sign_in()
        assert 'class="floating-toolbar"' not in browser.get("/order_headers/100007").text


def test_the_attachment_list_is_rendered_by_script_after_a_delay(client: Client, portal: DemoPortal) -> None:
    html = client.get("/order_headers/100015").text
    # Nothing to click in the HTML itself: a reader that stops at readyState == complete finds no attachment.
    assert "file attachment" not in html.split("<script", 1)[0]
    assert '<ul id="attachment-list"></ul>' in html and 'data-ready="false"' in html
    assert f"}}, {portal.knobs.js_render_delay_ms});" in html  # the first items appear after the knob's delay
    assert f"}}, data.length > 2 ? {pages.SECOND_STEP_MS} : 0);" in html  # the rest one step later
    items = attachment_items(html)
    assert [i["name"] for i in items] == [a.name for a in portal.po_spec("100015").attachments]
    portal.set_knobs(js_render_delay_ms=1500)
    assert "}, 1500);" in client.get("/order_headers/100015").text


def test_the_three_attachment_markups(client: Client, portal: DemoPortal) -> None:
    items = attachment_items(client.get("/order_headers/100011").text)
    assert [i["markup"] for i in items] == [Markup.SPAN_IN_LINK, Markup.DOWNLOAD_LINK, Markup.SPAN_ONLY]
    spec = portal.po_spec("100011")
    assert [i["url"] for i in items] == [
        pages.ATTACHMENT_URL.format(po_id="100011", file_id=a.file_id) for a in spec.attachments
    ]


def test_line_and_comment_attachments_are_in_the_page_as_it_loads(client: Client, portal: DemoPortal) -> None:
    html = client.get("/order_headers/100017").text
    spec = portal.po_spec("100017")
    # The header's list is still the script's; the line's and the comment's are written into the page.
    assert [i["name"] for i in attachment_items(html)] == [a.name for a in spec.attachments]
    details = html[html.index('<tr class="line-details"') : html.index("</tr>", html.index('<tr class="line-details"'))]
    comments = html[html.index('<section id="comments"') :]
    for where, attachments in ((details, spec.line_attachments), (comments, spec.comment_attachments)):
        for a in attachments:
            assert pages.ATTACHMENT_URL.format(po_id="100017", file_id=a.file_id) in where
            assert f'aria-label="{a.name} file attachment"' in where
    for a in (*spec.line_attachments, *spec.comment_attachments):
        assert client.get(pages.ATTACHMENT_URL.format(po_id="100017", file_id=a.file_id)).status == 200
    plain = client.get("/order_headers/100001").text
    assert "line-details" not in plain and 'id="comments"' not in plain


def test_requisition_pages(client: Client, portal: DemoPortal) -> None:
    spec = portal.po_spec("100005")
    assert spec.kind is PoKind.REQUISITION_ONLY and not spec.attachments
    po_html = client.get("/order_headers/100005").text
    assert attachment_items(po_html) == []
    requisition = client.get("/requisition_headers/7100005")
    assert requisition.status == 200 and "Requisition #7100005" in requisition.text
    items = attachment_items(requisition.text)
    assert [i["name"] for i in items] == ["requisition form.pdf", "budget approval.msg", "quote comparison.xlsx"]
    # Requisition files are served under the PO's id.
    assert all(i["url"].startswith("/attachments/100005/") for i in items)
    assert "Oops!" in client.get("/requisition_headers/7100006").text.replace("&#x27;", "'")  # no requisition
    assert "Oops!" in client.get("/requisition_headers/123").text.replace("&#x27;", "'")


def test_hostile_names_stay_text_in_the_page(client: Client) -> None:
    html = client.get("/order_headers/100002").text
    assert "<script>alert(1)</script>" not in html
    names = [i["name"] for i in attachment_items(html)]
    assert names == [a.name for a in data.po_spec("100002").attachments]
    assert "../../evil.txt" in names and "CON.txt" in names and "NUL" in names
    assert max(len(n) for n in names) == 300


def test_misc_routes(portal: DemoPortal, client: Client) -> None:
    health = Client(portal).get("/healthz")
    assert health.status == 200 and health.body == b"ok\n"
    logo = Client(portal).get("/static/logo.png")
    assert logo.status == 200 and logo.body.startswith(PNG_SIGNATURE) and logo.headers["Content-Type"] == "image/png"
    assert Client(portal).get("/favicon.ico").body == logo.body
    assert Client(portal).get("/static/nothing.css").status == 404
    assert client.get("/no/such/route").status == 404
    assert client.request("/order_headers/1", form={}).status == 404  # POST only signs in
    home = client.get("/").text
    assert all(f'href="/order_headers/{i}"' in home for i in ("100007", "100001"))
    bad_file = client.get(pages.ATTACHMENT_URL.format(po_id="100007", file_id="1"))
    assert bad_file.status == 404


# -- attachments -------------------------------------------------------------------------------------------


def _download(client: Client, portal: DemoPortal, po_id: str, file_id: str) -> Reply:
    reply = client.get(pages.ATTACHMENT_URL.format(po_id=po_id, file_id=file_id))
    assert reply.status == 200
    assert reply.body == portal.file_bytes(po_id, file_id)
    assert int(reply.headers["Content-Length"]) == len(reply.body)
    assert reply.headers["Content-Disposition"].startswith("attachment; ")
    return reply


def test_every_kind_of_attachment_is_a_valid_file_of_the_announced_size(client: Client, portal: DemoPortal) -> None:
    spec = portal.po_spec("100007")
    by_ext: dict[str, bytes] = {}
    for attachment in spec.attachments:
        reply = _download(client, portal, "100007", attachment.file_id)
        assert len(reply.body) == attachment.size
        assert disposition_name(reply) == attachment.name
        assert reply.headers["Content-Type"] == attachment.content_type
        by_ext[attachment.name.rsplit(".", 1)[1]] = reply.body
    assert set(by_ext) == {"pdf", "docx", "xlsx", "msg", "eml", "zip", "png", "jpg", "xml", "txt"}

    pdf = by_ext["pdf"]
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.rstrip().endswith(b"%%EOF")
    startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert pdf[startxref:].startswith(b"xref\n")  # the cross-reference table is where the trailer says
    first_object = int(pdf[startxref:].split(b"\n")[3].split()[0])
    assert pdf[first_object:].startswith(b"1 0 obj")

    workbook = openpyxl.load_workbook(io.BytesIO(by_ext["xlsx"]), read_only=True)
    assert workbook.sheetnames == ["PO_Data"]
    assert next(workbook["PO_Data"].iter_rows(values_only=True))[:2] == ("PO", "100007")
    workbook.close()
    for ext, member in (("docx", "word/document.xml"), ("zip", "readme.txt")):
        with zipfile.ZipFile(io.BytesIO(by_ext[ext])) as archive:
            assert archive.testzip() is None and member in archive.namelist()
    assert by_ext["msg"].startswith(OLE_MAGIC)
    assert by_ext["png"].startswith(PNG_SIGNATURE) and by_ext["png"].endswith(b"IEND\xaeB`\x82")
    assert by_ext["jpg"].startswith(b"\xff\xd8") and by_ext["jpg"].endswith(b"\xff\xd9")
    message = email.message_from_bytes(by_ext["eml"], policy=email.policy.default)
    assert message["Subject"] == "Re: purchase order 100007"
    assert ElementTree.fromstring(by_ext["xml"]).find("{urn:popool:demo}po").text == "100007"
    assert by_ext["txt"].decode("utf-8").startswith("Purchase order 100007 - attachment")


def test_duplicate_names_have_different_bytes(client: Client, portal: DemoPortal) -> None:
    first, second, _ = portal.po_spec("100001").attachments
    assert first.name == second.name == "invoice.pdf"
    a = _download(client, portal, "100001", first.file_id).body
    b = _download(client, portal, "100001", second.file_id).body
    assert a != b and a.startswith(b"%PDF") and b.startswith(b"%PDF")


def test_hostile_names_travel_exactly_in_content_disposition(client: Client, portal: DemoPortal) -> None:
    for attachment in portal.po_spec("100002").attachments:
        reply = _download(client, portal, "100002", attachment.file_id)
        header = reply.headers["Content-Disposition"]
        assert disposition_name(reply) == attachment.name
        fallback = re.search(r'filename="([^"]*)"', header)
        assert fallback and all(32 <= ord(c) < 127 for c in fallback.group(1))
        assert "\\" not in fallback.group(1)


@pytest.mark.parametrize("name", ["../../evil.txt", "CON.txt", "x" * 300 + ".pdf", 'q "f".pdf', "Relatório – São.xlsx"])
def test_content_disposition_round_trips(name: str) -> None:
    assert disposition_filename(content_disposition(name)) == name


def test_the_big_file_and_requisition_files(client: Client, portal: DemoPortal) -> None:
    (big,) = portal.po_spec("100008").attachments
    assert len(_download(client, portal, "100008", big.file_id).body) == data.BIG_FILE_SIZE
    for attachment in portal.po_spec("100005").requisition_attachments:
        _download(client, portal, "100005", attachment.file_id)


# -- knobs -------------------------------------------------------------------------------------------------


def test_page_latency_delays_pages_but_not_health_checks() -> None:
    with demo_portal(page_latency_ms=400) as portal:
        browser = Client(portal)
        started = time.monotonic()
        browser.sign_in()
        browser.get("/order_headers/100007")
        assert time.monotonic() - started >= 0.8
        started = time.monotonic()
        browser.get("/healthz")
        assert time.monotonic() - started < 0.3


def test_every_page_and_download_can_answer_500_but_sign_in_never_does() -> None:
    with demo_portal(error_500_share=1.0) as portal:
        browser = Client(portal)
        browser.sign_in()
        page = browser.get("/order_headers/100007")
        assert page.status == 500 and "Internal Server Error" in page.text
        assert browser.get("/requisition_headers/7100005").status == 500
        file_id = portal.po_spec("100007").attachments[0].file_id
        assert browser.get(pages.ATTACHMENT_URL.format(po_id="100007", file_id=file_id)).status == 500
        assert browser.get("/healthz").status == 200 and browser.get("/sessions/new").status == 200
        assert portal.faults_served() == {Fault.ERROR_500.value: 3}


def test_the_500_share_is_drawn_per_request_and_reproducible() -> None:
    def outcomes(seed: int) -> list[int]:
        with demo_portal(error_500_share=0.5, seed=seed) as portal:
            browser = Client(portal)
            browser.sign_in()
            return [browser.get(f"/order_headers/{100100 + n % 10}").status for n in range(40)]

    first = outcomes(0)
    assert set(first) == {200, 500}  # a retry of a failed URL gets a fresh draw
    assert 8 <= first.count(500) <= 32
    assert outcomes(0) == first  # the same seed replays the same faults
    assert outcomes(1) != first


def test_a_hanging_page_holds_the_connection_until_hang_s() -> None:
    with demo_portal(hang_share=1.0, hang_s=0.6) as portal:
        browser = Client(portal)
        browser.sign_in()  # the home page never hangs
        started = time.monotonic()
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            browser.get("/order_headers/100007")
        assert 0.5 <= time.monotonic() - started < 5
        with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
            browser.get("/order_headers/100001", timeout=0.2)
        assert portal.faults_served()[Fault.HANG.value] == 2


def test_stop_does_not_wait_for_hanging_requests() -> None:
    portal = DemoPortal(DemoKnobs(hang_share=1.0, hang_s=300)).start()
    browser = Client(portal, timeout=30)
    browser.sign_in()
    errors: list[BaseException] = []

    def hang() -> None:
        try:
            browser.get("/order_headers/100007")
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=hang, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while portal.faults_served().get(Fault.HANG.value) != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    portal.stop()
    assert time.monotonic() - started < 3
    thread.join(5)
    assert not thread.is_alive() and errors  # the client saw its connection end
    assert not portal.running


def test_a_truncated_download_announces_the_full_length_then_closes() -> None:
    with demo_portal(truncated_share=1.0) as portal:
        browser = Client(portal)
        browser.sign_in()
        assert browser.get("/order_headers/100007").status == 200  # pages are never truncated
        attachment = portal.po_spec("100007").attachments[0]
        with pytest.raises(http.client.IncompleteRead) as info:
            browser.get(pages.ATTACHMENT_URL.format(po_id="100007", file_id=attachment.file_id))
        assert len(info.value.partial) == attachment.size // 2
        assert info.value.partial == portal.file_bytes("100007", attachment.file_id)[: attachment.size // 2]
        assert portal.faults_served() == {Fault.TRUNCATED.value: 1}


def test_download_throughput_is_limited() -> None:
    with demo_portal(download_bytes_per_s=40_000, attachment_size_range=(20_000, 20_000)) as portal:
        browser = Client(portal)
        browser.sign_in()
        attachment = portal.po_spec("100001").attachments[0]
        assert attachment.size == 20_000
        started = time.monotonic()
        reply = browser.get(pages.ATTACHMENT_URL.format(po_id="100001", file_id=attachment.file_id))
        elapsed = time.monotonic() - started
        assert len(reply.body) == 20_000
        assert 0.4 <= elapsed < 3


def test_knobs_change_at_run_time_and_counters(portal: DemoPortal, client: Client) -> None:
    portal.reset_counters()
    client.get("/order_headers/100007")
    client.get("/order_headers/100007")
    assert portal.hits("/order_headers/100007") == 2 and portal.requests_served == 2
    assert portal.path_hits() == {"/order_headers/100007": 2}
    portal.set_knobs(error_500_share=1.0)
    assert client.get("/order_headers/100007").status == 500
    portal.set_knobs(error_500_share=0.0)
    assert client.get("/order_headers/100007").status == 200


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"error_500_share": 1.5}, "error_500_share"),
        ({"hang_share": -0.1}, "hang_share"),
        ({"page_latency_ms": -1}, "page_latency_ms"),
        ({"sign_in": "kerberos"}, "sign_in"),
        ({"attachment_size_range": (10, 5)}, "attachment_size_range"),
        ({"hang_s": -1}, "hang_s"),
    ],
)
def test_bad_knobs_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DemoKnobs(**changes)  # type: ignore[arg-type]


def test_lifecycle_errors() -> None:
    portal = DemoPortal()
    with pytest.raises(RuntimeError):
        _ = portal.url
    with portal:
        assert portal.running
        with pytest.raises(RuntimeError, match="already running"):
            portal.start()
    assert not portal.running
    portal.stop()  # twice is fine


# -- popool portal -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [[str(POPOOL), "portal"], [sys.executable, "-m", "popool_gui.demo"]],
    ids=["popool-portal", "python-m"],
)
def test_the_portal_command_prints_its_url_and_stops_on_sigterm(command: list[str]) -> None:
    if not Path(command[0]).exists():
        pytest.skip(f"{command[0]} is not installed")
    process = subprocess.Popen(
        [*command, "--port", "0", "--error-500", "0", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", line), line
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(line + "/healthz", timeout=5) as reply:
            assert reply.read() == b"ok\n"
        process.terminate()
        assert process.wait(timeout=10) == 0
        assert "special POs" in (process.stderr.read() if process.stderr else "")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def test_the_portal_command_refuses_bad_values() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "popool_gui.demo", "--error-500", "2"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2 and "between 0 and 1" in result.stderr


def test_a_busy_port_is_reported() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "popool_gui.demo", "--port", str(port)], capture_output=True, text=True, timeout=30
        )
    assert result.returncode == 2 and f"cannot serve the demo portal on port {port}" in result.stderr


# -- list timing knobs (issue 11): per-PO delays, the list fetched as JSON, a placeholder, two batches ----------


def _path(url: str) -> str:
    return urlsplit(url).path


def _signed_in(portal: DemoPortal) -> Client:
    browser = Client(portal)
    browser.sign_in()
    return browser


def test_without_the_knobs_every_page_waits_the_same_delay_inline() -> None:
    knobs = DemoKnobs()
    assert (knobs.js_render_delay_max_ms, knobs.second_batch_ms) == (0, pages.SECOND_STEP_MS)
    assert not knobs.list_via_fetch and not knobs.loading_placeholder and knobs.list_fetch_latency_ms == 0
    assert knobs.skin is Skin.COUPA
    assert {render_delay_ms(knobs, str(100_000 + n)) for n in range(50)} == {knobs.js_render_delay_ms}


def test_per_po_render_delays_are_spread_and_reproducible() -> None:
    knobs = DemoKnobs(js_render_delay_ms=0, js_render_delay_max_ms=3000, seed=5)
    ids = [str(15_262_984 + n) for n in range(60)]
    delays = [render_delay_ms(knobs, po_id) for po_id in ids]
    assert all(0 <= d <= 3000 for d in delays)
    assert len(set(delays)) > 50
    assert sum(d > 1200 for d in delays) >= 20  # several well above the profiles' settle_ms (500-600 ms)
    assert sum(d < 600 for d in delays) >= 5
    assert [render_delay_ms(DemoKnobs(js_render_delay_ms=0, js_render_delay_max_ms=3000, seed=5), i) for i in ids] == (
        delays
    )
    assert [render_delay_ms(dataclasses.replace(knobs, seed=6), i) for i in ids] != delays
    assert render_delay_ms(DemoKnobs(js_render_delay_ms=700, js_render_delay_max_ms=700), "1") == 700


def test_each_page_carries_its_own_delay() -> None:
    with demo_portal(js_render_delay_ms=100, js_render_delay_max_ms=3000, seed=2) as portal:
        browser = _signed_in(portal)
        seen = set()
        for po_id in ("100007", "100015", "100001"):
            delay = render_delay_ms(portal.knobs, po_id)
            seen.add(delay)
            assert f"setTimeout(function () {{ load(); }}, {delay});" in browser.get(f"/order_headers/{po_id}").text
        assert len(seen) == 3
        requisition = browser.get("/requisition_headers/7100005").text
        assert f"}}, {render_delay_ms(portal.knobs, '7100005')});" in requisition


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"js_render_delay_ms": 500, "js_render_delay_max_ms": 100}, "js_render_delay_max_ms must be 0 or at least"),
        ({"js_render_delay_max_ms": -1}, "js_render_delay_max_ms"),
        ({"list_fetch_latency_ms": -5}, "list_fetch_latency_ms"),
        ({"second_batch_ms": -1}, "second_batch_ms"),
        ({"skin": "sap"}, "skin must be one of coupa, other"),
    ],
)
def test_bad_list_knobs_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DemoKnobs(**changes)  # type: ignore[arg-type]


def test_the_second_batch_gap_is_a_knob(client: Client, portal: DemoPortal) -> None:
    portal.set_knobs(second_batch_ms=1500)
    assert "}, data.length > 2 ? 1500 : 0);" in client.get("/order_headers/100015").text


@pytest.mark.parametrize("skin", list(Skin))
def test_the_loading_placeholder_sits_in_the_list_section_until_the_script_removes_it(skin: Skin) -> None:
    placeholder = '<div id="attachments-loading" class="loading-indicator">Loading documents...</div>'
    with demo_portal(skin=skin) as portal:
        browser = _signed_in(portal)
        assert "attachments-loading" not in browser.get(_path(portal.po_url("100007"))).text.split("<script", 1)[0]
        portal.set_knobs(loading_placeholder=True)
        html = browser.get(_path(portal.po_url("100007"))).text
        section = re.search(r'<section id="(?:attachments|documents)".*?</section>', html, re.S)
        assert section and placeholder in section.group(0)
        assert 'document.getElementById("attachments-loading")' in html and "loading.remove()" in html


@pytest.mark.parametrize("skin", list(Skin))
def test_with_list_via_fetch_the_page_holds_no_list_and_its_endpoint_serves_it(skin: Skin) -> None:
    with demo_portal(skin=skin) as portal:
        browser = _signed_in(portal)
        inline = attachment_items(browser.get(_path(portal.po_url("100002"))).text)
        portal.set_knobs(list_via_fetch=True)
        html = browser.get(_path(portal.po_url("100002"))).text
        assert 'id="attachment-data"' not in html and "<script>alert(1)" not in html
        assert f'new URL("{_path(portal.list_url("100002"))}", location.href)' in html
        assert 'fetch(url, {credentials: "same-origin"' in html and "innerHTML" not in html
        reply = browser.get(_path(portal.list_url("100002")))
        assert reply.status == 200 and reply.headers["Content-Type"] == "application/json; charset=utf-8"
        assert reply.headers["X-Content-Type-Options"] == "nosniff" and reply.headers["Cache-Control"] == "no-store"
        assert json.loads(reply.body) == inline  # hostile names included, exactly as data
        assert [i["name"] for i in inline] == [a.name for a in portal.po_spec("100002").attachments]
        for po_id in ("100003", "100004"):
            missing = browser.get(_path(portal.list_url(po_id)))
            assert missing.status == 404 and json.loads(missing.body) == {"error": "no such page"}


def test_the_list_endpoint_answers_late_and_the_page_does_not() -> None:
    with demo_portal(list_via_fetch=True, list_fetch_latency_ms=600) as portal:
        browser = _signed_in(portal)
        started = time.monotonic()
        assert browser.get("/order_headers/100007").status == 200
        assert time.monotonic() - started < 0.4
        started = time.monotonic()
        assert browser.get("/order_headers/100007/attachments.json").status == 200
        assert time.monotonic() - started >= 0.6


def test_the_list_endpoint_has_the_pages_login_wall() -> None:
    with demo_portal(list_via_fetch=True, expire_after_requests=1) as portal:
        path = "/order_headers/100007/attachments.json"
        anonymous = Client(portal).get(path)
        assert anonymous.status == 302 and anonymous.location == f"/sessions/new?return_to={quote(path, safe='')}"
        browser = _signed_in(portal)
        assert browser.get("/order_headers/100007").status == 200
        # The list belongs to the page just shown: fetching it does not use up the session's page allowance...
        assert browser.get(path).status == 200 and browser.get(path).status == 200
        assert browser.get("/order_headers/100007").status == 302  # ...the next page does
        assert browser.get(path).status == 302  # and an ended session is ended for the list too
        browser.sign_in()
        assert browser.get(path).status == 200
        portal.expire_sessions()
        assert browser.get(path).status == 302
    with demo_portal(list_via_fetch=True, sign_in="sso", skin="other") as portal:
        reply = Client(portal).get(_path(portal.list_url("100007")))
        assert reply.status == 302 and reply.location.startswith("/sso/login?return_to=")


def test_the_list_endpoint_fails_like_a_page() -> None:
    with demo_portal(list_via_fetch=True, error_500_share=1.0) as portal:
        browser = _signed_in(portal)
        assert browser.get("/order_headers/100007/attachments.json").status == 500
        assert portal.faults_served() == {Fault.ERROR_500.value: 1}
    with demo_portal(list_via_fetch=True, hang_share=1.0, hang_s=0.5) as portal:
        browser = _signed_in(portal)
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            browser.get("/order_headers/100007/attachments.json")


# -- the other skin ----------------------------------------------------------------------------------------------

OTHER_PROFILE = Path(__file__).parents[2] / "portals" / "other.toml"


@pytest.fixture
def other() -> Iterator[DemoPortal]:
    with demo_portal(skin="other") as running:
        yield running


def test_the_other_skin_numbers_requests_with_seven_digits(other: DemoPortal) -> None:
    assert other.po_url("100007") == f"{other.url}/procurement/requests/PR-0100007"
    assert skins.request_number("1234567") == "PR-1234567"
    with pytest.raises(ValueError, match="7 digits"):
        skins.request_number("15262984")
    assert other.po_spec("0100007") == other.po_spec("100007") == data.po_spec("100007")
    assert other.file_bytes("0100001", other.po_spec("100001").attachments[0].file_id).startswith(b"%PDF")


def test_the_other_skins_pages_are_not_coupas(other: DemoPortal) -> None:
    browser = _signed_in(other)
    home = browser.get("/").text
    assert 'href="/procurement/requests/PR-0100007"' in home and "/order_headers/" not in home
    spec = other.po_spec("100010")
    html = browser.get("/procurement/requests/PR-0100010").text.replace("&#x27;", "'")
    assert "<title>Purchase request PR-0100010</title>" in html
    assert f'<dd class="vendor">{spec.supplier}</dd>' in html
    assert 'class="linked-req" href="/procurement/requisitions/RQ-7100010"' in html
    assert '<table class="doc-table">' in html and '<tbody id="doc-rows"></tbody>' in html
    for coupa in ("data-ready", "attachments-ready", "data-supplier-name", "file attachment", "attachment_file"):
        assert coupa not in html, coupa
    assert 'link.className = "doc-dl";' in html and "link.textContent = a.name;" in html
    items = attachment_items(html)
    assert [i["url"] for i in items] == [f"/files/PR-0100010/{a.file_id}" for a in spec.attachments]
    requisition = browser.get("/procurement/requisitions/RQ-7100005")
    assert requisition.status == 200 and "Requisition RQ-7100005" in requisition.text
    assert [i["name"] for i in attachment_items(requisition.text)] == [
        a.name for a in other.po_spec("100005").requisition_attachments
    ]


def test_the_other_skins_files_are_the_same_bytes(other: DemoPortal) -> None:
    browser = _signed_in(other)
    for po_id in ("100002", "100005"):
        spec = other.po_spec(po_id)
        for attachment in (*spec.attachments, *spec.requisition_attachments):
            reply = browser.get(_path(other.attachment_url(po_id, attachment.file_id)))
            assert reply.status == 200 and reply.body == data.file_bytes(po_id, attachment.file_id)
            assert disposition_name(reply) == attachment.name
    assert browser.get("/files/PR-0100002/1").status == 404
    assert browser.get(pages.ATTACHMENT_URL.format(po_id="100002", file_id="1")).status == 404  # Coupa's URL


@pytest.mark.parametrize(
    "path",
    [
        "/procurement/requests/PR-0100003",  # a PO that does not exist
        "/procurement/requests/PR-100007",  # six digits: not a request number of this portal
        "/procurement/requests/0100007",
        "/procurement/requisitions/RQ-7100006",  # no requisition
        "/order_headers/100007",  # Coupa's URL
    ],
)
def test_the_other_skins_not_found_is_a_404_with_its_own_text(other: DemoPortal, path: str) -> None:
    reply = _signed_in(other).get(path)
    assert reply.status == 404 and "No such request" in reply.text and "Oops" not in reply.text


def test_the_other_skins_denied_page(other: DemoPortal) -> None:
    for po_id in ("100004", "100013"):  # both Coupa variants look the same here
        reply = _signed_in(other).get(_path(other.po_url(po_id)))
        assert reply.status == 403
        body = reply.text.split("<main>", 1)[1]
        assert body.startswith('<div class="alert alert-denied" role="alert">Permission denied: your role may not')
        assert f"request PR-0{po_id}." in body
        assert "flash_error" not in body and "error_explanation" not in body


def test_the_other_skin_has_the_same_login_wall_and_faults() -> None:
    with demo_portal(skin="other", error_500_share=1.0) as portal:
        file_id = portal.po_spec("100007").attachments[0].file_id
        for url in (portal.po_url("100007"), portal.attachment_url("100007", file_id), portal.list_url("100007")):
            reply = Client(portal).get(_path(url))
            assert reply.status == 302 and reply.location.startswith("/sessions/new?return_to=%2F")
        browser = _signed_in(portal)
        assert browser.get(_path(portal.po_url("100007"))).status == 500
        assert browser.get(_path(portal.attachment_url("100007", file_id))).status == 500


def test_the_other_profile_loads_and_its_urls_reach_the_other_skin(other: DemoPortal) -> None:
    profile = load_portal(str(OTHER_PROFILE), other.url)
    assert profile.name == "other" and profile.detect.ready_selectors == ()
    browser = _signed_in(other)
    for value in ("PR-0100007", "pr0100007", " PR-0100007 "):
        po_id, problem = normalise_po(value, profile.po_id_regex)
        assert (po_id, problem) == ("0100007", "")
        assert profile.po_url_for(po_id) == other.po_url("100007")
    for value in ("PR-100007", "PR-01000071", "PO100007", "100007"):
        assert normalise_po(value, profile.po_id_regex)[0] is None
    page = browser.get(_path(profile.po_url_for("0100007"))).text
    assert "Purchase request PR-0100007" in page
    not_found = browser.get(_path(profile.po_url_for("0100003"))).text.lower()
    assert all(text.lower() in not_found for text in profile.detect.not_found_text)
    denied = browser.get(_path(profile.po_url_for("0100004"))).text.lower()
    assert any(text.lower() in denied for text in profile.detect.access_denied_text)


def test_a_sample_batch_for_the_other_skin_reads_with_the_profiles_pattern(tmp_path: Path) -> None:
    profile = load_portal(str(OTHER_PROFILE))
    path = write_sample_csv(tmp_path / "other.csv", 30, skin=Skin.OTHER)
    batch = read_batch(path, profile.po_id_regex)
    assert len(batch.records) == 27 and len(batch.invalid) == 2 and len(batch.duplicates) == 1
    assert all(len(r.po_id) == 7 for r in batch.records)
    statuses = {expected_status(r.po_id, skin=Skin.OTHER) for r in batch.records}
    assert {"COMPLETED", "NO_ATTACHMENTS", "PO_NOT_FOUND", "ACCESS_DENIED"} <= statuses
    assert expected_status("0100006", skin=Skin.OTHER) == expected_status("100006") == "NO_ATTACHMENTS"


# -- the knobs on the command line -------------------------------------------------------------------------------


def test_the_portal_command_sets_the_list_knobs() -> None:
    parser = argparse.ArgumentParser()
    add_portal_arguments(parser)
    assert knobs_from(parser.parse_args([])) == DemoKnobs()
    flags = "--js-delay-ms 100 --js-delay-max-ms 3000 --second-batch-ms 1500 --list-via-fetch --list-latency-ms 250"
    knobs = knobs_from(parser.parse_args([*flags.split(), "--loading-placeholder", "--skin", "other"]))
    assert knobs == DemoKnobs(
        js_render_delay_ms=100,
        js_render_delay_max_ms=3000,
        second_batch_ms=1500,
        list_via_fetch=True,
        list_fetch_latency_ms=250,
        loading_placeholder=True,
        skin=Skin.OTHER,
    )


def test_the_portal_command_names_the_flag_of_a_bad_delay_range() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "popool_gui.demo", "--js-delay-ms", "800", "--js-delay-max-ms", "300"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--js-delay-max-ms must be 0 or at least --js-delay-ms (800), not 300" in result.stderr
