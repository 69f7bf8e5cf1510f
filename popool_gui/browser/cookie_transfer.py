"""The portal session for browsers on Grid nodes: read from a signed-in local browser, set in each Grid session.

A profile clone is a folder on this machine, which a remote node cannot use. So a local browser signs in once
(or reuses the local signed-in profile), popool reads the portal's cookies from it, and each Grid session gets them
before it opens the portal: via DevTools `Network.setCookies` where the browser has DevTools, else WebDriver's
`add_cookie` on the portal's own page. Every cookie keeps the scope the portal gave it (host-only or domain, path,
Secure, HttpOnly, SameSite, expiry), so it goes only where the local browser would have sent it; only cookies
whose domain the portal's host matches are taken. Values never reach a log (`repr` leaves them out).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import structlog
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.remote.webdriver import WebDriver

from popool_gui.browser.cdp import execute_cdp
from popool_gui.browser.errors import first_line

log = structlog.get_logger()

SAME_SITE = frozenset({"Strict", "Lax", "None"})


@dataclass(frozen=True, slots=True)
class PortalCookie:
    """One cookie of the portal as the browser holds it; `domain` starts with a dot for a domain cookie."""

    name: str
    value: str = field(repr=False)
    domain: str
    path: str = "/"
    secure: bool = False
    http_only: bool = False
    expiry: int | None = None  # seconds since the epoch; None for a session cookie
    same_site: str = ""

    @property
    def host_only(self) -> bool:
        return not self.domain.startswith(".")

    @classmethod
    def from_browser(cls, raw: dict[str, Any]) -> PortalCookie:
        """From DevTools' `Network.Cookie` or WebDriver's cookie dictionary (either spelling of the fields)."""
        expiry = raw.get("expiry", raw.get("expires"))
        session = raw.get("session") is True or expiry is None or float(expiry) <= 0
        same_site = str(raw.get("sameSite") or "")
        return cls(
            name=str(raw["name"]),
            value=str(raw.get("value", "")),
            domain=str(raw.get("domain") or "").lower(),
            path=str(raw.get("path") or "/"),
            secure=bool(raw.get("secure")),
            http_only=bool(raw.get("httpOnly")),
            expiry=None if session or expiry is None else int(float(expiry)),  # `expiry is None` narrows for mypy
            same_site=same_site if same_site in SAME_SITE else "",
        )


def domain_matches(host: str, cookie_domain: str) -> bool:
    """RFC 6265 domain matching: would the browser send a cookie of `cookie_domain` to `host`?"""
    host, domain = host.lower(), cookie_domain.lower()
    if not domain.startswith("."):
        return host == domain
    bare = domain[1:]
    return host == bare or host.endswith(domain)


def portal_host(base_url: str) -> str:
    return (urlsplit(base_url).hostname or "").lower()


def read_portal_cookies(driver: WebDriver, base_url: str) -> tuple[PortalCookie, ...]:
    """Every cookie of the browser that the portal's host would get, whatever its path.

    DevTools lists all of them, HttpOnly included; without DevTools, WebDriver's list for the current page is
    what there is (the browser must be on the portal)."""
    host = portal_host(base_url)
    try:
        raw = execute_cdp(driver, "Network.getAllCookies")["cookies"]
    except (WebDriverException, KeyError, TypeError):
        raw = driver.get_cookies()
    cookies = [PortalCookie.from_browser(c) for c in raw if c.get("name") and c.get("domain")]
    return tuple(c for c in cookies if domain_matches(host, c.domain))


def install_cookies(driver: WebDriver, cookies: tuple[PortalCookie, ...], base_url: str) -> None:
    """Give a fresh browser the portal session: before it opens the portal with DevTools, else on the portal's
    page (the caller opens the base URL afterwards either way, which then runs with the session)."""
    host = portal_host(base_url)
    mine = tuple(c for c in cookies if domain_matches(host, c.domain))
    if not mine:
        return
    try:
        execute_cdp(driver, "Network.setCookies", {"cookies": [_cdp_param(c, base_url) for c in mine]})
        log.info("portal_cookies_set", count=len(mine), via="devtools")
        return
    except (WebDriverException, KeyError) as exc:
        log.info("portal_cookies_devtools_unavailable", error=first_line(exc))
    driver.get(base_url)  # WebDriver sets cookies only for the page the browser shows
    for cookie in mine:
        with contextlib.suppress(WebDriverException):  # one the browser refuses must not block the others
            driver.add_cookie(_webdriver_cookie(cookie))
    log.info("portal_cookies_set", count=len(mine), via="webdriver")


def _common_fields(cookie: PortalCookie) -> dict[str, Any]:
    """The fields DevTools and WebDriver spell alike; `sameSite` only when the portal set one."""
    fields: dict[str, Any] = {
        "name": cookie.name,
        "value": cookie.value,
        "path": cookie.path,
        "secure": cookie.secure,
        "httpOnly": cookie.http_only,
    }
    if cookie.same_site:
        fields["sameSite"] = cookie.same_site
    return fields


def _cdp_param(cookie: PortalCookie, base_url: str) -> dict[str, Any]:
    param = _common_fields(cookie)
    if cookie.host_only:
        # With a domain the browser would make it a domain cookie, sent to subdomains too; a URL keeps it host-only.
        scheme = "https" if cookie.secure else urlsplit(base_url).scheme
        port = urlsplit(base_url).port
        param["url"] = f"{scheme}://{cookie.domain}{f':{port}' if port else ''}{cookie.path}"
    else:
        param["domain"] = cookie.domain
    if cookie.expiry is not None:
        param["expires"] = cookie.expiry
    return param


def _webdriver_cookie(cookie: PortalCookie) -> dict[str, Any]:
    entry = _common_fields(cookie)
    if not cookie.host_only:
        entry["domain"] = cookie.domain
    if cookie.expiry is not None:
        entry["expiry"] = cookie.expiry
    return entry
