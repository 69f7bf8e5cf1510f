"""Before an API run: get a token, check its scopes, list one PO (what a "Test connection" button will call).

Each failure is one `ApiSetupError` line that says what to fix, within seconds: refused credentials, a missing
scope (the token lacks it, or the listing answers 403), no answer from the host, a tenant that keeps answering
429.
"""

from __future__ import annotations

import asyncio
import dataclasses

from popool_gui.api.access import ApiAccess, ApiSetupError
from popool_gui.api.client import ApiClient, ApiFailure

CHECK_TIMEOUT_S = 5.0


def check_connection(access: ApiAccess) -> tuple[str, ...]:
    """The scopes the client was granted; ApiSetupError when the API cannot be used."""
    return asyncio.run(_check(dataclasses.replace(access, timeout_s=CHECK_TIMEOUT_S)))


async def _check(access: ApiAccess) -> tuple[str, ...]:
    client = ApiClient(access)
    try:
        scopes = await client.sign_in()
        await client.get_json("/api/purchase_orders", {"limit": "1", "fields": '["id"]'})
        return tuple(sorted(scopes))
    except ApiFailure as exc:
        raise ApiSetupError(_explain(exc, access)) from exc
    finally:
        await client.aclose()


def _explain(exc: ApiFailure, access: ApiAccess) -> str:
    if exc.unreachable:
        return f"{exc}: check the base URL and the network"
    if exc.status == 403:
        return f"API client '{access.client_id}' may not list purchase orders (HTTP 403): it lacks a scope ({exc})"
    if exc.status == 429:
        return f"the API keeps answering 429 (rate limited) to client '{access.client_id}': try again later"
    return f"the API at {access.origin} answered unexpectedly: {exc}"
