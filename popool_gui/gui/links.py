"""Which links from a PO row the window hands to the desktop.

COUPA_URL and DOWNLOAD_FOLDER come from the journal, which an input file (a results file fed back) can fill: they
are untrusted. "Open page" opens only an http(s) address of the portal's own origin; "Open folder" opens only a
folder inside the output folder, after links are resolved. A UNC path is refused before anything touches it:
merely looking at `\\\\host\\share` makes Windows send the user's NTLM credentials to that host.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from popool_gui.redact import redact_urls

_DEFAULT_PORTS = {"http": 80, "https": 443}


class LinkRefusedError(ValueError):
    """A link the window will not open; the message says why."""


def checked_page_url(url: str, base_url: str) -> str:
    """`url` when it is an http(s) address on the origin of the portal's `base_url`; else LinkRefusedError."""
    shown = redact_urls(url)
    if not base_url:
        raise LinkRefusedError(
            f"Not opening {shown}: no portal base URL is set (Settings → Portal base URL), so popool cannot tell "
            "whether the address belongs to the portal"
        )
    origin = _origin(base_url)
    if _origin(url) != origin or origin is None:
        raise LinkRefusedError(
            f"Not opening {shown}: it is not an address of the portal ({redact_urls(base_url)}). "
            "Only the portal's own http(s) pages are opened from the PO list."
        )
    return url


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:  # a malformed port or IPv6 literal
        return None
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS[scheme]


def checked_folder(folder: Path, output_dir: Path) -> Path:
    """`folder` resolved, when it is the output folder or inside it; else LinkRefusedError."""
    raw = str(folder)
    if raw.startswith(("\\\\", "//")) or folder.drive.startswith(("\\\\", "//")):
        raise LinkRefusedError(f"Not opening {raw}: a network (UNC) path is never opened from the PO list")
    root = output_dir.resolve()
    resolved = folder.resolve()
    if not resolved.is_relative_to(root):
        raise LinkRefusedError(
            f"Not opening {raw}: it is not inside the output folder {root} (links out of it are not followed)"
        )
    return resolved
