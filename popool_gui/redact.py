"""What of a URL may be shown: its query string, fragment and `user:password@` part never are.

Portals and SSO chains carry session tokens, signatures and one-time codes in query strings and fragments, and a
Grid address may carry a password. Logs (a processor in `logs.py`) and user-facing messages (ERROR_MESSAGE, start
errors) show URLs only through `redact_urls`, so the rule lives here once.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

# An absolute URL, or a request path with a query (urllib3 quotes those without their host). A URL ends at white
# space, a quote or an angle bracket; punctuation right before that end belongs to the sentence, not to the URL.
_URL = re.compile(
    r"""(?:\b[a-z][a-z0-9+.-]*://|(?<![\w/.])/(?=[^\s'"<>?#]*\?))[^\s'"<>]*?(?=[.,:;!?)]*(?:[\s'"<>]|$))""",
    re.IGNORECASE,
)


def redact_urls(text: str) -> str:
    """`text` with the query, fragment and credentials of every URL in it replaced by `[redacted]`."""
    if "://" not in text and "?" not in text:
        return text
    return _URL.sub(lambda match: _redact_url(match[0]), text)


def _redact_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    else:
        scheme += sep
        authority_end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
        userinfo_end = rest.rfind("@", 0, authority_end)
        if userinfo_end >= 0:
            rest = f"{REDACTED}{rest[userinfo_end:]}"
    rest, _, fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    return "".join(
        (
            scheme,
            rest,
            f"?{REDACTED}" if query else "",
            f"#{REDACTED}" if fragment else "",
        )
    )
