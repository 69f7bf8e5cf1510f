"""One pace for every request of a lane: requests are spaced 1/rate apart, so no second holds more than
rate + 1 of them (Coupa counts 25/s with a burst of 20; the default rate is 20/s)."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    def __init__(self, per_s: float) -> None:
        self._gap = 1.0 / per_s
        self._next = 0.0
        self._lock = asyncio.Lock()
        self.sent = 0

    async def acquire(self) -> None:
        # Waiters queue on the lock in arrival order; each takes the next free moment.
        async with self._lock:
            now = time.monotonic()
            wait = self._next - now
            if wait > 0:
                await asyncio.sleep(wait)
            self._next = max(now, self._next) + self._gap
            self.sent += 1
