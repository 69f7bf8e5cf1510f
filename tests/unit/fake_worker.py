"""A worker process without a browser, for fast controller unit tests.

Behaviour is chosen by the last two digits of the portal id, so a test batch scripts its own faults:
01 transient failure, 02 hang (PO timeout), 03 process crash, 04 login wall, 05 slow (1 s), 06 slow (1 s) and then
exit at the Shutdown that answers its report without starting the POs sent ahead (the real worker does that when
the Shutdown arrives before it looks for one), 07 a page that loads until a Stop cuts it short and the PO is handed
back, 08 an empty list on the first look and one attachment on the second, 09 an empty list on every look (both
report the floor they were given in their error text), 11 like 08 but its first look waits twice its floor (a PO
page and its requisition's held to the floor), else COMPLETED, its first attachment shown 2.5 s after load.
"""

from __future__ import annotations

import os
import threading
import time

from popool_gui.batch.model import PoResult, PoStatus, TabState
from popool_gui.pool import protocol as msg


def _beat(config: msg.WorkerConfig, events, stop: threading.Event) -> None:
    while not stop.wait(config.heartbeat_s):
        events.put(msg.Heartbeat(config.worker, config.generation))


def _wait_for_shutdown(commands) -> None:
    """Read commands, leaving every PO unstarted, until the Shutdown (at most 30 s each)."""
    while not isinstance(commands.get(timeout=30), msg.Shutdown):
        pass


def fake_worker_main(config: msg.WorkerConfig, commands, events) -> None:
    ident = (config.worker, config.generation)
    stop = threading.Event()
    threading.Thread(target=_beat, args=(config, events, stop), daemon=True).start()
    events.put(msg.WorkerReady(*ident, driver_pid=None, browser_pid=os.getpid(), start_seconds=0.0))
    while True:
        command = commands.get()
        if isinstance(command, msg.Shutdown):
            events.put(msg.WorkerExited(*ident))
            stop.set()
            return
        if isinstance(command, msg.SignInAgain):
            events.put(msg.SignedIn(*ident, ok=True, message="ok"))
            continue
        record = command.record
        events.put(msg.TabUpdate(*ident, state=TabState.LOADING, detail="", open_tabs=2))
        behaviour = record.po_id[-2:]
        if behaviour == "07":
            _wait_for_shutdown(commands)
            events.put(
                msg.PoReturned(
                    *ident, key=record.key, reason="its worker stopped or restarted while its page was loading"
                )
            )
            events.put(msg.WorkerExited(*ident))
            stop.set()
            return
        started = time.time()
        result = PoResult(
            key=record.key,
            status=PoStatus.COMPLETED,
            attachments_found=1,
            attachments_downloaded=1,
            attachment_names=[f"{record.key}_a.pdf"],
            started_at=started,
            first_attachment_ms=2500,
        )
        if behaviour == "01":
            result.status, result.transient, result.error = PoStatus.FAILED, True, "HTTP 500"
        elif behaviour == "02":
            time.sleep(3600)
        elif behaviour == "03":
            os._exit(1)
        elif behaviour == "04":
            result.status, result.error = PoStatus.AUTH_REQUIRED, "login page"
        elif behaviour == "09" or (behaviour in ("08", "11") and not command.second_look):
            if behaviour == "11":
                time.sleep(2 * command.empty_wait_ms / 1000)
            result.status, result.attachments_found, result.attachments_downloaded = PoStatus.NO_ATTACHMENTS, 0, 0
            result.attachment_names, result.first_attachment_ms = [], None
            result.error = f"floor {command.empty_wait_ms} second look {command.second_look}"
        elif behaviour == "95" and command.attempt > 1:
            result.status, result.transient, result.error = PoStatus.FAILED, True, "page did not load in 30 s"
            result.attachments_downloaded, result.attachment_names = 0, []
        elif behaviour in ("95", "97") or (behaviour == "98" and command.attempt == 1):
            # Files that did not arrive: a PARTIAL worth another attempt ("98" gets them all on the second).
            result.status, result.transient, result.attachments_found = PoStatus.PARTIAL, True, 3
            result.error = "missing: b.pdf (HTTP 503); c.pdf (HTTP 503)"
        elif behaviour in ("05", "06"):
            time.sleep(1.0)
        else:
            time.sleep(0.02)
        result.finished_at = time.time()
        result.worker, result.attempts = config.worker, command.attempt
        events.put(msg.PoDone(*ident, result=result))
        if behaviour == "06":
            _wait_for_shutdown(commands)
            events.put(msg.WorkerExited(*ident))
            stop.set()
            return
