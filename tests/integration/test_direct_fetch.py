"""Issue 12 point 1: `fetch_direct` sends the browser's cookies only where the browser would, none of them (nor
an Authorization header) past a redirect to another origin, and refuses a redirect from https to http.

Real servers on loopback: the portal on 127.0.0.1, the "other host" on 127.0.0.2 recording what it receives,
and for https a self-signed certificate made with the openssl CLI.
"""

from __future__ import annotations

import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from popool_gui.browser.backend_choice import build_driver
from popool_gui.browser.downloads import cookie_jar, fetch_direct
from popool_gui.settings import Settings
from tests.loopback_server import Reply, file_reply, redirect, self_signed_cert, serve

SESSION = "sid=s3ss10n-SECRET"
PDF = b"%PDF-1.4 the attachment"
HEADERS = {"User-Agent": "popool-test", "Referer": "http://127.0.0.1/order_headers/1?token=t"}


def browser_cookie(name: str, value: str, domain: str = "127.0.0.1", **extra: object) -> dict[str, object]:
    """A cookie as WebDriver's get_cookies() reports it."""
    return {"name": name, "value": value, "domain": domain, "path": "/", "secure": False, "httpOnly": True, **extra}


def fetch(url: str, cookies: list[dict[str, object]], staging: Path, headers: dict[str, str] | None = None):
    staging.mkdir(exist_ok=True)
    return fetch_direct(url, cookies=cookies, headers=headers or HEADERS, staging=staging, timeout_s=10)


@pytest.mark.browser
def test_the_session_cookie_of_a_real_browser_never_reaches_the_redirect_target(
    chromium_settings: Settings, tmp_path: Path
) -> None:
    with serve("127.0.0.1") as portal, serve("127.0.0.2") as other:
        portal.routes["/login"] = lambda _p: Reply(
            200,
            b"<html><body>signed in</body></html>",
            (("Content-Type", "text/html"), ("Set-Cookie", f"{SESSION}; HttpOnly; Path=/; SameSite=Lax")),
        )
        portal.routes["/attachment_file/1"] = redirect(f"{other.url}/storage/1?sig=abc")
        other.routes["/storage/1"] = file_reply(PDF, "scan.pdf")
        driver = build_driver(chromium_settings, staging_dir=tmp_path / "dl", user_data_dir=tmp_path / "profile")
        try:
            driver.get(f"{portal.url}/login")
            cookies = driver.get_cookies()
        finally:
            driver.quit()
        assert [c["name"] for c in cookies] == ["sid"] and cookies[0]["httpOnly"]

        outcome = fetch(f"{portal.url}/attachment_file/1", cookies, tmp_path / "staging")

    assert outcome.path is not None and outcome.path.read_bytes() == PDF, outcome.error
    assert portal.cookies_seen()[-1] == SESSION  # the portal itself gets its session
    assert [s.path for s in other.seen] == ["/storage/1?sig=abc"]
    assert other.cookies_seen() == []
    assert other.seen[0].headers["referer"] == f"{portal.url}/"  # the origin only, as a browser sends it


def test_no_cookie_or_authorization_crosses_to_another_origin_but_a_same_origin_hop_keeps_them(
    tmp_path: Path,
) -> None:
    with serve("127.0.0.1") as portal, serve("127.0.0.2") as other:
        portal.routes["/a"] = redirect("/b", 301)
        portal.routes["/b"] = redirect(f"{other.url}/c", 307)
        other.routes["/c"] = file_reply(PDF)
        # A port is part of the origin too: the same host on another port is another origin.
        portal.routes["/d"] = redirect(f"http://127.0.0.1:{other.port}/e")
        headers = {**HEADERS, "Authorization": "Bearer api-SECRET"}

        outcome = fetch(f"{portal.url}/a", [browser_cookie("sid", "s3ss10n-SECRET")], tmp_path / "s", headers)
        assert outcome.path is not None, outcome.error
        assert [s.path for s in portal.seen] == ["/a", "/b"]
        assert all(s.headers.get("cookie") == SESSION for s in portal.seen)
        assert all(s.headers.get("authorization") == "Bearer api-SECRET" for s in portal.seen)
        (seen,) = other.seen
        assert "cookie" not in seen.headers and "authorization" not in seen.headers


def test_each_cookie_goes_only_where_the_browser_would_send_it(tmp_path: Path) -> None:
    with serve("127.0.0.1") as portal:
        portal.routes["/docs/file"] = file_reply(PDF)
        cookies = [
            browser_cookie("sid", "1"),
            browser_cookie("docs", "2", path="/docs"),
            browser_cookie("admin", "3", path="/admin"),
            browser_cookie("docsy", "4", path="/docs/file/deeper"),
            browser_cookie("tls_only", "5", secure=True),
            browser_cookie("expired", "6", expiry=int(time.time()) - 60),
            browser_cookie("later", "7", expiry=int(time.time()) + 3600),
            browser_cookie("other_host", "8", domain="127.0.0.2"),
            browser_cookie("other_site", "9", domain=".example.com"),
        ]
        outcome = fetch(f"{portal.url}/docs/file", cookies, tmp_path / "s")
    assert outcome.path is not None, outcome.error
    sent = sorted(portal.cookies_seen()[0].split("; "))
    assert sent == ["docs=2", "later=7", "sid=1"]


def test_domain_and_host_only_cookies_keep_their_scope() -> None:
    """The jar's matching for names loopback cannot serve: host-only stays on its host, a domain cookie
    reaches subdomains, a dotless host still gets its own cookies."""
    jar = cookie_jar(
        [
            browser_cookie("host_only", "1", domain="portal.example.com"),
            browser_cookie("wide", "2", domain=".example.com"),
            browser_cookie("local", "3", domain="localhost"),
        ]
    )

    def sent(url: str) -> str:
        request = urllib.request.Request(url)
        jar.add_cookie_header(request)
        return request.get_header("Cookie") or ""

    assert sorted(sent("https://portal.example.com/x").split("; ")) == ["host_only=1", "wide=2"]
    assert sent("https://cdn.portal.example.com/x") == "wide=2"
    assert sent("https://example.com/x") == "wide=2"
    assert sent("https://evil-example.com/x") == ""
    assert sent("http://localhost:8080/x") == "local=3"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI for a self-signed certificate")
def test_a_redirect_from_https_to_http_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server_pem, client_cert = self_signed_cert(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(client_cert))  # urllib's default context trusts only this certificate
    with serve("127.0.0.1", cert=server_pem) as portal, serve("127.0.0.2") as other:
        portal.routes["/ok"] = file_reply(PDF)
        portal.routes["/down"] = redirect(f"{other.url}/plain?token=t0k")
        other.routes["/plain"] = file_reply(PDF)
        cookies = [browser_cookie("sid", "s3ss10n-SECRET", secure=True)]

        good = fetch(f"{portal.url}/ok", cookies, tmp_path / "s")
        assert good.path is not None, good.error
        assert portal.cookies_seen() == [SESSION]  # a Secure cookie does go over https

        refused = fetch(f"{portal.url}/down", cookies, tmp_path / "s")
    assert refused.path is None
    assert refused.error == f"refused a redirect from https to {other.url}/plain?[redacted]"
    assert other.seen == []
