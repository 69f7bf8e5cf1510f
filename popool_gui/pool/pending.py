"""The queue of POs waiting for a worker, with the retry-elsewhere rule."""

from __future__ import annotations

from collections import deque

# Scanning further than this for a PO that last failed elsewhere costs more than it saves.
OTHER_WORKER_LOOKAHEAD = 32
# How long a retry waits for a different worker before the one it failed on may take it again.
RETRY_ELSEWHERE_S = 10.0


class PendingQueue:
    def __init__(self, keys: list[str] | None = None) -> None:
        self._keys: deque[str] = deque(keys or ())
        self._last_worker: dict[str, tuple[int, float]] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def push(self, key: str, *, front: bool = False) -> None:
        if front:
            self._keys.appendleft(key)
        else:
            self._keys.append(key)

    def tried(self, key: str, worker: int, now: float) -> None:
        """`worker` (0: none) just reported an attempt on `key`."""
        self._last_worker[key] = (worker, now)

    def take_for(self, worker: int, *, others_live: bool, now: float) -> str | None:
        """Prefer a PO that did not last fail on this worker, so a retry lands elsewhere when it can.

        Returns None when every candidate last failed here and another live worker can still take it soon.
        """
        if not self._keys:
            return None
        if not others_live:
            return self._keys.popleft()
        for index, key in enumerate(self._keys):
            if index >= OTHER_WORKER_LOOKAHEAD:
                break
            last, when = self._last_worker.get(key, (0, 0.0))
            if last != worker or now - when >= RETRY_ELSEWHERE_S:
                del self._keys[index]
                return key
        return None
