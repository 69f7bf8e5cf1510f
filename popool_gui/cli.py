"""The command line: `popool` (GUI), `popool run`, `popool demo`, `popool self-test`, `popool portal`."""

from __future__ import annotations

import argparse
import getpass
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from popool_gui import __version__, logs
from popool_gui import settings as settings_mod
from popool_gui.api.access import ApiSetupError
from popool_gui.batch.input import InputError
from popool_gui.batch.journal import JournalMismatchError
from popool_gui.batch.model import RunSummary
from popool_gui.browser.errors import ProfileCloneError
from popool_gui.browser.grid import GridPreflightError
from popool_gui.browser.portal import PortalError
from popool_gui.cli_render import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_TROUBLE,
    JsonRenderer,
    ProgressRenderer,
    exit_code,
)
from popool_gui.pool.output_folder import OutputFolderError, ensure_output_dir
from popool_gui.pool.output_lock import OutputInUseError
from popool_gui.run_setup import DEMO_COUNT, demo_overrides, input_output_dir, output_dir, plan_run
from popool_gui.safe_text import ECHO_LIMIT, printable, printable_lines
from popool_gui.settings import MAX_WORKERS, MIN_WORKERS, BrowserKind, RunMode, Settings, SettingsError

if TYPE_CHECKING:
    from popool_gui.api.engine import ControllerKwargs

SELF_TEST_COUNT = 12
RETRY_FAILED = "failed"

# CLI flag -> Settings field; flags left unset keep the settings file's value.
_FLAG_FIELDS = {
    "output": "output_dir",
    "workers": "workers",
    "portal": "portal",
    "base_url": "base_url",
    "browser": "browser",
    "driver": "driver_path",
    "binary": "browser_binary",
    "headless": "headless",
    "profile_dir": "profile_dir",
    "profile_name": "profile_name",
    "grid_url": "grid_url",
    "max_attempts": "max_attempts",
    "memory_threshold": "memory_threshold_pct",
    "shutdown_timeout": "shutdown_timeout_s",
    "po_timeout": "po_timeout_s",
    "tabs_per_worker": "tabs_per_worker",
    "results_format": "results_format",
    "mode": "mode",
    "api_client_id": "api_client_id",
    "api_rate": "api_rate_per_s",
    "api_concurrency": "api_concurrency",
}


def _add_settings_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--output",
        "-o",
        metavar="DIR",
        help="folder for the PO folders and the results files (default: a folder named after INPUT inside the "
        "settings' output folder)",
    )
    p.add_argument("--workers", "-w", type=int, metavar="N", help=f"browser workers, {MIN_WORKERS}-{MAX_WORKERS}")
    p.add_argument("--portal", metavar="NAME|FILE", help="portal profile: coupa, demo, or a .toml file")
    p.add_argument("--base-url", metavar="URL", help="the portal's address, e.g. https://acme.coupahost.com")
    p.add_argument("--browser", choices=[b.value for b in BrowserKind])
    p.add_argument("--driver", metavar="PATH", help="WebDriver executable (msedgedriver, chromedriver...)")
    p.add_argument("--binary", metavar="PATH", help="browser executable")
    p.add_argument("--headless", dest="headless", action="store_true", default=None, help="no browser windows")
    p.add_argument("--visible", dest="headless", action="store_false", help="show the browser windows")
    p.add_argument("--profile-dir", metavar="DIR", help="browser 'User Data' folder whose sign-in to reuse")
    p.add_argument("--profile-name", metavar="NAME", help="profile inside it (default: Default)")
    p.add_argument("--grid-url", metavar="URL", help="Selenium Grid to run browsers on")
    p.add_argument("--max-attempts", type=int, metavar="N")
    p.add_argument("--memory-threshold", type=float, metavar="PCT")
    p.add_argument("--shutdown-timeout", type=float, metavar="S")
    p.add_argument("--po-timeout", type=float, metavar="S")
    p.add_argument("--tabs-per-worker", type=int, metavar="N")
    p.add_argument("--results-format", choices=[f.value for f in settings_mod.ResultsFormat])
    p.add_argument(
        "--mode",
        choices=[m.value for m in RunMode],
        help="browser pool, the portal's API, or auto (the API when a client is configured)",
    )
    p.add_argument("--api-client-id", metavar="ID", help="API mode: the OAuth client's id (its secret: api-secret)")
    p.add_argument("--api-rate", type=float, metavar="N", help="API mode: requests per second, at most 25")
    p.add_argument("--api-concurrency", type=int, metavar="N", help="API mode: POs worked on at once")
    p.add_argument("--settings", metavar="FILE", type=Path, help="settings file (default: the user's)")


def _run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="CSV or XLSX file with a PO_NUMBER column")
    _add_settings_flags(p)
    p.add_argument("--json", action="store_true", help="JSON-lines events on stdout instead of a progress line")
    p.add_argument(
        "--accept-new-input",
        action="store_true",
        help="the output folder's journal came from another input file: keep its finished POs and go on",
    )
    p.add_argument(
        "--retry",
        choices=[RETRY_FAILED],
        help="failed: take the output folder's FAILED, AUTH_REQUIRED and PARTIAL POs again (attempts counted afresh)",
    )


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--count", type=int, default=DEMO_COUNT, metavar="N", help="POs in the sample")
    p.add_argument("--workers", "-w", type=int, default=2, metavar="N")
    p.add_argument("--headless", action="store_true", help="no window: run in the console")
    p.add_argument("--output", "-o", type=Path, metavar="DIR", help="where to put the demo's files")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--mode",
        choices=[RunMode.BROWSER.value, RunMode.API.value],
        default=RunMode.BROWSER.value,
        help="api: the demo portal's API instead of browsers (headless only)",
    )
    p.add_argument(
        "--screenshot", type=Path, metavar="PNG", help="window only: save it once the demo is loaded, then quit"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="popool",
        description="Bulk-download purchase-order attachments with a pool of browser workers. "
        "Without a command, the desktop window opens.",
    )
    parser.add_argument("--version", action="version", version=f"popool {__version__}")
    sub = parser.add_subparsers(dest="command")

    _run_arguments(sub.add_parser("run", help="process a CSV/XLSX of PO numbers"))
    _demo_arguments(
        sub.add_parser("demo", help="run against the embedded demo portal (opens the window unless --headless)")
    )

    st = sub.add_parser("self-test", help="a short headless demo run that checks every outcome")
    st.add_argument("--workers", "-w", type=int, default=2, metavar="N")
    st.add_argument("--browser", choices=[b.value for b in BrowserKind])
    st.add_argument("--driver", metavar="PATH")
    st.add_argument("--binary", metavar="PATH")
    st.add_argument("--keep", action="store_true", help="keep the output folder")

    from popool_gui.demo.cli import add_portal_arguments

    portal = sub.add_parser("portal", help="serve the embedded demo portal on 127.0.0.1")
    add_portal_arguments(portal)

    secret = sub.add_parser(
        "api-secret", help="store an API client's secret in the OS credential store (read from stdin or a prompt)"
    )
    secret.add_argument("--base-url", required=True, metavar="URL", help="the portal's address")
    secret.add_argument("--client-id", metavar="ID", help="the API client whose secret this is")
    secret.add_argument(
        "--legacy-key",
        action="store_true",
        help="store the portal's legacy X-COUPA-API-KEY instead: used only when the portal refuses the client",
    )

    gui = sub.add_parser("gui", help="open the desktop window (the default)")
    gui.add_argument("--settings", type=Path, metavar="FILE", help="settings file (default: the user's)")
    gui.add_argument("--dark", action="store_true", help="dark palette")
    gui.add_argument("--screenshot", type=Path, metavar="PNG", help="save the window once shown, then quit")
    return parser


def _settings_from(args: argparse.Namespace, **extra: Any) -> Settings:
    overrides = {field: getattr(args, flag) for flag, field in _FLAG_FIELDS.items() if hasattr(args, flag)}
    overrides.update(extra)
    labels = {field: "--" + flag.replace("_", "-") for flag, field in _FLAG_FIELDS.items()}
    return settings_mod.load(getattr(args, "settings", None), overrides, labels)


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "gui"
    if command == "demo" and args.headless and args.screenshot is not None:
        parser.error("--screenshot saves the window, so it cannot be used with --headless")
    if command == "demo" and args.mode == RunMode.API and not args.headless:
        parser.error("--mode api runs in the console for now: add --headless")
    if command == "gui":
        from popool_gui.app import main_gui

        return main_gui(argv)
    if command == "portal":
        from popool_gui.demo.cli import run_portal

        return run_portal(args)
    logs.configure("cli", console=False)
    try:
        if command == "api-secret":
            return _cmd_api_secret(args)
        if command == "run":
            return _cmd_run(args)
        if command == "demo":
            return _cmd_demo(args, argv)
        return _cmd_self_test(args)
    except (
        SettingsError,
        InputError,
        PortalError,
        JournalMismatchError,
        ProfileCloneError,
        OutputInUseError,
        OutputFolderError,
        GridPreflightError,
        ApiSetupError,
    ) as exc:
        print(f"popool: {printable_lines(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT


@contextmanager
def _stop_on_signals(controller: Any) -> Iterator[None]:
    """Ctrl+C or SIGTERM: graceful stop; a second one forces it."""
    presses = 0

    def handler(signum: int, _frame: object) -> None:
        nonlocal presses
        presses += 1
        what = "forcing stop" if presses > 1 else "stopping after the current POs (again to force)"
        print(f"\n{signal.Signals(signum).name}: {what}", file=sys.stderr, flush=True)
        controller.stop()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _execute(
    settings: Settings,
    input_path: Path,
    *,
    json_out: bool,
    accept_new_input: bool = False,
    retry_failed: bool = False,
    demo_secret: str = "",
) -> RunSummary:
    from popool_gui.pool.controller import PoolController

    plan = plan_run(settings, input_path)
    batch = plan.batch
    engine = _engine(settings, plan.portal, json_out=json_out, demo_secret=demo_secret)
    renderer = JsonRenderer() if json_out else ProgressRenderer(on_grid=bool(settings.grid_url))
    # Opened first: a folder in use or a damaged journal is then the only line printed.
    controller = PoolController(batch=batch, listener=renderer, accept_new_input=accept_new_input, **engine).open()
    if not json_out:
        print(
            f"{len(batch.records)} POs from {printable(str(input_path))} "
            f"({len(batch.invalid)} invalid, {len(batch.duplicates)} duplicate, "
            f"{len(batch.already_completed)} already completed) -> {printable(settings.output_dir)}",
            file=sys.stderr,
        )
        for problem in batch.invalid:
            value = printable(problem.value, ECHO_LIMIT)
            print(f"  row {problem.row_number}: '{value}': {problem.reason}", file=sys.stderr)
    if retry_failed:
        retried = controller.gate.retry_failed(batch)
        if not json_out:
            print(f"Retrying {len(retried)} failed POs from the last run", file=sys.stderr)
    with _stop_on_signals(controller):
        summary = controller.run()
    renderer.finish(summary)
    return summary


def _engine(settings: Settings, portal: Any, *, json_out: bool, demo_secret: str = "") -> ControllerKwargs:
    """The controller's arguments for the run's mode; in API mode the connection is checked first (exit 2)."""
    from popool_gui.api.engine import run_arguments
    from popool_gui.pool.worker import worker_main

    arguments = run_arguments(settings, portal, worker_main, demo_secret=demo_secret)
    if arguments.access is not None and not json_out:
        print(
            f"API mode: client {printable(arguments.access.client_id)} at {printable(arguments.access.origin)}, "
            f"{settings.api_rate_per_s:g} requests/s, {settings.api_concurrency} POs at once",
            file=sys.stderr,
        )
    return arguments.controller_kwargs()


def _cmd_api_secret(args: argparse.Namespace) -> int:
    from popool_gui.api.credentials import store_api_key, store_secret

    if not args.legacy_key and not args.client_id:
        print("popool: api-secret needs --client-id (or --legacy-key for a legacy API key)", file=sys.stderr)
        return EXIT_BAD_INPUT
    what = "the legacy API key" if args.legacy_key else f"the secret of API client {printable(args.client_id)}"
    prompt = "Legacy API key: " if args.legacy_key else f"Secret of API client {printable(args.client_id)}: "
    secret = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not secret:
        print("popool: no secret given: nothing stored", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.legacy_key:
        store_api_key(args.base_url, secret)
    else:
        store_secret(args.base_url, args.client_id, secret)
    print(f"Stored {what} for {printable(args.base_url)}", file=sys.stderr)
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    settings = _settings_from(args)
    if args.output is None:  # as in the window: each input gets its own folder inside the output folder
        settings = settings.replace(output_dir=str(input_output_dir(settings.output_dir, args.input)))
    summary = _execute(
        settings,
        args.input,
        json_out=args.json,
        accept_new_input=args.accept_new_input,
        retry_failed=args.retry == RETRY_FAILED,
    )
    return exit_code(summary)


def _cmd_demo(args: argparse.Namespace, argv: list[str]) -> int:
    if not args.headless:
        from popool_gui.app import main_gui

        return main_gui(argv, demo=True)
    from popool_gui.demo.sample import write_sample_csv
    from popool_gui.demo.server import demo_portal

    root = (args.output or Path.cwd() / "popool-demo").resolve()
    run_dir = root / time.strftime("run-%Y%m%d-%H%M%S")
    ensure_output_dir(run_dir, settings_mod.ResultsFormat.CSV)  # --output a file: one line, not a traceback
    sample = write_sample_csv(run_dir / "demo-pos.csv", args.count)
    with demo_portal() as portal:
        print(f"Demo portal at {portal.url}; {args.count} POs from {sample}", file=sys.stderr)
        settings = _demo_settings(args, portal.url, run_dir / "output", headless=True)
        secret = ""
        if args.mode == RunMode.API:
            settings = settings.replace(mode=RunMode.API, api_client_id=portal.knobs.api_client_id)
            secret = portal.knobs.api_client_secret  # the demo's client is public; real secrets: the OS store
        summary = _execute(settings, sample, json_out=args.json, demo_secret=secret)
    return exit_code(summary)


def _demo_settings(args: argparse.Namespace, url: str, output: Path, *, headless: bool) -> Settings:
    """The user's browser settings (driver paths...), pointed at the demo portal."""
    overrides: dict[str, Any] = {**demo_overrides(url, output), "workers": args.workers, "headless": headless}
    for flag, field in (("browser", "browser"), ("driver", "driver_path"), ("binary", "browser_binary")):
        if getattr(args, flag, None):
            overrides[field] = getattr(args, flag)
    try:
        return settings_mod.load(None, overrides)
    except SettingsError:
        # A broken user settings file must not keep the demo from running: defaults plus the demo's values.
        return settings_mod.Settings().replace(**overrides)


def _cmd_self_test(args: argparse.Namespace) -> int:
    from popool_gui.demo.sample import write_sample_csv
    from popool_gui.demo.server import demo_portal
    from popool_gui.selftest import verify_run

    root = Path(tempfile.mkdtemp(prefix="popool-self-test-"))
    started = time.monotonic()
    try:
        sample = write_sample_csv(root / "self-test.csv", SELF_TEST_COUNT)
        with demo_portal() as portal:
            settings = _demo_settings(args, portal.url, root / "output", headless=True)
            summary = _execute(settings, sample, json_out=False)
            problems = verify_run(portal, output_dir(settings))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    for problem in problems:
        print(f"SELF-TEST PROBLEM: {problem}", file=sys.stderr)
    passed = not problems and exit_code(summary) == EXIT_OK
    print(
        f"self-test {'PASSED' if passed else 'FAILED'}: {summary.total} rows, {settings.workers} workers, "
        f"{time.monotonic() - started:.1f} s" + (f", kept in {root}" if args.keep else ""),
        file=sys.stderr,
    )
    return EXIT_OK if passed else EXIT_TROUBLE
