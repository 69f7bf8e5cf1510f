"""When the portal goes away: hold the queue instead of spending every PO's attempts on it, probe, go on.

A PO whose page could not be reached at all (a refused or reset connection, a failed DNS look-up, a page load
that timed out) says little about that PO. When such failures follow one another across the workers, the portal
itself is gone (a VPN dropped, the tenant is down for maintenance): the run stops handing out POs, gives those
POs their attempts back, and asks the portal's address over plain HTTP at growing intervals. Any answer at all, an
error page or a sign-in redirect included, means it is back, and the run goes on where it was.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Seconds between probes while the portal is away: soon at first, then at a steady pace.
PROBE_DELAYS_S: tuple[float, ...] = (3.0, 5.0, 10.0, 15.0)
PROBE_TIMEOUT_S = 5.0
# Failures in a row that make it the portal's fault, not a PO's: at least this many, and two per worker.
MIN_STREAK = 3


def streak_for(workers: int) -> int:
    return max(MIN_STREAK, 2 * workers)


def portal_answers(base_url: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when something answers HTTP at the portal's address (any status); False when nothing does."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(host, parts.port, timeout=timeout_s)
    try:
        connection.request("HEAD", parts.path or "/")
        connection.getresponse()
    except ssl.SSLError:
        return True  # the host answered; what the browser makes of its certificate is another matter
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True


@dataclass(slots=True)
class PortalWatch:
    """The streak of unreachable failures, the hold and its probes. Owned by the controller's thread."""

    base_url: str
    threshold: int
    probe: Callable[[str], bool] = portal_answers
    streak: list[tuple[str, int]] = field(default_factory=list)  # (PO key, the attempt it used), in order
    held_since: float | None = None
    next_probe: float = 0.0
    probes: int = 0
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
        return holding

    def unreachable(self, key: str, attempt: int, now: float) -> list[tuple[str, int]]:
        """Count one unreachable failure; returns the streak's earlier failures when this one starts a hold (their
        attempts are to be given back), else []."""
        if self.holding:
            return []
        self.streak.append((key, attempt))
        if len(self.streak) < self.threshold:
            return []
        earlier = self.streak[:-1]
        self.streak.clear()
        self.held_since, self.probes = now, 0
        self.next_probe = now + PROBE_DELAYS_S[0]
        return earlier

    def seconds_to_probe(self, now: float) -> int:
        return max(0, round(self.next_probe - now))

    def tick(self, now: float) -> bool:
        """While holding: start a probe when one is due, collect its answer; True when the portal is back."""
        if not self.holding:
            return False
        if self._pending_probe is not None:
            if not self._pending_probe.done():
                return False
            back = self._pending_probe.result()
            self._pending_probe = None
            if back:
                self.release()
                return True
            self.probes += 1
            self.next_probe = now + PROBE_DELAYS_S[min(self.probes, len(PROBE_DELAYS_S) - 1)]
            return False
        if now >= self.next_probe:
            self._pool = self._pool or ThreadPoolExecutor(max_workers=1, thread_name_prefix="portal-probe")
            self._pending_probe = self._pool.submit(self.probe, self.base_url)
        return False

    def release(self) -> None:
        self.held_since = None
        self.streak.clear()

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
