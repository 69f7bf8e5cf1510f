"""Worker processes as the controller holds them: spawning one, its command queue, its event pipe, its tree.

Each process gets an event pipe of its own (see `protocol.EventSender` for why not one shared queue).
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_connections
from multiprocessing.process import BaseProcess
from typing import Any

from popool_gui.pool import protocol as msg
from popool_gui.pool.memory import ProcessTree

REAP_TIMEOUT_S = 5.0


@dataclass(slots=True)
class WorkerHandle:
    """One worker process of one generation."""

    generation: int
    process: BaseProcess
    commands: Any  # the multiprocessing Queue of this process
    events: Connection | None  # our end of its event pipe; None once closed
    spawn_mono: float
    tree: ProcessTree = field(default_factory=ProcessTree)
    browser_pid: int | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def exitcode(self) -> int | None:
        return self.process.exitcode

    def send(self, command: msg.Command) -> None:
        self.commands.put(command)

    def receive(self) -> msg.WorkerEvent | None:
        """One event waiting on the pipe; None when there is none, or the pipe broke (then it is closed)."""
        if self.events is None:
            return None
        try:
            if not self.events.poll():
                return None
            return self.events.recv()
        except (EOFError, OSError, pickle.UnpicklingError):
            # The worker ended (or died mid-write); its exit is handled by the health check.
            self.close_events()
            return None

    def close_events(self) -> None:
        if self.events is not None:
            self.events.close()
            self.events = None

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()

    def reap(self) -> list[int]:
        """Wait briefly for the process to end, then kill whatever of its tree is left; returns the survivors."""
        self.process.join(timeout=REAP_TIMEOUT_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=REAP_TIMEOUT_S)
        return self.tree.kill()


class Spawner:
    def __init__(self, target: Callable[..., None]) -> None:
        self._target = target
        self._ctx = multiprocessing.get_context("spawn")

    def spawn(self, config: msg.WorkerConfig, now: float) -> WorkerHandle:
        commands = self._ctx.Queue()
        reader, writer = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(
            target=self._target,
            args=(config, commands, msg.EventSender(writer)),
            name=f"popool-worker-{config.worker}",
            daemon=True,
        )
        process.start()
        writer.close()  # the child holds its own copy; ours would keep the pipe from reporting the child's end
        handle = WorkerHandle(
            generation=config.generation, process=process, commands=commands, events=reader, spawn_mono=now
        )
        handle.tree.add_root(process.pid)
        return handle


def ready_handles(handles: Iterable[WorkerHandle], timeout: float) -> list[WorkerHandle]:
    """The handles whose event pipe has something to read (an event or its end), waiting up to `timeout`."""
    by_conn = {h.events: h for h in handles if h.events is not None}
    return [by_conn[conn] for conn in wait_connections(list(by_conn), timeout=timeout)]  # type: ignore[index]
