"""The one HTTP client of an API lane: one token, one pace, retries, and the token kept to the portal's origin.

- the token comes from ``POST /oauth2/token`` (client credentials as HTTP Basic); it is renewed before 20 h (or
  four fifths of its announced life, whichever is sooner), and once when a request meets 401 (one new token for
  however many requests met it with the same token; a request that meets 401 again fails);
- a new token is first used `ApiAccess.token_wait_s` after it came (Coupa advises about 5 s);
- a legacy ``X-COUPA-API-KEY``, when one is stored, stands in for the token when the portal refuses the client or
  has no token endpoint (said once in the log); never otherwise;
- every request, the token's included, waits its turn at the lane's `RateLimiter`;
- 429 and 5xx are tried again after a back-off with jitter (the API documents no Retry-After); a request that
  gets no answer at all is tried once more;
- redirects are followed by hand: the bearer token goes only to the portal's own origin, never from https to
  http, and JSON answers never redirect.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import structlog

from popool_gui import __version__
from popool_gui.api.access import REQUIRED_SCOPES, ApiAccess, ApiSetupError
from popool_gui.api.limiter import RateLimiter

log = structlog.get_logger()

RENEW_AFTER_S = 20 * 3600  # Coupa advises renewing its 24 h tokens every 20 h
BUSY_TRIES = 5  # 429 and 5xx: this many tries in all
NO_ANSWER_TRIES = 2  # refused, reset, timed out: once more, then the PO's attempt fails (the pool retries it)
BACKOFF_BASE_S = 0.25
BACKOFF_MAX_S = 8.0
MAX_JSON_BYTES = 16 * 1024 * 1024  # a list of attachments is kilobytes; more is not an answer to trust
MAX_REDIRECTS = 3
ERROR_BODY_BYTES = 64 * 1024
_BUSY = frozenset({429, 500, 502, 503, 504})


class ApiFailure(Exception):
    """A request that did not give what was asked. `status` is the HTTP status (0: no answer), `code` the
    body's `error` when it has one; `transient` says whether another attempt may do better."""

    def __init__(self, message: str, *, status: int = 0, code: str = "", transient: bool, unreachable: bool = False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.transient = transient
        self.unreachable = unreachable


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    obtained_mono: float
    renew_mono: float
    scopes: frozenset[str]
    usable_mono: float  # Coupa's advice: not used before this


# The token endpoint's answers that mean "not this client" (or, 404, "no OAuth here"): a legacy key may stand in.
_REFUSED = frozenset({400, 401, 403})
_NO_TOKEN_ENDPOINT = 404
LEGACY_KEY_HEADER = "X-COUPA-API-KEY"


def _backoff_s(attempt: int) -> float:
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt) * random.uniform(0.5, 1.5)


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", ""))[:80] if isinstance(body, dict) else ""


class ApiClient:
    """Use inside one event loop; `aclose()` when done."""

    def __init__(self, access: ApiAccess, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.access = access
        self.limiter = RateLimiter(access.rate_per_s)
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(access.timeout_s, connect=min(10.0, access.timeout_s)),
            follow_redirects=False,
            # A proxy from the environment is the user's business for a real tenant; loopback never goes through one.
            trust_env=not access.loopback,
            transport=transport,
            headers={"User-Agent": f"popool/{__version__}"},
        )
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()
        self.legacy_key = False  # the stored legacy key stands in for the token (see _new_token)
        self.in_flight = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def token_age_s(self) -> float | None:
        return None if self._token is None else time.monotonic() - self._token.obtained_mono

    # -- the token ----------------------------------------------------------------------------------------

    async def sign_in(self) -> frozenset[str]:
        """A fresh token; returns the scopes granted (none are known of a legacy key). ApiSetupError: the client
        was refused or lacks a scope."""
        async with self._token_lock:
            self._token = await self._new_token()
            return self._token.scopes if self._token is not None else frozenset()

    async def _bearer(self) -> None:
        """A current token, waited for until it may be used."""
        async with self._token_lock:
            if not self.legacy_key and (self._token is None or time.monotonic() >= self._token.renew_mono):
                self._token = await self._new_token()
            token = self._token
        if token is not None:
            # Outside the lock: every request waits on its own for the same moment.
            await asyncio.sleep(max(0.0, token.usable_mono - time.monotonic()))

    async def _renew(self, stale: str) -> None:
        """After a 401: a new token, unless another request already got one since `stale` was sent."""
        async with self._token_lock:
            if self._token is None or self._token.value == stale:
                log.info("api_token_renewed", reason="401")
                self._token = await self._new_token()

    async def _new_token(self) -> _Token | None:
        """A new token; None when the portal refused the client and the legacy key stands in from now on."""
        form = {"grant_type": "client_credentials", "scope": " ".join(REQUIRED_SCOPES)}
        basic = base64.b64encode(f"{self.access.client_id}:{self.access.secret}".encode()).decode("ascii")
        headers = {"Accept": "application/json", "Authorization": f"Basic {basic}"}
        url = self.access.url("/oauth2/token")
        response = await self._send(lambda: self._http.build_request("POST", url, data=form, headers=headers))
        if self.access.api_key and response.status_code in _REFUSED | {_NO_TOKEN_ENDPOINT}:
            log.warning("api_legacy_key", token_status=response.status_code)
            self.legacy_key = True
            return None
        if response.status_code in _REFUSED:
            raise ApiSetupError(
                f"the portal refused API client '{self.access.client_id}' (HTTP {response.status_code} "
                f"{_error_code(response) or 'error'}): check the client id and the secret stored for it"
            )
        if response.status_code != 200:
            raise ApiFailure(
                f"the token request answered HTTP {response.status_code}", status=response.status_code, transient=True
            )
        try:
            body = response.json()
            value, lifetime = str(body["access_token"]), float(body.get("expires_in") or 0)
            scopes = frozenset(str(body.get("scope", "")).split())
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiFailure("the token answer is not a token", status=502, transient=True) from exc
        missing = [s for s in REQUIRED_SCOPES if s not in scopes]
        if missing:
            raise ApiSetupError(
                f"API client '{self.access.client_id}' lacks the scope {', '.join(missing)}: "
                "ask the Coupa administrator to add it to the client"
            )
        now = time.monotonic()
        renew = now + min(RENEW_AFTER_S, 0.8 * lifetime if lifetime > 0 else RENEW_AFTER_S)
        log.info("api_token", lifetime_s=lifetime, scopes=len(scopes))
        return _Token(value, now, renew, scopes, now + self.access.token_wait_s)

    # -- requests -----------------------------------------------------------------------------------------

    async def _send(self, build: Callable[[], httpx.Request], *, stream: bool = False) -> httpx.Response:
        """Send the request `build()` makes, at the lane's pace, trying again on 429/5xx and on no answer."""
        busy = quiet = 0
        while True:
            await self.limiter.acquire()
            self.in_flight += 1
            try:
                response = await self._http.send(build(), stream=stream)
            except httpx.TransportError as exc:
                quiet += 1
                if quiet >= NO_ANSWER_TRIES:
                    raise ApiFailure(
                        f"the API did not answer at {self.access.origin} ({type(exc).__name__})",
                        transient=True,
                        unreachable=True,
                    ) from exc
                await asyncio.sleep(_backoff_s(quiet))
                continue
            finally:
                self.in_flight -= 1
            if response.status_code in _BUSY:
                busy += 1
                if busy < BUSY_TRIES:
                    await response.aclose()
                    log.info("api_backoff", status=response.status_code, tries=busy)
                    await asyncio.sleep(_backoff_s(busy))
                    continue
            return response

    async def _authorized(self, method: str, url: str, *, accept: str, stream: bool = False) -> httpx.Response:
        """A request with the bearer token (the portal's origin only), renewed once on 401."""
        if not self.access.owns(url):
            raise ApiFailure(f"refused to send the API token to another site: {_origin(url)}", transient=False)
        renewed = False
        sent = [""]

        def build() -> httpx.Request:
            # The token current when the request leaves, not when it queued: the wait at the pace may be long.
            if self.legacy_key:
                return self._http.build_request(
                    method, url, headers={LEGACY_KEY_HEADER: self.access.api_key, "Accept": accept}
                )
            sent[0] = self._token.value if self._token is not None else ""
            headers = {"Authorization": f"Bearer {sent[0]}", "Accept": accept}
            return self._http.build_request(method, url, headers=headers)

        while True:
            await self._bearer()
            response = await self._send(build, stream=stream)
            if response.status_code == 401 and self.legacy_key:
                await response.aclose()
                raise ApiSetupError(
                    "the portal refused the OAuth client and the legacy API key stored for it: check both"
                )
            if response.status_code == 401 and not renewed:
                await response.aclose()
                renewed = True
                await self._renew(sent[0])
                continue
            return response

    async def get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        """The JSON of an API GET on the portal; ApiFailure for any other answer."""
        url = self.access.url(path)
        if params:
            url = str(httpx.URL(url, params=params))
        response = await self._authorized("GET", url, accept="application/json", stream=True)
        try:
            await _raise_for(response, path)
            body = await _read_capped(response, MAX_JSON_BYTES)
        finally:
            await response.aclose()
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ApiFailure(f"{path}: the answer is not JSON", status=response.status_code, transient=True) from exc

    @asynccontextmanager
    async def open_file(self, url: str) -> AsyncIterator[httpx.Response]:
        """A file's response, streamed, after at most MAX_REDIRECTS redirects; the token goes only to the
        portal's origin and never from https to http. ApiFailure for an error status."""
        for _ in range(MAX_REDIRECTS + 1):
            if self.access.owns(url):
                response = await self._authorized("GET", url, accept="*/*", stream=True)
            else:
                # A def rather than a lambda: mypy cannot type a lambda's default, which binds this turn's url.
                def build(u: str = url) -> httpx.Request:
                    return self._http.build_request("GET", u, headers={"Accept": "*/*"})

                response = await self._send(build, stream=True)
            if response.is_redirect:
                location = response.headers.get("Location", "")
                await response.aclose()
                target = urljoin(url, location)
                if urlsplit(target).scheme not in ("http", "https") or (
                    urlsplit(url).scheme == "https" and urlsplit(target).scheme != "https"
                ):
                    raise ApiFailure(f"refused a redirect to {_origin(target)}", transient=False)
                url = target
                continue
            try:
                await _raise_for(response, "the file")
                yield response
            finally:
                await response.aclose()
            return
        raise ApiFailure(f"more than {MAX_REDIRECTS} redirects for one file", transient=False)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise ApiFailure(f"the answer is larger than {limit} bytes", status=response.status_code, transient=False)
    return body


async def _raise_for(response: httpx.Response, what: str) -> None:
    """ApiFailure for anything but 200, with the body's `error` code (insufficient_scope...) when it has one."""
    status = response.status_code
    if status == 200:
        return
    code = ""
    with contextlib.suppress(ApiFailure, ValueError, httpx.HTTPError):
        body = json.loads(await _read_capped(response, ERROR_BODY_BYTES))
        code = str(body.get("error", ""))[:80] if isinstance(body, dict) else ""
    transient = status in _BUSY or status >= 500 or status == 401
    raise ApiFailure(
        f"{what}: HTTP {status}" + (f" {code}" if code else ""), status=status, code=code, transient=transient
    )
