"""The queue of pending POs: the retry-elsewhere rule, and express POs (second looks) for a busy worker."""

from __future__ import annotations

from popool_gui.pool.pending import RETRY_ELSEWHERE_S, PendingQueue


def test_a_retry_goes_to_another_worker_while_one_is_live() -> None:
    queue = PendingQueue(["A", "B"])
    queue.tried("A", worker=1, now=0.0)
    assert queue.take_for(1, others_live=True, now=1.0) == "B"
    assert queue.take_for(1, others_live=True, now=2.0) is None
    assert queue.take_for(1, others_live=True, now=RETRY_ELSEWHERE_S) == "A"


def test_an_express_po_is_taken_only_from_the_head_and_only_by_a_worker_the_rule_allows() -> None:
    queue = PendingQueue(["B", "C"])
    assert queue.take_express_for(1, others_live=True, now=0.0) is None, "no express PO: nothing for a full worker"
    queue.tried("A", worker=1, now=0.0)
    queue.push("A", front=True, express=True)
    assert queue.take_express_for(1, others_live=True, now=1.0) is None, "it looks again on another worker"
    assert queue.take_express_for(1, others_live=False, now=1.0) == "A", "unless no other worker is live"
    assert queue.take_express_for(2, others_live=True, now=1.0) is None, "taken: the next one is not express"
    assert list(iter(lambda: queue.take_for(2, others_live=True, now=1.0), None)) == ["B", "C"]


def test_an_express_po_taken_the_usual_way_is_no_longer_express() -> None:
    queue = PendingQueue()
    queue.push("A", front=True, express=True)
    assert queue.take_for(2, others_live=True, now=0.0) == "A"
    queue.push("A")
    assert queue.take_express_for(2, others_live=True, now=0.0) is None
