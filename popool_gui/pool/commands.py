"""What the user asks of a running pool. Other threads queue these; the controller's thread handles them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StopRun:
    """First: a graceful stop within `shutdown_timeout_s`. Again: force it now."""


@dataclass(frozen=True, slots=True)
class PauseWorker:
    worker: int


@dataclass(frozen=True, slots=True)
class ResumeWorker:
    """Also lifts a sign-in wait: the worker reopens the portal's home page first."""

    worker: int


@dataclass(frozen=True, slots=True)
class RestartWorker:
    """Graceful (after the current PO); a second request while one is pending forces it."""

    worker: int


@dataclass(frozen=True, slots=True)
class RetryPo:
    """The user's retry of one or more POs: they join the pending queue with their attempts counted afresh."""

    keys: tuple[str, ...]


UserCommand = StopRun | PauseWorker | ResumeWorker | RestartWorker | RetryPo
