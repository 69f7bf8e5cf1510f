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
        # POs that need not wait for a worker's tab to free up (second looks: see Dispatcher.dispatch).
        self._express: set[str] = set()

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def push(self, key: str, *, front: bool = False, express: bool = False) -> None:
        if front:
            self._keys.appendleft(key)
        else:
            self._keys.append(key)
        if express:
            self._express.add(key)

    def tried(self, key: str, worker: int, now: float) -> None:
        """`worker` (0: none) just reported an attempt on `key`."""
        self._last_worker[key] = (worker, now)

    def take_for(self, worker: int, *, others_live: bool, now: float) -> str | None:
        """Prefer a PO that did not last fail on this worker, so a retry lands elsewhere when it can.

        Returns None when every candidate last failed here and another live worker can still take it soon.
        """
        for index, key in enumerate(self._keys):
            if index >= OTHER_WORKER_LOOKAHEAD:
                break
            if self._may_take(key, worker, others_live, now):
                del self._keys[index]
                self._express.discard(key)
                return key
        return None

    def take_express_for(self, worker: int, *, others_live: bool, now: float) -> str | None:
        """The PO at the head of the queue when it is an express one that `worker` may take (`take_for`'s rule)."""
        if not self._keys or self._keys[0] not in self._express:
            return None
        key = self._keys[0]
        if not self._may_take(key, worker, others_live, now):
            return None
        self._keys.popleft()
        self._express.discard(key)
        return key

    def _may_take(self, key: str, worker: int, others_live: bool, now: float) -> bool:
        last, when = self._last_worker.get(key, (0, 0.0))
        return not others_live or last != worker or now - when >= RETRY_ELSEWHERE_S
