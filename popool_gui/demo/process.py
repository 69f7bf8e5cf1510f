"""The demo portal in a process of its own, for `Help > Try the demo` (and the GUI benchmark).

A real portal is on another machine. In the window's process the demo portal's request threads would compete with
the GUI thread for the GIL and stall the window (docs/benchmarks-gui.md compares both arrangements).
"""

from __future__ import annotations

import multiprocessing
from contextlib import suppress
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def _serve(knobs: dict[str, Any], log_name: str, conn: Connection) -> None:
    import structlog

    from popool_gui import logs
    from popool_gui.demo.server import demo_portal

    logs.configure(log_name, level="info")  # a log file of its own: two processes never write one file
    try:
        with demo_portal(**knobs) as portal:
            conn.send(portal.url)
            # Any message, or the other end closing because its process ended (even killed), stops the portal.
            with suppress(EOFError, OSError):
                conn.recv()
    except Exception:
        # A windowed .exe has no console: the log file is where the user is sent to look.
        structlog.get_logger().exception("demo_portal_failed")
        raise


class DemoPortalProcess:
    """Start with `start()` (returns once the portal accepts connections) or `with`; `url` is its address."""

    def __init__(self, *, log_name: str = "demo-portal", **knobs: Any) -> None:
        self._knobs = knobs
        self._log_name = log_name
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self.url = ""

    def start(self, timeout_s: float = START_TIMEOUT_S) -> DemoPortalProcess:
        """Raise OSError when the portal does not come up within `timeout_s`."""
        if self._process is not None:
            raise RuntimeError("the demo portal process is already running")
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe()
        process = ctx.Process(
            target=_serve, args=(self._knobs, self._log_name, theirs), name="demo-portal", daemon=True
        )
        try:
            process.start()
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._process, self._conn = process, ours
        if not ours.poll(timeout_s):
            self.stop()
            raise OSError(f"the demo portal process did not answer within {timeout_s:.0f} s")
        try:
            self.url = ours.recv()
        except (EOFError, OSError) as exc:
            self.stop()
            raise OSError(
                f"the demo portal process ended before it was ready (exit code {process.exitcode}); "
                f"its log is {self._log_name}.jsonl in the log folder"
            ) from exc
        return self

    def stop(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        self.url = ""
        if conn is not None:
            with suppress(OSError):
                conn.send("stop")
            conn.close()
        if process is not None:
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()

    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def __enter__(self) -> DemoPortalProcess:
        return self.start()

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()
