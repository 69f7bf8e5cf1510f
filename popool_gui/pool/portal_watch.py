"""When the portal goes away: hold the queue instead of spending every PO's attempts on it, probe, go on.

A PO whose page could not be reached at all (a refused or reset connection, a failed DNS look-up, a page load
that timed out) says little about that PO. When such failures follow one another across the workers, the portal
may be gone (a VPN dropped, the tenant is down for maintenance): the run stops handing out POs and asks the portal's
address over HTTP, through the same proxies as the rest of popool, at growing intervals. Any answer at all, an error
page or a sign-in redirect included, means it is there, and the run goes on where it was.

Attempts come back only once the outage is confirmed (the first probe found nothing): a streak of slow pages on a
portal that answers the probe is the POs' own failure, and is counted as such. A probe that cannot see what the
browsers see (a proxy only the browser knows, a Grid node elsewhere) does not hold the run for ever: after a few
silent probes the POs are let through again, and the first one that cannot reach the portal holds the run at once.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

# Seconds between probes while the portal is away: soon at first, then at a steady pace.
PROBE_DELAYS_S: tuple[float, ...] = (3.0, 5.0, 10.0, 15.0)
PROBE_TIMEOUT_S = 5.0
# Failures in a row that make it the portal's fault, not a PO's: at least this many, and two per worker.
MIN_STREAK = 3
# Silent probes after which the POs are let through again, in case the probe cannot see the portal the browsers see.
PROBES_BEFORE_TRIAL = 4


def streak_for(workers: int) -> int:
    return max(MIN_STREAK, 2 * workers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is an answer: the portal is there


def portal_answers(base_url: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when something answers HTTP at the portal's address (any status); False when nothing does."""
    opener = urllib.request.build_opener(_NoRedirect())  # the environment's (and on Windows the system's) proxies
    request = urllib.request.Request(base_url, method="HEAD")
    try:
        with opener.open(request, timeout=timeout_s):
            return True
    except urllib.error.HTTPError:
        return True  # an error status is an answer
    except Exception:  # refused, reset, DNS, TLS, a URL the resolver rejects: nothing usable answered
        return False


@dataclass(slots=True)
class PortalWatch:
    """The streak of unreachable failures, the hold and its probes. Owned by the controller's thread."""

    base_url: str
    threshold: int
    probe: Callable[[str], bool] = portal_answers
    streak: list[tuple[str, int]] = field(default_factory=list)  # (PO key, the attempt it used), in order
    suspects: list[tuple[str, int]] = field(default_factory=list)  # the streak that started the hold
    held_since: float | None = None
    trial: bool = False  # let through after silent probes: the next unreachable PO holds again at once
    next_probe: float = 0.0
    probes: int = 0  # silent probes of this outage
    _pending_probe: Future[bool] | None = None
    _pool: ThreadPoolExecutor | None = None

    @property
    def holding(self) -> bool:
        return self.held_since is not None

    def reached(self) -> bool:
        """A PO's page answered: whatever failed before was not the portal being away, and a hold ends. True when
        this ended a hold."""
        holding = self.holding
        self.release()
        self.trial, self.probes = False, 0
        return holding

    def unreachable(self, key: str, attempt: int, now: float) -> bool:
        """Count one unreachable failure; True when the run holds (this PO then waits with its attempt)."""
        if self.holding:
            return True
        self.streak.append((key, attempt))
        if not self.trial and len(self.streak) < self.threshold:
            return False
        self.suspects = self.streak[:-1]
        self.streak = []
        self.held_since = now
        delay = PROBE_DELAYS_S[min(self.probes, len(PROBE_DELAYS_S) - 1)]
        self.next_probe = now + (delay if self.trial else PROBE_DELAYS_S[0])
        return True

    def seconds_to_probe(self, now: float) -> int:
        return max(0, round(self.next_probe - now))

    def tick(self, now: float) -> tuple[bool, list[tuple[str, int]]]:
        """While holding: start a probe when one is due, collect its answer. Returns (the hold ended, the POs
        whose attempts the run gives back now that the outage is confirmed)."""
        if not self.holding:
            return False, []
        if self._pending_probe is None:
            if now >= self.next_probe:
                self._pool = self._pool or ThreadPoolExecutor(max_workers=1, thread_name_prefix="portal-probe")
                self._pending_probe = self._pool.submit(self.probe, self.base_url)
            return False, []
        if not self._pending_probe.done():
            return False, []
        back = self._pending_probe.result()
        self._pending_probe = None
        if back:
            self.release()
            self.probes = 0
            return True, []
        confirmed, self.suspects = self.suspects, []
        self.probes += 1
        if self.probes >= PROBES_BEFORE_TRIAL:
            self.release()
            self.trial = True
            return True, confirmed
        self.next_probe = now + PROBE_DELAYS_S[min(self.probes, len(PROBE_DELAYS_S) - 1)]
        return False, confirmed

    def release(self) -> None:
        self.held_since = None
        self.streak.clear()
        self.suspects.clear()
        self._pending_probe = None  # an answer for this hold says nothing about the next

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def waiting_message(watch: PortalWatch, now: float) -> str:
    """What the window's message bar and the CLI say while the run holds."""
    if not watch.holding:
        return ""
    seconds = watch.seconds_to_probe(now)
    when = f"retrying in {seconds} s" if seconds else "checking now"
    return f"The portal is not answering; {when}. The POs wait and keep their attempts; Stop ends the run."
