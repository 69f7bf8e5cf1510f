"""Portal profiles: every URL, selector and page marker of a procurement portal, loaded from TOML.

Nothing portal-specific lives in code: a tenant whose pages differ gets its own `.toml` file. A profile is
checked completely at load time (unknown keys, types, regexes, CSS syntax) so a typo fails the run before
any browser starts, with the offending key named. Page texts are matched case-insensitively.
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from popool_gui.batch.model import DEFAULT_PO_ID_REGEX

BUILTIN_DIR = Path(__file__).parent / "portals"
BUILTIN_PORTALS: tuple[str, ...] = ("coupa", "demo")
DEFAULT_NAME_ATTRIBUTES: tuple[str, ...] = ("download", "title", "aria-label", "text", "href")
DEFAULT_SERVER_ERROR_TEXT: tuple[str, ...] = ("Internal Server Error", "502 Bad Gateway", "503 Service")
MAX_SETTLE_MS = 60_000
DEFAULT_SETTLE_MS = 600
# How long after its page loaded an empty attachment list is first believed, until the run has learned the
# portal's own render timing (see pool/render_timing.py). Portals that fetch the list by script after a timer
# commonly show it within 1-3 s.
DEFAULT_EMPTY_WAIT_MS = 3000


class PortalError(ValueError):
    """A portal profile that cannot be used; the message names every offending key."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = problems
        self.source = source
        where = f" {source}" if source else ""
        if len(problems) == 1:
            super().__init__(f"portal profile{where}: {problems[0]}")
        else:
            super().__init__(f"portal profile{where}:\n" + "\n".join(f"  - {p}" for p in problems))

    def __reduce__(self) -> tuple[type[PortalError], tuple[list[str], str]]:
        # Raised in worker processes too: keep it picklable with its own constructor arguments.
        return (type(self), (self.problems, self.source))


class RequisitionWhen(StrEnum):
    NO_ATTACHMENTS = "no_attachments"  # follow the requisition link only when the PO has no attachment
    NO_PDF = "no_pdf"  # ... or when none of the PO's attachments is a PDF


@dataclass(frozen=True, slots=True)
class DetectRules:
    login_url_contains: tuple[str, ...]
    not_found_text: tuple[str, ...]
    access_denied_text: tuple[str, ...]
    login_selectors: tuple[str, ...] = ()
    error_selectors: tuple[str, ...] = ()
    ready_selectors: tuple[str, ...] = ()
    # A visible match ("Loading...", a spinner) means the page is still working: no verdict on its list yet.
    loading_selectors: tuple[str, ...] = ()
    # An extension of the public format: a 5xx body shown by the browser is a transient failure, not a timeout.
    server_error_text: tuple[str, ...] = DEFAULT_SERVER_ERROR_TEXT


@dataclass(frozen=True, slots=True)
class AttachmentRules:
    selectors: tuple[str, ...]
    name_attributes: tuple[str, ...] = DEFAULT_NAME_ATTRIBUTES
    name_strip_suffix: str = ""
    settle_ms: int = DEFAULT_SETTLE_MS
    empty_wait_ms: int = DEFAULT_EMPTY_WAIT_MS
    # Look at every empty list once more, later in the run, before NO_ATTACHMENTS is final. Off only for a portal
    # whose ready marker (detect.ready_selectors) is known to show on empty lists too.
    second_look: bool = True
    # Where on the PO an attachment hangs, as the API says it (AttachmentSource): one inside an element matching
    # one of `line_selectors` is a line's (Coupa shows those inside the line's details), one inside
    # `comment_selectors` a comment's, any other on the PO page the header's.
    line_selectors: tuple[str, ...] = ()
    comment_selectors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SupplierRules:
    selectors: tuple[str, ...] = ()
    input_column: str = ""


@dataclass(frozen=True, slots=True)
class RequisitionRules:
    enabled: bool = False
    when: RequisitionWhen = RequisitionWhen.NO_ATTACHMENTS
    link_selectors: tuple[str, ...] = ()

    def wanted(self, names: list[str]) -> bool:
        """Whether the requisition's attachments are taken for a PO with these attachment names (both modes)."""
        if not self.enabled:
            return False
        if self.when is RequisitionWhen.NO_PDF:
            return not any(n.lower().endswith(".pdf") for n in names)
        return not names


@dataclass(frozen=True, slots=True)
class PortalProfile:
    name: str
    base_url: str
    po_url: str
    po_id_regex: str
    detect: DetectRules
    attachments: AttachmentRules
    supplier: SupplierRules = SupplierRules()
    requisition: RequisitionRules = RequisitionRules()
    source: str = ""  # the file it came from, for messages

    def require_base_url(self) -> None:
        if not self.base_url:
            raise PortalError(
                [
                    "no base URL: set 'Portal base URL' (setting base_url, or --base-url) to your portal's address, "
                    "e.g. https://yourcompany.coupahost.com"
                ],
                f"'{self.name}'",
            )

    def po_url_for(self, po_id: str) -> str:
        self.require_base_url()
        return self.po_url.format(base_url=self.base_url, po_id=po_id)


def load_portal(name_or_path: str, base_url: str = "") -> PortalProfile:
    """A built-in profile by name (`coupa`, `demo`) or a `.toml` file; a non-empty `base_url` overrides the file's."""
    text_name = name_or_path.strip()
    if text_name.lower() in BUILTIN_PORTALS:
        path = BUILTIN_DIR / f"{text_name.lower()}.toml"
    else:
        path = Path(text_name).expanduser()
        if not os.path.isfile(path):  # unlike Path.is_file, never raises (a name too long for the file system)
            raise PortalError(
                [f"not found: {text_name!r} is neither a built-in profile ({', '.join(BUILTIN_PORTALS)}) nor a file"]
            )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PortalError([f"cannot read: {exc}"], str(path)) from exc
    if base_url:
        data["base_url"] = base_url
    return parse_portal(data, str(path))


_REQUIRED = object()

# key -> (kind, default). Kinds: "str", "bool", "int", "texts" (list of non-empty strings), "selectors".
_TOP: dict[str, tuple[str, Any]] = {
    "name": ("str", _REQUIRED),
    "base_url": ("str", ""),
    "po_url": ("str", _REQUIRED),
    "po_id_regex": ("str", DEFAULT_PO_ID_REGEX),
}
# table -> (required, its rules' dataclass, key -> kind). A key's default, and whether it is required (no default),
# are the dataclass field's own: declared once, there.
_TABLES: dict[str, tuple[bool, type, dict[str, str]]] = {
    "detect": (
        True,
        DetectRules,
        {
            "login_url_contains": "texts",
            "login_selectors": "selectors",
            "not_found_text": "texts",
            "access_denied_text": "texts",
            "error_selectors": "selectors",
            "ready_selectors": "selectors",
            "loading_selectors": "selectors",
            "server_error_text": "texts",
        },
    ),
    "attachments": (
        True,
        AttachmentRules,
        {
            "selectors": "selectors",
            "name_attributes": "texts",
            "name_strip_suffix": "str",
            "settle_ms": "int",
            "empty_wait_ms": "int",
            "second_look": "bool",
            "line_selectors": "selectors",
            "comment_selectors": "selectors",
        },
    ),
    "supplier": (False, SupplierRules, {"selectors": "selectors", "input_column": "str"}),
    "requisition": (False, RequisitionRules, {"enabled": "bool", "when": "str", "link_selectors": "selectors"}),
}


def _spec(rules: type, kinds: dict[str, str]) -> dict[str, tuple[str, Any]]:
    """key -> (kind, default) for `_read_table`, the defaults taken from the rules' dataclass."""
    defaults = {f.name: _REQUIRED if f.default is MISSING else f.default for f in fields(rules)}
    return {key: (kind, defaults[key]) for key, kind in kinds.items()}


_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.-]*$")


def parse_portal(data: dict[str, Any], source: str = "") -> PortalProfile:
    """Validate a decoded TOML document and build the profile; raise PortalError naming every bad key."""
    problems: list[str] = []
    top = _read_table(data, "", _TOP, set(_TABLES), problems)
    tables: dict[str, dict[str, Any]] = {}
    for table, (required, rules, kinds) in _TABLES.items():
        raw = data.get(table)
        if raw is None:
            if required:
                problems.append(f"[{table}]: missing required table")
            raw = {}
        elif not isinstance(raw, dict):
            problems.append(f"[{table}]: must be a table, not {type(raw).__name__}")
            raw = {}
        tables[table] = _read_table(raw, table, _spec(rules, kinds), set(), problems)

    top["base_url"] = _check_base_url(top.get("base_url", ""), problems)
    _check_po_url(top.get("po_url"), problems)
    _check_regex(top.get("po_id_regex"), problems)
    for attribute in tables["attachments"].get("name_attributes", ()):
        if attribute != "text" and not _ATTRIBUTE_NAME.match(attribute):
            problems.append(f"attachments.name_attributes: {attribute!r} is not an attribute name (or 'text')")
    for key in ("settle_ms", "empty_wait_ms"):
        value = tables["attachments"].get(key)
        if isinstance(value, int) and not 0 <= value <= MAX_SETTLE_MS:
            problems.append(f"attachments.{key}: must be 0-{MAX_SETTLE_MS}, not {value}")
    requisition = tables["requisition"]
    when = requisition.get("when")
    if isinstance(when, str) and when not in {w.value for w in RequisitionWhen}:
        problems.append(f"requisition.when: must be one of {', '.join(w.value for w in RequisitionWhen)}, not {when!r}")
    if requisition.get("enabled") and not requisition.get("link_selectors"):
        problems.append("requisition.link_selectors: required when requisition.enabled is true")
    if problems:
        raise PortalError(problems, source)

    return PortalProfile(
        name=top["name"],
        base_url=top["base_url"],
        po_url=top["po_url"],
        po_id_regex=top["po_id_regex"],
        detect=DetectRules(**tables["detect"]),
        attachments=AttachmentRules(**tables["attachments"]),
        supplier=SupplierRules(**tables["supplier"]),
        requisition=RequisitionRules(
            enabled=requisition["enabled"],
            when=RequisitionWhen(requisition["when"]),
            link_selectors=requisition["link_selectors"],
        ),
        source=source,
    )


def _read_table(
    raw: dict[str, Any], table: str, spec: dict[str, tuple[str, Any]], subtables: set[str], problems: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in sorted(set(raw) - set(spec) - subtables):
        problems.append(f"{_key(table, key)}: unknown key; remove it or check its spelling")
    for key, (kind, default) in spec.items():
        name = _key(table, key)
        if key not in raw:
            if default is _REQUIRED:
                problems.append(f"{name}: missing required key")
            else:
                out[key] = default
            continue
        value = _CHECKS[kind](raw[key], name, problems)
        if value is not None:
            out[key] = value
        elif default is not _REQUIRED:
            out[key] = default
    return out


def _key(table: str, key: str) -> str:
    return f"{table}.{key}" if table else key


def _check_str(value: Any, name: str, problems: list[str]) -> str | None:
    if not isinstance(value, str):
        problems.append(f"{name}: must be a string, not {type(value).__name__}")
        return None
    return value


def _check_bool(value: Any, name: str, problems: list[str]) -> bool | None:
    if not isinstance(value, bool):
        problems.append(f"{name}: must be true or false, not {value!r}")
        return None
    return value


def _check_int(value: Any, name: str, problems: list[str]) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(f"{name}: must be an integer, not {value!r}")
        return None
    return value


def _check_texts(value: Any, name: str, problems: list[str]) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        problems.append(f"{name}: must be a list of strings, not {type(value).__name__}")
        return None
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            problems.append(f"{name}[{i}]: must be a non-empty string, not {item!r}")
            return None
    return tuple(value)


def _check_selectors(value: Any, name: str, problems: list[str]) -> tuple[str, ...] | None:
    selectors = _check_texts(value, name, problems)
    if selectors is None:
        return None
    for i, selector in enumerate(selectors):
        error = css_syntax_error(selector)
        if error:
            problems.append(f"{name}[{i}]: invalid CSS selector {selector!r}: {error}")
    return selectors


_CHECKS: dict[str, Callable[[Any, str, list[str]], Any]] = {
    "str": _check_str,
    "bool": _check_bool,
    "int": _check_int,
    "texts": _check_texts,
    "selectors": _check_selectors,
}


def _check_base_url(value: Any, problems: list[str]) -> str:
    if not isinstance(value, str) or not value:
        return ""
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(f"base_url: must be an http:// or https:// address, not {value!r}")
    return url


def _check_po_url(value: Any, problems: list[str]) -> None:
    if not isinstance(value, str):
        return
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
    except ValueError as exc:
        problems.append(f"po_url: {exc}")
        return
    if "po_id" not in fields:
        problems.append("po_url: must contain {po_id}")
    unknown = fields - {"po_id", "base_url"}
    if unknown:
        problems.append(f"po_url: unknown placeholder(s) {', '.join(sorted(unknown))}; use {{base_url}} and {{po_id}}")
    if "base_url" not in fields and not value.startswith(("http://", "https://")):
        problems.append("po_url: must start with {base_url} or an http(s) address")


def _check_regex(value: Any, problems: list[str]) -> None:
    if not isinstance(value, str):
        return
    try:
        pattern = re.compile(value, re.IGNORECASE)
    except re.error as exc:
        problems.append(f"po_id_regex: not a valid regular expression: {exc}")
        return
    if pattern.groups < 1:
        problems.append("po_id_regex: needs a capturing group (group 1 is the portal id)")


_CSS_PUNCTUATION = set("-_#.:*[]()=~|^$>+,!%@/ \t\n\\\"'")  # '!', '%', '@', '/' rejected below with a reason
_COMBINATORS = set(">+~,")


def css_syntax_error(selector: str) -> str:
    """A light syntax check of a CSS selector without a browser: returns what is wrong, or "" when it looks fine.

    It catches what typos produce (unbalanced brackets, quotes or parentheses, stray characters, dangling
    combinators), not every grammar rule; the browser remains the final judge.
    """
    text = selector.strip()
    if not text:
        return "empty selector"
    stack: list[str] = []
    closing = {"]": "[", ")": "("}
    quote = ""
    escaped = False
    for position, char in enumerate(text, start=1):
        if escaped:
            escaped = False
            continue
        if char == "\\":
            escaped = True
            continue
        if quote:
            if char == quote:
                quote = ""
            continue
        if char in "\"'":
            if not stack or stack[-1] not in "[(":
                return f"quote {char} outside [...] or (...) at position {position}"
            quote = char
        elif char in "[(":
            stack.append(char)
        elif char in closing:
            if not stack or stack[-1] != closing[char]:
                return f"unbalanced {char!r} at position {position}"
            stack.pop()
        elif not (char.isalnum() or char in _CSS_PUNCTUATION or ord(char) > 127):
            return f"character {char!r} at position {position} is not allowed in a selector"
        elif char in "!%@/" and not stack:
            return f"character {char!r} at position {position} is not allowed outside [...] or (...)"
    if escaped:
        return "ends with a lone backslash"
    if quote:
        return f"unterminated {quote} quote"
    if stack:
        return f"unclosed {stack[-1]!r}"
    if text[0] in _COMBINATORS:
        return f"starts with a dangling {text[0]!r}"
    if text[-1] in _COMBINATORS:
        return f"ends with a dangling {text[-1]!r}"
    if re.search(r",\s*,", text):
        return "empty selector between commas"
    return ""
