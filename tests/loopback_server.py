"""A small real HTTP(S) server on a loopback address for tests: routes answer requests, and every request's
path and headers are recorded, so a test can prove what reached which host."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Seen:
    path: str
    headers: dict[str, str]  # header names lower-cased


Route = Callable[[str], Reply]


@dataclass
class LoopbackServer:
    host: str
    port: int
    scheme: str
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def cookies_seen(self) -> list[str]:
        return [s.headers["cookie"] for s in self.seen if "cookie" in s.headers]


def _handler(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = server.routes.get(self.path.split("?", 1)[0])
            reply = route(self.path) if route is not None else Reply(404, b"not found")
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve(host: str = "127.0.0.1", *, cert: Path | None = None) -> Iterator[LoopbackServer]:
    """A threaded server on `host` at a free port; https with `cert` (a PEM holding key and certificate)."""
    state = LoopbackServer(host, 0, "https" if cert else "http")
    httpd = ThreadingHTTPServer((host, 0), _handler(state))
    if cert is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def self_signed_cert(folder: Path, ip: str = "127.0.0.1") -> tuple[Path, Path]:
    """A throw-away certificate for `ip` made with the openssl CLI: (the server's PEM with key and certificate,
    the certificate alone for clients to trust)."""
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={ip}"),
            *("-addext", f"subjectAltName=IP:{ip}", "-keyout", str(key), "-out", str(crt)),
        ],
        check=True,
        capture_output=True,
    )
    both = folder / "both.pem"
    both.write_bytes(key.read_bytes() + crt.read_bytes())
    return both, crt


def redirect(to: str, code: int = 302) -> Route:
    return lambda _path: Reply(code, headers=(("Location", to),))


def file_reply(body: bytes, name: str = "", content_type: str = "application/pdf") -> Route:
    headers = [("Content-Type", content_type)]
    if name:
        headers.append(("Content-Disposition", f'attachment; filename="{name}"'))
    return lambda _path: Reply(200, body, tuple(headers))
