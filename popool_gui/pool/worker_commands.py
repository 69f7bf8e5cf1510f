"""The user's commands to one worker: pause, resume (which also retries a sign-in), restart."""

from __future__ import annotations

from popool_gui.batch.model import WorkerState
from popool_gui.pool import protocol as msg
from popool_gui.pool.commands import PauseWorker, RestartWorker, ResumeWorker
from popool_gui.pool.reporting import Reporter
from popool_gui.pool.slot import Hold, Slot
from popool_gui.pool.supervisor import Supervisor


def worker_command(
    slot: Slot, command: PauseWorker | ResumeWorker | RestartWorker, supervisor: Supervisor, reporter: Reporter
) -> None:
    if not slot.live:
        return
    match command:
        case PauseWorker():
            slot.hold(Hold.PAUSED)
            reporter.say("info", "worker_paused", worker=slot.worker)
        case ResumeWorker():
            if Hold.SIGN_IN in slot.release(Hold.PAUSED | Hold.SIGN_IN) and slot.handle is not None:
                slot.handle.send(msg.SignInAgain())
            reporter.say("info", "worker_resumed", worker=slot.worker)
        case RestartWorker() if not supervisor.stopping:
            if slot.exit.restarting or slot.state is WorkerState.STARTING:
                # A second request, or a browser still starting: the user wants it now, hung or not.
                supervisor.crash(slot, "restart forced by user", event="worker_restart_forced", counts=False)
                return
            reporter.say("info", "worker_restart_requested", worker=slot.worker)
            supervisor.restart_when_free(slot)
