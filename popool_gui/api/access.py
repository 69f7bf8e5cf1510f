"""What an API run needs to reach the portal's API, and the errors that keep a run from starting."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# What popool reads: POs and their lines, requisitions, attachments (common) and comments.
REQUIRED_SCOPES: tuple[str, ...] = (
    "core.purchase_order.read",
    "core.requisition.read",
    "core.common.read",
    "core.comment.read",
)
# Coupa allows 25 requests/s; popool keeps below it by default and never goes above it.
DEFAULT_RATE_PER_S = 20.0
MAX_RATE_PER_S = 25.0
# Coupa advises waiting about 5 s before a new token's first use: it takes that long to reach every server of the
# tenant. Not a setting; a portal on this machine (the demo, a test's) has no servers to reach (`ApiAccess.local`).
NEW_TOKEN_WAIT_S = 5.0


class ApiSetupError(ValueError):
    """The API cannot be used as configured (no client, no secret, refused credentials, a missing scope, no
    answer): one line that names the fix. The CLI exits 2 on it, before anything starts."""


@dataclass(frozen=True, slots=True)
class ApiAccess:
    """The portal's API and the client that reads it. The secret never shows in a repr, a log or a file; it
    travels to the lane process inside the spawn arguments only."""

    base_url: str
    client_id: str
    secret: str = field(repr=False)
    rate_per_s: float = DEFAULT_RATE_PER_S
    timeout_s: float = 30.0  # one request, connect to last byte of a JSON answer (a file may take longer)
    token_wait_s: float = NEW_TOKEN_WAIT_S  # between a new token and its first use
    # A legacy X-COUPA-API-KEY, unsupported by Coupa since R35: used only when stored, and only when the portal
    # refuses the OAuth client or has no token endpoint.
    api_key: str = field(default="", repr=False)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}".lower()

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def owns(self, url: str) -> bool:
        """Whether `url` is on the portal's own origin: the only place the bearer token goes."""
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower() == self.origin and parts.scheme in ("http", "https")

    @property
    def loopback(self) -> bool:
        return (urlsplit(self.base_url).hostname or "") in ("127.0.0.1", "localhost", "::1")

    def local(self) -> ApiAccess:
        """This access with no wait for a new token when the portal is on this machine."""
        return dataclasses.replace(self, token_wait_s=0.0) if self.loopback else self
