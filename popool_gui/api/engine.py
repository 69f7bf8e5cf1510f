"""API mode as the pool runs it: which mode a run uses, the access it needs, and the controller's arguments.

The seam is the worker process: the controller keeps everything it does for browser workers (journal, retries,
second looks off, Stop, the report) and runs one API lane instead of N browsers (`lane.py`). One lane, so one
token and one pace serve every request; the POs it holds at once (`api_concurrency`) are its parallelism.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from popool_gui.api.access import ApiAccess, ApiSetupError
from popool_gui.api.credentials import has_secret, load_api_key, load_secret
from popool_gui.api.lane import lane_main
from popool_gui.browser.portal import PortalProfile
from popool_gui.settings import RunMode, Settings

API_LANES = 1


def resolve_mode(settings: Settings) -> RunMode:
    """BROWSER or API: `auto` takes the API when a client id is set and its secret is stored."""
    if settings.mode is not RunMode.AUTO:
        return settings.mode
    configured = bool(settings.api_client_id) and bool(settings.base_url)
    return RunMode.API if configured and has_secret(settings.base_url, settings.api_client_id) else RunMode.BROWSER


def api_access(settings: Settings, secret: str = "") -> ApiAccess:
    """What the lane needs to reach the API; ApiSetupError names a missing base URL, client id or secret.

    `secret` only for the embedded demo portal, whose client's secret is public; every other secret comes from
    the OS credential store."""
    if not settings.base_url:
        raise ApiSetupError("API mode needs the portal's base URL (--base-url, e.g. https://acme.coupahost.com)")
    if not settings.api_client_id:
        raise ApiSetupError("API mode needs an API client id (--api-client-id, or 'API client id' in the settings)")
    api_key = ""  # the demo's secret is given: the credential store is not read at all
    if not secret:
        secret, api_key = load_secret(settings.base_url, settings.api_client_id), load_api_key(settings.base_url)
    return ApiAccess(
        settings.base_url, settings.api_client_id, secret, rate_per_s=settings.api_rate_per_s, api_key=api_key
    ).local()


class ControllerKwargs(TypedDict):
    """RunArguments.controller_kwargs(): typed per key, so PoolController(**kwargs) is checked."""

    settings: Settings
    portal: PortalProfile
    worker_target: Callable[..., None]
    queue_depth: int | None


@dataclass(frozen=True, slots=True)
class RunArguments:
    """What PoolController needs, beyond the batch, for the run's mode; `access` is set in API mode."""

    settings: Settings
    portal: PortalProfile
    worker_target: Callable[..., None]
    queue_depth: int | None = None
    access: ApiAccess | None = None

    def controller_kwargs(self) -> ControllerKwargs:
        return {
            "settings": self.settings,
            "portal": self.portal,
            "worker_target": self.worker_target,
            "queue_depth": self.queue_depth,
        }


def run_arguments(
    settings: Settings, portal: PortalProfile, browser_target: Callable[..., None], *, demo_secret: str = ""
) -> RunArguments:
    """The controller's arguments for the mode the settings resolve to. In API mode the connection is checked
    first (`preflight`): ApiSetupError says in one line what keeps the run from starting. Blocks for up to a few
    seconds then: the window calls it off its GUI thread."""
    from popool_gui.api.preflight import check_connection

    if resolve_mode(settings) is not RunMode.API:
        return RunArguments(settings, portal, browser_target)
    access = api_access(settings, demo_secret)
    check_connection(access)
    run = api_run(settings, portal, access)
    return RunArguments(run.settings, run.portal, run.worker_target, run.queue_depth, access)


@dataclass(frozen=True, slots=True)
class ApiRun:
    """The PoolController arguments that make a run an API run."""

    settings: Settings
    portal: PortalProfile
    worker_target: Callable[..., None]
    queue_depth: int


def api_run(settings: Settings, portal: PortalProfile, access: ApiAccess) -> ApiRun:
    # The API's empty list is the portal's answer, not a page that may not have rendered: no second look.
    rules = dataclasses.replace(portal.attachments, second_look=False)
    return ApiRun(
        # The mode as resolved: the window shows an API run's lane for what it is, whatever `auto` chose.
        settings=settings.replace(workers=API_LANES, mode=RunMode.API),
        portal=dataclasses.replace(portal, attachments=rules),
        worker_target=functools.partial(lane_main, access),
        queue_depth=settings.api_concurrency - 1,
    )
