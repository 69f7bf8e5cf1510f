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
class Settings:
    """Every tunable of popool. Field metadata carries the label shown in the GUI and whether a change waits for
    the next pool start; the help text lives beside the editors in gui/settings_dialog.py."""

    workers: int = dataclasses.field(default=2, metadata={"label": "Workers", "restart": True})
    browser: BrowserKind = dataclasses.field(
        default_factory=default_browser, metadata={"label": "Browser", "restart": True}
    )
    driver_path: str = dataclasses.field(default="", metadata={"label": "Driver path", "restart": True})
    browser_binary: str = dataclasses.field(default="", metadata={"label": "Browser binary", "restart": True})
    headless: bool = dataclasses.field(default=True, metadata={"label": "Headless", "restart": True})
    profile_dir: str = dataclasses.field(default="", metadata={"label": "Browser profile folder", "restart": True})
    profile_name: str = dataclasses.field(default="Default", metadata={"label": "Profile name", "restart": True})
    grid_url: str = dataclasses.field(default="", metadata={"label": "Selenium Grid URL", "restart": True})
    output_dir: str = dataclasses.field(default_factory=default_output_dir, metadata={"label": "Where files go"})
    portal: str = dataclasses.field(default="coupa", metadata={"label": "Portal profile"})
    base_url: str = dataclasses.field(default="", metadata={"label": "Portal base URL"})
    max_attempts: int = dataclasses.field(default=3, metadata={"label": "Attempts per PO"})
    po_timeout_s: float = dataclasses.field(default=180.0, metadata={"label": "PO timeout (s)"})
    page_timeout_s: float = dataclasses.field(default=30.0, metadata={"label": "Page wait (s)"})
    download_timeout_s: float = dataclasses.field(default=120.0, metadata={"label": "Download wait (s)"})
    start_timeout_s: float = dataclasses.field(default=60.0, metadata={"label": "Browser start wait (s)"})
    heartbeat_timeout_s: float = dataclasses.field(default=20.0, metadata={"label": "Heartbeat timeout (s)"})
    memory_threshold_pct: float = dataclasses.field(default=75.0, metadata={"label": "Memory threshold (%)"})
    memory_margin_pct: float = dataclasses.field(default=5.0, metadata={"label": "Memory margin (%)"})
    memory_cooldown_s: float = dataclasses.field(default=30.0, metadata={"label": "Recycle cool-down (s)"})
    max_restarts: int = dataclasses.field(default=3, metadata={"label": "Restarts per worker"})
    shutdown_timeout_s: float = dataclasses.field(default=60.0, metadata={"label": "Shutdown timeout (s)"})
    results_format: ResultsFormat = dataclasses.field(
        default=ResultsFormat.CSV_AND_XLSX, metadata={"label": "Results format"}
    )
    # POs in progress at once per worker, a tab each. 4: the most POs/min measured at 2 workers (2, 3, 4 tabs:
    # 70.6, 82.2, 87.2 POs/min), with the browsers' memory flat (the tabs share their browser's renderer), see
    # docs/benchmarks.md "Tabs per worker". A crash or Stop hands back the tabs that downloaded nothing.
    tabs_per_worker: int = dataclasses.field(default=4, metadata={"label": "Tabs per worker", "restart": True})
    # On: a PO's plain same-origin links come over HTTP with the browser's cookies, on fetch threads, while the
    # driver works on the other tabs; anything else, and any fetch that fails or answers with a web page, is
    # clicked in the browser. Measured in docs/benchmarks.md ("Peer").
    direct_download: bool = dataclasses.field(default=True, metadata={"label": "Direct HTTP downloads"})
    block_resources: bool = dataclasses.field(
        default=False, metadata={"label": "Block images and fonts", "restart": True}
    )
    log_level: str = dataclasses.field(default="info", metadata={"label": "Log level"})
    mode: RunMode = dataclasses.field(default=RunMode.BROWSER, metadata={"label": "Run mode"})
    # API mode: the client's id; its secret lives in the OS credential store (api/credentials.py), never here.
    api_client_id: str = dataclasses.field(default="", metadata={"label": "API client id"})
    # Coupa allows 25 requests/s; one lane paces every request of a run (api/limiter.py).
    api_rate_per_s: float = dataclasses.field(default=20.0, metadata={"label": "API requests per second"})
    api_concurrency: int = dataclasses.field(default=12, metadata={"label": "API POs at once", "restart": True})
    # A long run on a laptop stops when the machine sleeps; popool holds it awake while a run works.
    keep_awake: bool = dataclasses.field(default=True, metadata={"label": "Keep the computer awake during a run"})

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
_FIELD_TYPES: dict[str, str] = {f.name: str(f.type) for f in fields(Settings)}
_RANGES: tuple[tuple[str, float, float, str], ...] = (
    ("workers", MIN_WORKERS, MAX_WORKERS, ""),
    ("tabs_per_worker", MIN_TABS, MAX_TABS, ""),
    ("max_attempts", 1, 10, ""),
    ("max_restarts", 0, 20, ""),
    ("po_timeout_s", 10, 3600, " seconds"),
    ("page_timeout_s", 1, 600, " seconds"),
    ("download_timeout_s", 1, 3600, " seconds"),
    ("start_timeout_s", 5, 600, " seconds"),
    ("heartbeat_timeout_s", 2, 600, " seconds"),
    ("shutdown_timeout_s", 1, 600, " seconds"),
    ("memory_threshold_pct", 10, 99, " percent"),
    ("memory_margin_pct", 0, 50, " percent"),
    ("memory_cooldown_s", 0, 3600, " seconds"),
    ("api_rate_per_s", 1, 25, " requests per second"),
    ("api_concurrency", 3, 32, ""),
)


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
            elif kind == "BrowserKind" and isinstance(value, str):
                value = BrowserKind(value.lower())
            elif kind == "ResultsFormat" and isinstance(value, str):
                value = ResultsFormat(value.lower())
            elif kind == "RunMode" and isinstance(value, str):
                value = RunMode(value.lower())
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
        type_ok = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "str": isinstance(value, str),
            "BrowserKind": isinstance(value, BrowserKind),
            "ResultsFormat": isinstance(value, ResultsFormat),
            "RunMode": isinstance(value, RunMode),
        }[expected]
        if type_ok:
            continue
        if expected == "BrowserKind":
            msg = f"must be one of {', '.join(b.value for b in BrowserKind)}, not {value!r}"
        elif expected == "ResultsFormat":
            msg = f"must be one of {', '.join(r.value for r in ResultsFormat)}, not {value!r}"
        elif expected == "RunMode":
            msg = f"must be one of {', '.join(m.value for m in RunMode)}, not {value!r}"
        else:
            msg = f"must be {_TYPE_WORDS[expected]}, not {value!r}"
        problems.append(SettingProblem(f.name, msg))
    return problems


def _check_values(s: Settings, need: _Need) -> None:
    for name, low, high, unit in _RANGES:
        value = getattr(s, name)
        need(lambda v=value, lo=low, hi=high: lo <= v <= hi, name, f"must be {low}-{high}{unit}, not {value}")
    need(
        lambda: s.log_level in LOG_LEVELS,
        "log_level",
        f"must be one of {', '.join(LOG_LEVELS)}, not {s.log_level!r}",
    )
    need(lambda: bool(s.output_dir.strip()), "output_dir", "must name a folder for the downloads")
    need(
        lambda: bool(s.portal.strip()),
        "portal",
        "must name a built-in portal profile (coupa, demo) or a .toml file",
    )
    for name in ("base_url", "grid_url"):
        url = getattr(s, name)
        need(
            lambda u=url: not u or _is_web_address(u),
            name,
            f"must be an http:// or https:// address with a host name, e.g. https://acme.example.com, not {url!r}",
        )
    for name in ("driver_path", "browser_binary"):
        path = getattr(s, name)
        need(
            lambda p=path: not p or os.path.isfile(p),  # os.path's checks never raise (a too-long name)
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
