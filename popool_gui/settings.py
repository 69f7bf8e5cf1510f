"""The one `Settings` dataclass: every tunable of popool, its default, validation, load and save.

Settings live as TOML in the user config folder. Validation reports every problem at once, each
naming the setting, so a person can fix the file or the dialog in one pass.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from popool_gui.safe_text import printable

APP_NAME = "popool"
SETTINGS_FILE_NAME = "settings.toml"
MIN_WORKERS, MAX_WORKERS = 1, 8
MIN_TABS, MAX_TABS = 1, 4
LOG_LEVELS = ("debug", "info", "warning", "error")


class BrowserKind(StrEnum):
    EDGE = "edge"
    CHROME = "chrome"
    CHROMIUM = "chromium"
    FIREFOX = "firefox"


class RunMode(StrEnum):
    """Who does the work: the browser pool, the portal's API, or the API when a client is configured."""

    BROWSER = "browser"
    API = "api"
    AUTO = "auto"


class ResultsFormat(StrEnum):
    CSV_AND_XLSX = "csv+xlsx"
    CSV = "csv"
    XLSX = "xlsx"


def default_browser() -> BrowserKind:
    # Users sign in through SSO in Edge on Windows; elsewhere Chromium is what a Linux box has.
    return BrowserKind.EDGE if sys.platform == "win32" else BrowserKind.CHROMIUM


def default_output_dir() -> str:
    return str(Path(platformdirs.user_documents_dir()) / "popool")


@dataclass(frozen=True, slots=True)
class Spec:
    """What a setting is besides its type and default: the one place its label, help and range are written.

    The Settings dialog builds its editors, labels and help from it; `validate` checks its range and choices."""

    label: str
    help: str
    restart: bool = False  # a change takes effect when the pool starts
    range: tuple[float, float] | None = None  # inclusive; validate() names it
    unit: str = ""  # after the range in messages: " seconds"
    choices: tuple[str, ...] = ()  # the values a text setting may take


def spec(
    *,
    label: str,
    help: str,
    restart: bool = False,
    range: tuple[float, float] | None = None,
    unit: str = "",
    choices: tuple[str, ...] = (),
) -> dict[str, Spec]:
    """A Settings field's metadata: its `Spec`, written beside its type and default."""
    return {"spec": Spec(label, help, restart, range, unit, choices)}


@dataclass(frozen=True, slots=True)
class Settings:
    """Every tunable of popool, each declared once: its type, default and `Spec` (label, help, range)."""

    workers: int = dataclasses.field(
        default=2,
        metadata=spec(
            label="Workers",
            help=f"How many browsers work in parallel ({MIN_WORKERS}-{MAX_WORKERS}). "
            "Each needs a few hundred MB of RAM",
            restart=True,
            range=(MIN_WORKERS, MAX_WORKERS),
        ),
    )
    browser: BrowserKind = dataclasses.field(
        default_factory=default_browser,
        metadata=spec(label="Browser", help="Which browser the workers drive", restart=True),
    )
    driver_path: str = dataclasses.field(
        default="",
        metadata=spec(
            label="Driver path",
            help="WebDriver executable (msedgedriver, chromedriver, geckodriver); empty: search PATH",
            restart=True,
        ),
    )
    browser_binary: str = dataclasses.field(
        default="",
        metadata=spec(label="Browser binary", help="Browser executable; empty: the installed one", restart=True),
    )
    headless: bool = dataclasses.field(
        default=True,
        metadata=spec(
            label="Headless",
            help="Run browsers without windows. Signing in needs a visible browser: turn this off once",
            restart=True,
        ),
    )
    profile_dir: str = dataclasses.field(
        default="",
        metadata=spec(
            label="Browser profile folder",
            help="popool's browsers start from copies of this profile, so they are signed in as you are. "
            "Use my signed-in Edge profile fills it in; Check sign-in tries it",
            restart=True,
        ),
    )
    profile_name: str = dataclasses.field(
        default="Default",
        metadata=spec(
            label="Profile name",
            help="Profile folder inside it; Edge and Chrome call the first one 'Default'",
            restart=True,
        ),
    )
    grid_url: str = dataclasses.field(
        default="",
        metadata=spec(
            label="Selenium Grid URL", help="Run the browsers on a Selenium Grid instead of this machine", restart=True
        ),
    )
    output_dir: str = dataclasses.field(
        default_factory=default_output_dir,
        metadata=spec(
            label="Where files go",
            help="Each PO list gets a folder of its own in here, named after the file; loading the same list again "
            "resumes its run",
        ),
    )
    portal: str = dataclasses.field(
        default="coupa",
        metadata=spec(
            label="Portal profile",
            help="Portal profile: coupa, demo, or the path of a .toml profile for a tenant whose pages differ",
        ),
    )
    base_url: str = dataclasses.field(
        default="",
        metadata=spec(
            label="Portal base URL",
            help="Your portal's address as Edge shows it when you are signed in, e.g. https://yourcompany.coupahost.com",
        ),
    )
    max_attempts: int = dataclasses.field(
        default=3,
        metadata=spec(
            label="Attempts per PO", help="Attempts per PO for transient errors (timeouts, crashes, 5xx)", range=(1, 10)
        ),
    )
    po_timeout_s: float = dataclasses.field(
        default=180.0,
        metadata=spec(
            label="PO timeout (s)",
            help="A worker that spends longer on one PO (not counting popool's own waits for its lists to render) "
            "is restarted and the PO retried",
            range=(10, 3600),
            unit=" seconds",
        ),
    )
    page_timeout_s: float = dataclasses.field(
        default=30.0,
        metadata=spec(
            label="Page wait (s)",
            help="Longest wait for a PO page to show its attachments or an error",
            range=(1, 600),
            unit=" seconds",
        ),
    )
    download_timeout_s: float = dataclasses.field(
        default=120.0,
        metadata=spec(
            label="Download wait (s)",
            help="Longest wait for one attachment to finish downloading",
            range=(1, 3600),
            unit=" seconds",
        ),
    )
    start_timeout_s: float = dataclasses.field(
        default=60.0,
        metadata=spec(
            label="Browser start wait (s)", help="Longest wait for a browser to start", range=(5, 600), unit=" seconds"
        ),
    )
    heartbeat_timeout_s: float = dataclasses.field(
        default=20.0,
        metadata=spec(
            label="Heartbeat timeout (s)",
            help="A worker silent this long is considered hung and restarted",
            range=(2, 600),
            unit=" seconds",
        ),
    )
    memory_threshold_pct: float = dataclasses.field(
        default=75.0,
        metadata=spec(
            label="Memory threshold (%)",
            help="When the machine's RAM use passes this, the heaviest browser is recycled",
            range=(10, 99),
            unit=" percent",
        ),
    )
    memory_margin_pct: float = dataclasses.field(
        default=5.0,
        metadata=spec(
            label="Memory margin (%)",
            help="Held-back work resumes when RAM falls this far below the threshold",
            range=(0, 50),
            unit=" percent",
        ),
    )
    memory_cooldown_s: float = dataclasses.field(
        default=30.0,
        metadata=spec(
            label="Recycle cool-down (s)",
            help="Minimum time between two memory recycles",
            range=(0, 3600),
            unit=" seconds",
        ),
    )
    max_restarts: int = dataclasses.field(
        default=3,
        metadata=spec(label="Restarts per worker", help="Restarts per worker before it is retired", range=(0, 20)),
    )
    shutdown_timeout_s: float = dataclasses.field(
        default=60.0,
        metadata=spec(
            label="Shutdown timeout (s)",
            help="Stop waits this long for workers to finish their PO, then kills what is left",
            range=(1, 600),
            unit=" seconds",
        ),
    )
    results_format: ResultsFormat = dataclasses.field(
        default=ResultsFormat.CSV_AND_XLSX,
        metadata=spec(
            label="Results format", help="Results file next to the downloads: CSV (UTF-8 with BOM), Excel, or both"
        ),
    )
    # POs in progress at once per worker, a tab each. 4: the most POs/min measured at 2 workers (2, 3, 4 tabs:
    # 70.6, 82.2, 87.2 POs/min), with the browsers' memory flat (the tabs share their browser's renderer), see
    # docs/benchmarks.md "Tabs per worker". A crash or Stop hands back the tabs that downloaded nothing.
    tabs_per_worker: int = dataclasses.field(
        default=4,
        metadata=spec(
            label="Tabs per worker", help="Tabs each browser may use", restart=True, range=(MIN_TABS, MAX_TABS)
        ),
    )
    # On: a PO's plain same-origin links come over HTTP with the browser's cookies, on fetch threads, while the
    # driver works on the other tabs; anything else, and any fetch that fails or answers with a web page, is
    # clicked in the browser. Measured in docs/benchmarks.md ("Peer").
    direct_download: bool = dataclasses.field(
        default=True,
        metadata=spec(
            label="Direct HTTP downloads",
            help="Fetch plain attachment links over HTTP with the browser's cookies; others are clicked",
        ),
    )
    block_resources: bool = dataclasses.field(
        default=False,
        metadata=spec(
            label="Block images and fonts", help="Skip images and fonts: faster pages, same attachments", restart=True
        ),
    )
    log_level: str = dataclasses.field(
        default="info",
        metadata=spec(label="Log level", help="How much goes to the log files and the log pane", choices=LOG_LEVELS),
    )
    mode: RunMode = dataclasses.field(
        default=RunMode.BROWSER,
        metadata=spec(
            label="Run mode",
            help="browser: the browser pool; api: Coupa's REST API, no browser; auto: the API when a client id is set "
            "and its secret is stored (popool api-secret)",
        ),
    )
    # API mode: the client's id; its secret lives in the OS credential store (api/credentials.py), never here.
    api_client_id: str = dataclasses.field(
        default="",
        metadata=spec(
            label="API client id",
            help="The OAuth client your Coupa administrator made for popool. Its secret is kept in the system's "
            "credential store, never in the settings file",
        ),
    )
    # Coupa allows 25 requests/s; one lane paces every request of a run (api/limiter.py).
    api_rate_per_s: float = dataclasses.field(
        default=20.0,
        metadata=spec(
            label="API requests per second",
            help="Requests per second in API mode; Coupa allows 25",
            range=(1, 25),
            unit=" requests per second",
        ),
    )
    api_concurrency: int = dataclasses.field(
        default=12,
        metadata=spec(label="API POs at once", help="POs the API works on at once", restart=True, range=(3, 32)),
    )
    # A long run on a laptop stops when the machine sleeps; popool holds it awake while a run works.
    keep_awake: bool = dataclasses.field(
        default=True,
        metadata=spec(
            label="Keep the computer awake during a run",
            help="Stop the computer from going to sleep while a run works; released when the run ends",
        ),
    )

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` applied and coerced; call `validate()` on the result."""
        return dataclasses.replace(self, **coerce_values(changes))

    def validate(self) -> list[SettingProblem]:
        return validate(self)


@dataclass(frozen=True, slots=True)
class SettingProblem:
    name: str
    message: str

    def __str__(self) -> str:
        return f"setting '{self.name}': {self.message}"


class SettingsError(ValueError):
    """Settings that cannot be used; the message lists every problem."""

    def __init__(self, problems: list[SettingProblem], source: str = "") -> None:
        self.problems = problems
        where = f" in {source}" if source else ""
        if len(problems) == 1:  # one problem, one line
            super().__init__(f"invalid settings{where}: {problems[0]}")
        else:
            super().__init__(f"invalid settings{where}:\n" + "\n".join(f"  - {p}" for p in problems))


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Settings))
SPECS: dict[str, Spec] = {f.name: f.metadata["spec"] for f in fields(Settings)}
_FIELD_TYPES: dict[str, str] = {f.name: str(f.type) for f in fields(Settings)}  # the annotations, as written
_ENUMS: dict[str, type[StrEnum]] = {kind.__name__: kind for kind in (BrowserKind, ResultsFormat, RunMode)}


def choices(name: str) -> tuple[str, ...]:
    """The values a setting may take: its enum's, or its Spec's; () for a free value."""
    kind = _ENUMS.get(_FIELD_TYPES[name])
    return tuple(member.value for member in kind) if kind is not None else SPECS[name].choices


def coerce_values(values: dict[str, Any]) -> dict[str, Any]:
    """Turn TOML/CLI values into field types; values that cannot be coerced are kept for validate() to report."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind = _FIELD_TYPES.get(name)
        try:
            if kind == "int" and isinstance(value, str | float) and not isinstance(value, bool):
                value = int(value)
            elif kind == "float" and isinstance(value, str | int) and not isinstance(value, bool):
                value = float(value)
            elif kind == "bool" and isinstance(value, str):
                value = {"true": True, "false": False, "1": True, "0": False}.get(value.lower(), value)
            elif kind in _ENUMS and isinstance(value, str):
                value = _ENUMS[kind](value.lower())
            elif kind == "str" and isinstance(value, Path):
                value = str(value)
        except (ValueError, OverflowError):  # OverflowError: int(inf); validate() names the setting
            pass
        out[name] = value
    return out


def validate(s: Settings) -> list[SettingProblem]:
    problems = _type_problems(s)
    bad_type = {p.name for p in problems}

    def need(ok: Callable[[], bool], name: str, message: str) -> None:
        # Value checks run only on well-typed values, so one bad type never hides the other problems.
        if name not in bad_type and not ok():
            problems.append(SettingProblem(name, message))

    _check_values(s, need)
    if s.profile_dir and "profile_dir" not in bad_type:
        _check_profile(s, need)
    return problems


_Need = Callable[[Callable[[], bool], str, str], None]
_TYPE_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "text"}


def _type_problems(s: Settings) -> list[SettingProblem]:
    problems: list[SettingProblem] = []
    for f in fields(Settings):
        value = getattr(s, f.name)
        expected = _FIELD_TYPES[f.name]
        if expected in _ENUMS:
            if isinstance(value, _ENUMS[expected]):
                continue
            msg = f"must be one of {', '.join(choices(f.name))}, not {value!r}"
        else:
            type_ok = {
                "int": isinstance(value, int) and not isinstance(value, bool),
                "float": isinstance(value, int | float) and not isinstance(value, bool),
                "bool": isinstance(value, bool),
                "str": isinstance(value, str),
            }[expected]
            if type_ok:
                continue
            msg = f"must be {_TYPE_WORDS[expected]}, not {value!r}"
        problems.append(SettingProblem(f.name, msg))
    return problems


def _check_values(s: Settings, need: _Need) -> None:
    for name, spec in SPECS.items():
        value = getattr(s, name)
        if spec.range is not None:
            low, high = spec.range
            message = f"must be {low}-{high}{spec.unit}, not {value}"

            # Defs rather than lambdas here and below: mypy cannot type a lambda's defaults, which bind loop values.
            def in_range(v: float = value, lo: float = low, hi: float = high) -> bool:
                return lo <= v <= hi

            need(in_range, name, message)
        if spec.choices:
            message = f"must be one of {', '.join(spec.choices)}, not {value!r}"

            def one_of(v: str = value, c: tuple[str, ...] = spec.choices) -> bool:
                return v in c

            need(one_of, name, message)
    need(lambda: bool(s.output_dir.strip()), "output_dir", "must name a folder for the downloads")
    need(
        lambda: bool(s.portal.strip()),
        "portal",
        "must name a built-in portal profile (coupa, demo) or a .toml file",
    )
    for name in ("base_url", "grid_url"):
        url = getattr(s, name)

        def web_or_blank(u: str = url) -> bool:
            return not u or _is_web_address(u)

        need(
            web_or_blank,
            name,
            f"must be an http:// or https:// address with a host name, e.g. https://acme.example.com, not {url!r}",
        )
    for name in ("driver_path", "browser_binary"):
        path = getattr(s, name)

        def file_or_blank(p: str = path) -> bool:
            return not p or os.path.isfile(p)  # os.path's checks never raise (a too-long name)

        need(
            file_or_blank,
            name,
            f"file not found: {path} (leave empty to search PATH)",
        )


def _is_web_address(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  # raises ValueError for a port that is not a number
    except ValueError:  # also an unbalanced [IPv6] bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check_profile(s: Settings, need: _Need) -> None:
    profile = Path(s.profile_dir)
    need(lambda: os.path.isdir(profile), "profile_dir", f"folder not found: {s.profile_dir}")
    if os.path.isdir(profile):
        need(
            lambda: os.path.isdir(profile / s.profile_name),
            "profile_name",
            f"no profile folder '{s.profile_name}' in {s.profile_dir} (Edge and Chrome call it 'Default')",
        )
    need(
        lambda: s.browser is not BrowserKind.FIREFOX,
        "profile_dir",
        "profile cloning is supported for Edge and Chrome only",
    )


def config_dir() -> Path:
    override = os.environ.get("POPOOL_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def settings_path() -> Path:
    return config_dir() / SETTINGS_FILE_NAME


def load(
    path: Path | None = None, overrides: dict[str, Any] | None = None, labels: dict[str, str] | None = None
) -> Settings:
    """Read the settings file, apply `overrides`, validate; raise SettingsError.

    Without `path`, the user's settings file, whose absence means defaults; a `path` the user named must exist.
    `labels` names where each override came from (`{"workers": "--workers"}`): a bad value is then blamed on
    that flag, not on the settings file."""
    values = _read_file(path) if path is not None else _read_file(settings_path(), missing_ok=True)
    path = path or settings_path()
    problems: list[SettingProblem] = []
    for unknown in sorted(set(values) - set(FIELD_NAMES)):
        problems.append(SettingProblem(unknown, "unknown setting; remove it or check its spelling"))
        del values[unknown]
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    values.update(given)
    try:
        settings = Settings().replace(**values)
    except TypeError as exc:
        raise SettingsError([SettingProblem("(file)", str(exc))], str(path)) from exc
    problems.extend(settings.validate())
    if problems:
        named = {k: (labels or {}).get(k, "") for k in given}
        shown = [FlagProblem(named[p.name], p.message) if named.get(p.name) else p for p in problems]
        flagged = sum(isinstance(p, FlagProblem) for p in shown)
        if flagged == len(shown):
            source = "the command line"
        else:
            source = str(path) + (" and the command line" if flagged else "")
        raise SettingsError(shown, source)
    return settings


def _read_file(path: Path, *, missing_ok: bool = False) -> dict[str, Any]:
    def fail(message: str) -> SettingsError:
        return SettingsError([SettingProblem("(file)", message)], printable(str(path)))

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        if missing_ok:
            return {}
        raise fail("file not found: check the path, or leave --settings out to use your own settings") from exc
    except IsADirectoryError as exc:
        raise fail("is a folder, not a settings file: name the .toml file inside it") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise fail(f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise fail(f"cannot be read ({exc.strerror or exc}): check the path and its permissions") from exc


@dataclass(frozen=True, slots=True)
class FlagProblem(SettingProblem):
    """A bad value given on the command line: named by its flag."""

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


def to_toml(s: Settings) -> str:
    lines = ["# popool settings; every key is optional. Edit here or in the Settings dialog."]
    for f in fields(Settings):
        value = getattr(s, f.name)
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = repr(value)
        else:
            text = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines.append(f"{f.name} = {text}")
    return "\n".join(lines) + "\n"


def save(s: Settings, path: Path | None = None) -> Path:
    """Write atomically so a crash never leaves half a settings file."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(to_toml(s), encoding="utf-8")
    os.replace(tmp, path)
    return path
