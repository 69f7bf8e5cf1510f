"""`popool portal`: serve the demo portal on 127.0.0.1 until Ctrl+C or SIGTERM.

This is a console renderer: it writes the portal's URL on stdout (first line, for scripts) and a hint on stderr.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

import structlog

from popool_gui.demo.api import ApiBytes
from popool_gui.demo.server import DemoKnobs, DemoPortal, FaultTarget, SignIn
from popool_gui.demo.skins import Skin


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return value


def _fault_targets(text: str) -> tuple[FaultTarget, ...]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    try:
        return tuple(FaultTarget(name) for name in names)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"takes {', '.join(FaultTarget)}, not {text!r}") from exc


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {value}")
    return value


_DEFAULTS = DemoKnobs()
# Each flag with its argparse options; knobs_from() turns the parsed values into DemoKnobs.
_ARGUMENTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--port", {"type": _count, "default": 0, "help": "port on 127.0.0.1 (default 0: a free one)"}),
    ("--latency-ms", {"type": _count, "default": _DEFAULTS.page_latency_ms, "metavar": "N",
                      "help": "delay before each page answers"}),
    ("--js-delay-ms", {"type": _count, "default": _DEFAULTS.js_render_delay_ms, "metavar": "N",
                       "help": "delay before the attachment list appears (default %(default)s)"}),
    ("--js-delay-max-ms", {"type": _count, "default": _DEFAULTS.js_render_delay_max_ms, "metavar": "N",
                           "help": "above --js-delay-ms: each PO's delay is drawn between the two, the same in "
                                   "every run (default 0: off)"}),
    ("--second-batch-ms", {"type": _count, "default": _DEFAULTS.second_batch_ms, "metavar": "N",
                           "help": "the list shows two attachments, then the rest this much later "
                                   "(default %(default)s)"}),
    ("--list-via-fetch", {"action": "store_true",
                          "help": "the page's script fetches the attachment list as JSON after the delay"}),
    ("--list-latency-ms", {"type": _count, "default": _DEFAULTS.list_fetch_latency_ms, "metavar": "N",
                           "help": "delay before that JSON list answers (default %(default)s)"}),
    ("--loading-placeholder", {"action": "store_true",
                               "help": 'show "Loading documents..." until the attachment list appears'}),
    ("--skin", {"choices": [skin.value for skin in Skin], "default": _DEFAULTS.skin.value,
                "help": "whose URLs and markup the portal serves (default %(default)s; other: "
                        "tests/portals/other.toml)"}),
    ("--throughput-kbps", {"type": _count, "default": 0, "metavar": "N",
                           "help": "download speed limit in kilobytes per second (default 0: unlimited)"}),
    ("--error-500", {"type": _share, "default": 0.0, "metavar": "SHARE",
                     "help": "share of PO pages and downloads that answer 500 (0-1)"}),
    ("--hang", {"type": _share, "default": 0.0, "metavar": "SHARE",
                "help": "share of PO pages and downloads that never answer (0-1)"}),
    ("--truncate", {"type": _share, "default": 0.0, "metavar": "SHARE",
                    "help": "share of downloads cut off halfway (0-1)"}),
    ("--faults-on", {"type": _fault_targets, "default": ",".join(_DEFAULTS.faults_on), "metavar": "KINDS",
                     "help": "the requests those shares apply to, comma-separated: "
                             f"{', '.join(FaultTarget)} (default: all)"}),
    ("--sso", {"action": "store_true", "help": "sign in through an SSO page instead of on the home page"}),
    ("--expire-after", {"type": _count, "default": 0, "metavar": "N",
                        "help": "sessions end after N PO/requisition pages (default 0: never)"}),
    ("--seed", {"type": int, "default": 0, "help": "changes every PO's contents (default 0)"}),
    ("--no-toolbar", {"action": "store_true", "help": "no floating toolbar over the pages"}),
    ("--api-bytes", {"choices": [way.value for way in ApiBytes], "default": _DEFAULTS.api_bytes.value,
                     "help": "API: an attachment's URL answers the file (accept) or its record, whose file-url "
                             "does (file_url); default %(default)s"}),
    ("--api-rate", {"type": _count, "default": 0, "metavar": "N",
                    "help": "API: 429 beyond N requests in any second (default 0: no limit)"}),
    ("--api-token-s", {"type": _count, "default": int(_DEFAULTS.api_token_lifetime_s), "metavar": "S",
                       "help": "API: tokens die after S seconds (default %(default)s)"}),
)  # fmt: skip


def add_portal_arguments(parser: argparse.ArgumentParser) -> None:
    for flag, options in _ARGUMENTS:
        parser.add_argument(flag, **options)


# Flags whose values the knobs check against each other (each flag alone is checked by its argparse type).
_KNOB_FLAGS = {"js_render_delay_max_ms": "--js-delay-max-ms", "js_render_delay_ms": "--js-delay-ms"}


def _with_flag_names(message: str) -> str:
    for knob, flag in _KNOB_FLAGS.items():
        message = message.replace(knob, flag)
    return message


def knobs_from(args: argparse.Namespace) -> DemoKnobs:
    return DemoKnobs(
        page_latency_ms=args.latency_ms,
        js_render_delay_ms=args.js_delay_ms,
        js_render_delay_max_ms=args.js_delay_max_ms,
        second_batch_ms=args.second_batch_ms,
        list_via_fetch=args.list_via_fetch,
        list_fetch_latency_ms=args.list_latency_ms,
        loading_placeholder=args.loading_placeholder,
        skin=Skin(args.skin),
        download_bytes_per_s=args.throughput_kbps * 1000,
        error_500_share=args.error_500,
        hang_share=args.hang,
        truncated_share=args.truncate,
        faults_on=args.faults_on,
        sign_in=SignIn.SSO if args.sso else SignIn.AUTO,
        expire_after_requests=args.expire_after,
        seed=args.seed,
        toolbar=not args.no_toolbar,
        api_bytes=ApiBytes(args.api_bytes),
        api_rate_per_s=args.api_rate,
        api_token_lifetime_s=max(1, args.api_token_s),
    )


def run_portal(args: argparse.Namespace) -> int:
    """Serve until Ctrl+C or SIGTERM; returns the exit code (0, or 2 when the port cannot be used)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if not structlog.is_configured():
        # Unconfigured structlog prints to stdout, which belongs to the URL line.
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    try:
        knobs = knobs_from(args)
    except ValueError as exc:
        sys.stderr.write(f"bad demo portal options: {_with_flag_names(str(exc))}\n")
        return 2
    portal = DemoPortal(knobs, port=args.port)
    try:
        portal.start()
    except OSError as exc:
        sys.stderr.write(f"cannot serve the demo portal on port {args.port}: {exc}\n")
        return 2
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        sys.stdout.write(f"{portal.url}\n")
        sys.stdout.flush()
        sys.stderr.write(
            f"Demo portal serving; try {portal.po_url('100007')} (special POs 100001-100018). Its API: client id "
            f"{portal.knobs.api_client_id}, secret {portal.knobs.api_client_secret}. Ctrl+C stops it.\n"
        )
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        portal.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
