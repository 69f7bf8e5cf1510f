"""The portal-away hold as pure logic: when a streak of unreachable POs is the portal's fault, what the hold gives
back, when it probes, and when it ends; and the probe itself against real loopback sockets."""

from __future__ import annotations

import socket

import pytest

from popool_gui.pool.portal_watch import (
    MIN_STREAK,
    PROBE_DELAYS_S,
    PROBES_BEFORE_TRIAL,
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


def settle(watch: PortalWatch, now: float) -> tuple[bool, list[tuple[str, int]]]:
    """tick() until the probe that tick started has answered (it runs on a thread)."""
    for _ in range(200):
        answer = watch.tick(now)
        if answer[0] or answer[1] or watch._pending_probe is None:
            return answer
        watch._pending_probe.result(timeout=5)
    raise AssertionError("the probe never answered")


def held(threshold: int = 3, *answers: bool) -> tuple[PortalWatch, Probe]:
    """A watch whose streak of `threshold` failures (PO1, PO2, PO3 at attempt 1) started a hold at t=0."""
    probe = Probe(*answers)
    watch = PortalWatch("http://127.0.0.1:9", threshold=threshold, probe=probe)
    for n in range(1, threshold + 1):
        watch.unreachable(f"PO{n}", 1, now=0.0)
    return watch, probe


def test_the_streak_needs_two_failures_per_worker_and_at_least_three() -> None:
    assert streak_for(1) == MIN_STREAK == 3
    assert streak_for(2) == 4 and streak_for(8) == 16


def test_a_streak_starts_a_hold_and_every_failure_during_it_waits() -> None:
    watch = PortalWatch("http://127.0.0.1:9", threshold=3, probe=Probe())
    assert not watch.unreachable("PO1", 1, now=0.0)
    assert not watch.unreachable("PO2", 2, now=0.1)
    assert not watch.holding
    assert watch.unreachable("PO3", 1, now=0.2)
    assert watch.holding and watch.suspects == [("PO1", 1), ("PO2", 2)]
    assert watch.next_probe == pytest.approx(0.2 + PROBE_DELAYS_S[0])
    assert watch.unreachable("PO4", 1, now=0.3), "during a hold every failure just waits"


def test_a_page_that_answers_breaks_the_streak() -> None:
    watch = PortalWatch("http://127.0.0.1:9", threshold=3, probe=Probe())
    watch.unreachable("PO1", 1, now=0.0)
    watch.unreachable("PO2", 1, now=0.0)
    assert watch.reached() is False
    assert not watch.unreachable("PO3", 1, now=0.0), "the count started again"


def test_attempts_come_back_only_once_a_probe_confirms_the_outage() -> None:
    watch, probe = held(3, False, True)
    assert settle(watch, PROBE_DELAYS_S[0]) == (False, [("PO1", 1), ("PO2", 1)]) and probe.calls == 1
    assert watch.holding and watch.suspects == []
    t = watch.next_probe
    assert t == pytest.approx(PROBE_DELAYS_S[0] + PROBE_DELAYS_S[1]), "probes grow apart"
    assert settle(watch, t) == (True, []) and not watch.holding
    watch.close()


def test_a_portal_that_answers_at_once_gets_no_attempts_back() -> None:
    """Slow pages on a portal that is there are the POs' own failures: nothing refunded, the hold just ends."""
    watch, _ = held(3, True)
    assert settle(watch, PROBE_DELAYS_S[0]) == (True, [])
    assert not watch.holding and waiting_message(watch, 10.0) == ""
    watch.close()


def test_silent_probes_let_the_pos_through_and_the_next_failure_holds_again_at_once() -> None:
    """A probe that cannot see what the browsers see (a proxy only the browser knows) does not hold for ever."""
    watch, probe = held(3, *([False] * PROBES_BEFORE_TRIAL))
    for _ in range(PROBES_BEFORE_TRIAL):
        ended, _ = settle(watch, watch.next_probe)
    assert ended and watch.trial and not watch.holding and probe.calls == PROBES_BEFORE_TRIAL
    assert watch.unreachable("PO9", 1, now=100.0), "one unreachable PO is enough on trial"
    assert watch.next_probe == pytest.approx(100.0 + PROBE_DELAYS_S[-1])
    assert watch.reached() is True and not watch.trial
    watch.close()


def test_the_message_counts_down_to_the_next_probe() -> None:
    watch, _ = held(3)
    assert waiting_message(watch, 0.0) == (
        f"The portal is not answering; retrying in {PROBE_DELAYS_S[0]:.0f} s. The POs wait and keep their attempts; "
        "Stop ends the run."
    )


def test_the_probe_sees_a_real_server_and_a_closed_port() -> None:
    with serve() as server:
        server.routes["/"] = lambda path: Reply(503, b"maintenance")  # any answer means it is there
        assert portal_answers(server.url, timeout_s=2)
        assert portal_answers(server.url + "/missing", timeout_s=2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    assert not portal_answers(f"http://127.0.0.1:{closed}", timeout_s=2)
    assert not portal_answers("https://acme..example.test", timeout_s=2), "a name the resolver rejects"


def test_the_probe_gives_up_on_a_silent_host_within_its_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        assert not portal_answers(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.5)
