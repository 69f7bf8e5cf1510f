"""How popool shows a length of time, in the CLI and in the window alike: `m:ss`, or `h:mm:ss` from an hour."""

from __future__ import annotations

UNKNOWN = "--"


def format_duration(seconds: float | None) -> str:
    """`None` (an ETA not known yet) is `--`; a negative time, from clocks that disagree, is `0:00`."""
    if seconds is None:
        return UNKNOWN
    whole = int(max(0, seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
