"""Outside text (file names, cell values, settings) made safe to show in a message line.

A file name or a cell may hold terminal escape sequences (`ESC ]0;...BEL` retitles the terminal, `ESC [2J`
clears it), line breaks that would fake a second message, bidi overrides that reorder what is shown, or bytes
that are not UTF-8 (Python keeps them as lone surrogates). Every message that echoes such text shows it escaped,
and cut to a readable length.
"""

from __future__ import annotations

import unicodedata

ECHO_LIMIT = 80  # characters of an echoed value: enough to recognise it, short enough for one line
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})  # control, format (bidi, zero-width), lone surrogates
_SURROGATE_BYTES = range(0xDC80, 0xDD00)  # how surrogateescape keeps an undecodable byte 0x80-0xff


def printable(text: str, limit: int | None = None) -> str:
    """`text` with control and invisible format characters escaped (`\\x1b`, `\\u202e`) and undecodable file-name
    bytes shown as `\\xff`; longer than `limit` characters, it is cut and the cut says how long it was."""
    cut = limit is not None and len(text) > limit
    shown = text[:limit] if cut else text
    if not shown.isprintable():
        shown = "".join(_escape(ch) for ch in shown)
    return f"{shown}… ({len(text):,} characters)" if cut else shown


def printable_lines(text: str) -> str:
    """A message of several lines, each made printable: its own line breaks stay, nothing else does."""
    return "\n".join(printable(line) for line in text.split("\n"))


def _escape(ch: str) -> str:
    if unicodedata.category(ch) not in _ESCAPED_CATEGORIES:
        return ch
    code = ord(ch)
    if code in _SURROGATE_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}" if ch not in "\t\n\r" else repr(ch)[1:-1]
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
