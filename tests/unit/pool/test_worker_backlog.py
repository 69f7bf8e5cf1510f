"""Which queued command a worker starts when: a second look takes one tab over the count instead of waiting."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from popool_gui.batch.model import PoRecord
from popool_gui.pool.protocol import Command, ProcessPo, Shutdown
from popool_gui.pool.worker import _start_second_look


@dataclass
class Tabs:
    """What `_start_second_look` asks of a tab runner: its room and what it opened."""

    busy: int
    capacity: int = 4
    opened: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def has_room_for_second_look(self) -> bool:
        return self.busy <= self.capacity

    def open(self, record: PoRecord, attempt: int, empty_wait_ms: int, *, second_look: bool = False) -> None:
        self.opened.append((record.key, second_look))
        self.busy += 1


def po(key: str, second_look: bool = False) -> ProcessPo:
    record = PoRecord(key=key, po_id=key, row_number=1, row={})
    return ProcessPo(record=record, attempt=2 if second_look else 1, empty_wait_ms=3000, second_look=second_look)


def test_a_second_look_behind_the_next_po_starts_one_tab_over_the_count() -> None:
    tabs = Tabs(busy=4)
    backlog: deque[Command] = deque([po("A"), po("B", second_look=True)])
    _start_second_look(backlog, tabs)
    assert tabs.opened == [("B", True)] and [c.record.key for c in backlog] == ["A"]
    _start_second_look(backlog, tabs)
    assert tabs.opened == [("B", True)], "never more than one tab over"


def test_a_second_look_behind_another_command_waits_its_turn() -> None:
    tabs = Tabs(busy=4)
    backlog: deque[Any] = deque([po("A"), Shutdown(), po("B", second_look=True)])
    _start_second_look(backlog, tabs)
    assert tabs.opened == [] and len(backlog) == 3
