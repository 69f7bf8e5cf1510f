"""The portal-away hold as pure logic: when a streak of unreachable POs is the portal's fault, what the hold gives
back, when it probes, and when it ends; and the probe itself against real loopback sockets."""

from __future__ import annotations

import socket

import pytest

from popool_gui.pool.portal_watch import (
    MIN_STREAK,
    PROBE_DELAYS_S,
    PortalWatch,
    portal_answers,
    streak_for,
    waiting_message,
)
from tests.loopback_server import Reply, serve


class Probe:
    """A scripted portal: answers in turn, recording each call."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, _url: str) -> bool:
        self.calls += 1
        return self.answers.pop(0)


def settle(watch: PortalWatch, now: float) -> bool:
    """tick() until the probe that tick started has answered (it runs on a thread)."""
    for _ in range(200):
        back = watch.tick(now)
        if back or watch._pending_probe is None:
            return back
        watch._pending_probe.result(timeout=5)
    raise AssertionError("the probe never answered")


def test_the_streak_needs_two_failures_per_worker_and_at_least_three() -> None:
    assert streak_for(1) == MIN_STREAK == 3
    assert streak_for(2) == 4 and streak_for(8) == 16


def test_a_streak_starts_a_hold_and_gives_back_the_earlier_failures() -> None:
    watch = PortalWatch("http://127.0.0.1:9", threshold=3, probe=Probe())
    assert watch.unreachable("PO1", 1, now=0.0) == []
    assert watch.unreachable("PO2", 2, now=0.1) == []
    assert not watch.holding
    assert watch.unreachable("PO3", 1, now=0.2) == [("PO1", 1), ("PO2", 2)]
    assert watch.holding and watch.next_probe == pytest.approx(0.2 + PROBE_DELAYS_S[0])
    assert watch.unreachable("PO4", 1, now=0.3) == [], "during a hold every failure just waits"


def test_a_page_that_answers_breaks_the_streak() -> None:
    watch = PortalWatch("http://127.0.0.1:9", threshold=3, probe=Probe())
    watch.unreachable("PO1", 1, now=0.0)
    watch.unreachable("PO2", 1, now=0.0)
    assert watch.reached() is False
    assert watch.unreachable("PO3", 1, now=0.0) == [], "the count started again"
    assert not watch.holding


def test_probes_grow_apart_until_the_portal_answers() -> None:
    probe = Probe(False, False, True)
    watch = PortalWatch("http://127.0.0.1:9", threshold=1, probe=probe)
    watch.unreachable("PO1", 1, now=100.0)
    assert not settle(watch, 100.0 + PROBE_DELAYS_S[0] - 0.1) and probe.calls == 0, "not before it is due"
    assert waiting_message(watch, 100.0) == (
        f"The portal is not answering; retrying in {PROBE_DELAYS_S[0]:.0f} s. The POs wait and keep their attempts; "
        "Stop ends the run."
    )
    t = 100.0 + PROBE_DELAYS_S[0]
    assert not settle(watch, t) and probe.calls == 1
    assert watch.next_probe == pytest.approx(t + PROBE_DELAYS_S[1])
    t = watch.next_probe
    assert not settle(watch, t) and probe.calls == 2
    assert watch.next_probe == pytest.approx(t + PROBE_DELAYS_S[2])
    assert settle(watch, watch.next_probe) and probe.calls == 3
    assert not watch.holding and waiting_message(watch, t) == ""
    watch.close()


def test_a_po_that_reaches_the_portal_ends_the_hold() -> None:
    watch = PortalWatch("http://127.0.0.1:9", threshold=1, probe=Probe())
    watch.unreachable("PO1", 1, now=0.0)
    assert watch.reached() is True and not watch.holding


def test_the_probe_sees_a_real_server_and_a_closed_port() -> None:
    with serve() as server:
        server.routes["/"] = lambda path: Reply(503, b"maintenance")  # any answer means it is there
        assert portal_answers(server.url, timeout_s=2)
        assert portal_answers(server.url + "/missing", timeout_s=2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    assert not portal_answers(f"http://127.0.0.1:{closed}", timeout_s=2)


def test_the_probe_gives_up_on_a_silent_host_within_its_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        assert not portal_answers(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.5)
