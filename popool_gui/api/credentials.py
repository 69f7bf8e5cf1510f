"""The API client's secret in the operating system's credential store (Windows Credential Manager, macOS
Keychain, Secret Service) through `keyring`: never in settings.toml, a log, the journal or the report."""

from __future__ import annotations

import keyring
from keyring.errors import KeyringError

from popool_gui.api.access import ApiSetupError

SERVICE = "popool-api"
LEGACY_KEY_USER = "legacy-api-key"  # one legacy key per portal: it belongs to the tenant, not to a client


def _user(base_url: str, client_id: str) -> str:
    # One secret per client and portal: the same client id on two tenants is two clients.
    return f"{client_id}@{base_url.rstrip('/').lower()}"


def load_secret(base_url: str, client_id: str) -> str:
    """The stored secret; ApiSetupError names how to store one when there is none or the store fails."""
    try:
        secret = keyring.get_password(SERVICE, _user(base_url, client_id))
    except KeyringError as exc:
        raise ApiSetupError(f"the credential store could not be read ({type(exc).__name__}: {exc})") from exc
    if not secret:
        raise ApiSetupError(
            f"no secret stored for API client '{client_id}' at {base_url}: store it with "
            "'popool api-secret --base-url URL --client-id ID' (it asks for the secret)"
        )
    return secret


def has_secret(base_url: str, client_id: str) -> bool:
    try:
        return bool(keyring.get_password(SERVICE, _user(base_url, client_id)))
    except KeyringError:
        return False


def store_secret(base_url: str, client_id: str, secret: str) -> None:
    try:
        keyring.set_password(SERVICE, _user(base_url, client_id), secret)
    except KeyringError as exc:
        raise ApiSetupError(f"the credential store refused the secret ({type(exc).__name__}: {exc})") from exc


def load_api_key(base_url: str) -> str:
    """The legacy X-COUPA-API-KEY stored for this portal, "" when there is none (it is only ever a fallback)."""
    try:
        return keyring.get_password(SERVICE, _legacy_user(base_url)) or ""
    except KeyringError:
        return ""


def store_api_key(base_url: str, key: str) -> None:
    try:
        keyring.set_password(SERVICE, _legacy_user(base_url), key)
    except KeyringError as exc:
        raise ApiSetupError(f"the credential store refused the API key ({type(exc).__name__}: {exc})") from exc


def _legacy_user(base_url: str) -> str:
    return f"{LEGACY_KEY_USER}@{base_url.rstrip('/').lower()}"
