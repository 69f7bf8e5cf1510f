"""Settings > Check sign-in: open the portal the way a worker would and say whether it asks for a sign-in.

A worker starts from a copy of the user's browser profile (when one is set), so the check does the same, in the
folder its caller gives it (a run folder, which the next start sweeps if this process dies before removing it):
the user's own profile is only read, never opened by a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from popool_gui.browser.backend import backend_kind
from popool_gui.browser.errors import BrowserError, ProfileCloneError
from popool_gui.browser.portal import PortalProfile
from popool_gui.browser.profiles import clone_profile
from popool_gui.browser.session import BrowserSession
from popool_gui.settings import Settings

log = structlog.get_logger()

CHECK_WORKER = 0  # no worker of a run has number 0: the check's log lines stand apart


@dataclass(frozen=True, slots=True)
class SignInCheck:
    signed_in: bool
    message: str  # one or two sentences for the dialog


def check_sign_in(settings: Settings, portal: PortalProfile, work: Path) -> SignInCheck:
    """Start a headless browser as a worker would, open the portal's address, and report what it showed. `work` is
    an empty folder for the profile copy and the staging folder; the caller removes it."""
    host = urlsplit(portal.base_url).hostname or portal.base_url
    try:
        profile = _clone(settings, work)
    except ProfileCloneError as exc:
        message = f"Your browser profile could not be copied: {exc}. Close the browser, then check again."
        return SignInCheck(False, message)
    session = BrowserSession(
        settings.replace(headless=True),
        portal,
        worker=CHECK_WORKER,
        staging_dir=work / "staging",
        user_data_dir=profile,
    )
    try:
        session.start()
        signed_in, detail = session.sign_in_again()
    except BrowserError as exc:
        return SignInCheck(False, f"The check could not open {host}: {exc}")
    finally:
        session.quit()
    log.info("sign_in_checked", host=host, signed_in=signed_in, detail=detail)
    if signed_in:
        return SignInCheck(True, f"Signed in: {host} opened without asking for a sign-in.")
    if not detail.startswith("the portal still shows"):
        return SignInCheck(False, f"The check could not open {host}: {detail}")
    fix = (
        "Sign in to it in your browser with that profile, close the browser, then check again."
        if settings.profile_dir
        else "Choose your signed-in Edge profile above, then check again."
    )
    return SignInCheck(False, f"Not signed in: {host} shows its sign-in page. {fix}")


def _clone(settings: Settings, work: Path) -> Path | None:
    if not settings.profile_dir.strip() or not backend_kind(settings).browsers_here:
        return None  # a Grid session gets the portal's cookies another way (cookie_transfer)
    return clone_profile(Path(settings.profile_dir), settings.profile_name, work / "profile").path
