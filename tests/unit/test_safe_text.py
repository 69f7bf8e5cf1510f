"""Outside text in messages: escaped control and format characters, undecodable bytes shown, long values cut."""

from __future__ import annotations

import io
import os

from popool_gui.batch.model import LogLine
from popool_gui.cli_render import ProgressRenderer
from popool_gui.safe_text import ECHO_LIMIT, printable, printable_lines


def test_terminal_escapes_and_line_breaks_are_shown_not_obeyed() -> None:
    assert printable("a\x1b]0;title\x07\x1b[2Jb\nc\td\r") == "a\\x1b]0;title\\x07\\x1b[2Jb\\nc\\td\\r"


def test_bidi_overrides_and_zero_width_characters_are_shown() -> None:
    assert printable("invoice\u202egpj.exe\u200b") == "invoice\\u202egpj.exe\\u200b"


def test_undecodable_file_name_bytes_are_shown_as_bytes() -> None:
    assert printable(os.fsdecode(b"orders-\xff\xfe.csv")) == "orders-\\xff\\xfe.csv"


def test_ordinary_text_is_untouched() -> None:
    assert printable("Société Générale; 15262984 – 北京") == "Société Générale; 15262984 – 北京"


def test_a_long_value_is_cut_and_says_how_long_it_was() -> None:
    assert printable("x" * 10_000, ECHO_LIMIT) == "x" * ECHO_LIMIT + "… (10,000 characters)"
    assert printable("x" * ECHO_LIMIT, ECHO_LIMIT) == "x" * ECHO_LIMIT


def test_a_message_keeps_its_own_lines_only() -> None:
    assert printable_lines("invalid settings:\n  - name: a\x1bb") == "invalid settings:\n  - name: a\\x1bb"


def test_the_progress_renderer_escapes_what_a_warning_quotes() -> None:
    out = io.StringIO()
    ProgressRenderer(out).on_log(LogLine(at=0, level="warning", event="download_failed", fields={"name": "a\x1b[2J"}))
    assert "\x1b" not in out.getvalue() and "name=a\\x1b[2J" in out.getvalue()
