r"""Folder and file names in the output folder: Windows-safe, never outside the output folder.

Layout (docs/domain.md): `<output>/<supplier or hierarchy levels>/<PO>_<STATUS>/<PO>_<file name>`. While a PO is
in progress its files go to `<PO>__WORK`; `finalize` turns that into the one final folder of the PO.

Such a path can pass Windows' 260-character MAX_PATH (a deep OneDrive folder, long supplier and file names).
Every file operation popool does there goes through `long_path`, which gives Windows the extended-length form
(`\\?\C:\...`) when a path needs it; the paths popool shows, logs and journals stay the plain form.
"""

from __future__ import annotations

import filecmp
import ntpath
import os
import re
import stat
import sys
import tempfile
from pathlib import Path

from popool_gui.batch.model import UNKNOWN_LEVEL, PoRecord, PoStatus

PO_FOLDER_WORK_SUFFIX = "__WORK"
DEFAULT_MAX_LEN = 120
MAX_COMPONENT_BYTES = 255  # NTFS allows 255 UTF-16 units, ext4 255 bytes: the byte limit covers both
MAX_KEPT_EXTENSION = 16  # longer "extensions" are just dots in a name and get no protection from truncation
# Windows' MAX_PATH (260) counts the terminating NUL, and a folder made without the prefix must leave room for an
# 8.3 name (12 characters): 247 characters is on the safe side for files and folders alike.
MAX_PLAIN_PATH = 247
_EXTENDED = "\\\\?\\"
_EXTENDED_UNC = _EXTENDED + "UNC\\"
_DEVICE = "\\\\.\\"
TEMP_RANDOM_CHARS = 8  # the random part of a tempfile name

# Reserved characters, control characters, and lone surrogates (not representable in UTF-8 file systems).
_BAD_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\ud800-\udfff]')
_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)


class OutputLinkError(ValueError):
    """A link or junction where popool would move files: following it could pull files in from elsewhere."""

    def __init__(self, link: Path) -> None:
        try:
            target = f" (it points to {plain_path(Path(os.readlink(long_path(link))))})"
        except OSError:
            target = ""
        super().__init__(
            f"refusing to move files through {link}: it is a link or junction{target}; popool never follows links "
            "in the output folder: remove the link, then retry the PO"
        )
        self.link = link


def sanitize_component(name: str, max_len: int = DEFAULT_MAX_LEN) -> str:
    """One Windows-valid path component; never empty, and sanitize(sanitize(x)) == sanitize(x)."""
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, not {max_len}")
    cleaned = _fit(_BAD_CHARS.sub("_", name).lstrip(" "), max_len)
    if _is_reserved(cleaned):
        # The prefix keeps the name recognisable; a name starting with "_" is never a device name.
        cleaned = _fit("_" + cleaned, max_len)
    return cleaned


def _is_reserved(name: str) -> bool:
    # Windows ignores the extension and trailing spaces of the base when it matches device names: "con .txt".
    return name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED_NAMES


def _fit(name: str, max_len: int) -> str:
    """Within max_len characters and MAX_COMPONENT_BYTES bytes, keeping a short extension; no trailing dot/space."""
    name = name.rstrip(". ")
    if not name:
        return "_"
    if len(name) <= max_len and _utf8_len(name) <= MAX_COMPONENT_BYTES:
        return name
    stem, ext = _split_ext(name)
    if not ext or len(ext) >= max_len or _utf8_len(ext) >= MAX_COMPONENT_BYTES:
        stem, ext = name, ""
    stem = _cut(stem, max_len - len(ext), MAX_COMPONENT_BYTES - _utf8_len(ext)).rstrip(". ")
    return (stem + ext) if stem else _fit(ext.lstrip("."), max_len)


def _split_ext(name: str) -> tuple[str, str]:
    dot = name.rfind(".")
    if dot <= 0 or len(name) - dot > MAX_KEPT_EXTENSION:
        return name, ""
    return name[:dot], name[dot:]


def _cut(text: str, max_chars: int, max_bytes: int) -> str:
    text = text[: max(0, max_chars)]
    while _utf8_len(text) > max_bytes:
        text = text[:-1]
    return text


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def po_folder_name(po_key: str, status: PoStatus | str) -> str:
    """`<PO>_<STATUS>`; the key is shortened, never the status, so the folder always tells its outcome."""
    suffix = f"_{status}"
    return sanitize_component(po_key, max(1, DEFAULT_MAX_LEN - len(suffix))) + suffix


def _work_folder_name(po_key: str) -> str:
    return sanitize_component(po_key, DEFAULT_MAX_LEN - len(PO_FOLDER_WORK_SUFFIX)) + PO_FOLDER_WORK_SUFFIX


def parent_levels(record: PoRecord, supplier: str) -> tuple[str, ...]:
    """The folders above the PO folder: the hierarchy levels of the input, else the supplier."""
    if record.hierarchy:
        return tuple(sanitize_component(level.strip() or UNKNOWN_LEVEL) for level in record.hierarchy)
    # Never file a PO under "Unknown" when the input named its supplier and the portal showed none.
    return (sanitize_component(supplier.strip() or record.input_supplier.strip() or UNKNOWN_LEVEL),)


def work_folder(output_dir: Path, record: PoRecord, supplier: str) -> Path:
    return safe_join(output_dir, *parent_levels(record, supplier), _work_folder_name(record.key))


def final_folder(output_dir: Path, record: PoRecord, supplier: str, status: PoStatus | str) -> Path:
    return safe_join(output_dir, *parent_levels(record, supplier), po_folder_name(record.key, status))


def finalize(work: Path, final: Path) -> Path:
    """Make `final` the one folder of its PO: rename or merge `work` into it, then fold in the folders that
    earlier attempts left under other statuses. Files are moved, never dropped: a name clash between
    different contents keeps both (`_2`); an identical copy is kept once. The newest attempt's files keep
    their names, because the result lists them by name. `final` exists afterwards only if it holds something.
    Links and junctions are never followed: OutputLinkError names the first one met.
    """
    for path in (work, final):
        _refuse_link(path)
    long_path(final.parent).mkdir(parents=True, exist_ok=True)
    if long_path(work).is_dir():
        if not _names(work):
            long_path(work).rmdir()
        elif long_path(final).exists():
            _merge(work, final, incoming_wins=True)
        else:
            long_path(work).rename(long_path(final))
    po_key = _po_key_of(final.name)
    for old in _earlier_folders(final.parent, po_key, final.name) if po_key else ():
        long_path(final).mkdir(exist_ok=True)
        _merge(old, final, incoming_wins=False)
    return final


def _names(folder: Path) -> list[str]:
    """The entries of `folder`, sorted; read through long_path, and only names come back, so the paths popool
    builds from them stay in the plain form."""
    with os.scandir(long_path(folder)) as entries:  # closed at once: Windows cannot remove a folder held open
        return sorted(entry.name for entry in entries)


def _po_key_of(folder_name: str) -> str:
    """The PO part of a `<PO>_<STATUS>` folder name; empty if the name carries no status."""
    endings = sorted((f"_{status}" for status in PoStatus), key=len, reverse=True)
    ending = next((e for e in endings if folder_name.endswith(e) and len(folder_name) > len(e)), "")
    return folder_name[: -len(ending)] if ending else ""


def _earlier_folders(parent: Path, po_key: str, keep: str) -> list[Path]:
    names = {f"{po_key}_{status}".casefold() for status in PoStatus} | {(po_key + PO_FOLDER_WORK_SUFFIX).casefold()}
    names.discard(keep.casefold())
    found = [parent / name for name in _names(parent) if name.casefold() in names]
    for path in found:
        _refuse_link(path)
    return [p for p in found if long_path(p).is_dir()]


def _merge(src: Path, dst: Path, *, incoming_wins: bool) -> None:
    """Move everything in `src` into `dst`, then remove `src`."""
    for name in _names(src):
        entry, target = src / name, dst / name
        _refuse_link(entry)
        _refuse_link(target)
        long_entry, long_target = long_path(entry), long_path(target)
        if long_entry.is_dir():
            long_target.mkdir(exist_ok=True)
            _merge(entry, target, incoming_wins=incoming_wins)
        elif not long_target.exists():
            os.replace(long_entry, long_target)
        elif long_target.is_file() and filecmp.cmp(long_entry, long_target, shallow=False):
            if incoming_wins:
                os.replace(long_entry, long_target)
            else:
                long_entry.unlink()
        elif incoming_wins:
            os.replace(long_target, long_path(unique_path(dst, name)))
            os.replace(long_entry, long_target)
        else:
            os.replace(long_entry, long_path(unique_path(dst, name)))
    long_path(src).rmdir()


def _refuse_link(path: Path) -> None:
    if _is_link(path):
        raise OutputLinkError(path)


def _is_link(path: Path) -> bool:
    """A symlink, or on Windows a junction or other reparse point (Path.is_symlink misses junctions before 3.12)."""
    try:
        info = long_path(path).lstat()
    except FileNotFoundError:
        return False
    reparse = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0)
    return stat.S_ISLNK(info.st_mode) or bool(getattr(info, "st_file_attributes", 0) & reparse)


def attachment_file_name(po_key: str, original_name: str) -> str:
    """`<PO>_<name>`, unless the portal's name already starts with the PO (`PO123_x.pdf`, `PO123.pdf`)."""
    key = sanitize_component(po_key)
    name = original_name.strip() or "attachment"
    rest = name[len(key) :]
    # "PO1234567.pdf" starts with "PO123456" but is another PO's file: the key must end at a non-alphanumeric.
    if name.casefold().startswith(key.casefold()) and not (rest[:1].isalnum()):
        return sanitize_component(name)
    return sanitize_component(f"{key}_{name}")


def unique_path(folder: Path, file_name: str) -> Path:
    """A free path in `folder` for `file_name`: `name_2.ext`, `name_3.ext`... Names are compared
    case-insensitively, as Windows does, so two attachments never overwrite each other there."""
    name = sanitize_component(file_name)
    taken = {n.casefold() for n in _names(folder)} if long_path(folder).is_dir() else set()
    if name.casefold() not in taken:
        return folder / name
    stem, ext = _split_ext(name)
    n = 2
    while True:
        tag = f"_{n}"
        stem_cut = _cut(stem, DEFAULT_MAX_LEN - len(tag) - len(ext), MAX_COMPONENT_BYTES - len(tag) - _utf8_len(ext))
        candidate = sanitize_component(f"{stem_cut}{tag}{ext}")
        if candidate.casefold() not in taken:
            return folder / candidate
        n += 1


def safe_join(root: Path, *parts: str) -> Path:
    """`root / part / ...` with every part sanitised to one component; ValueError if the result is not inside
    root (a symlink inside root pointing elsewhere counts as outside)."""
    path = root.joinpath(*(sanitize_component(part) for part in parts))
    # Both in the plain form: resolving keeps the prefix of an extended path only, and one may need it, one not.
    resolved_root = plain_path(long_path(root).resolve())
    resolved = plain_path(long_path(path).resolve())
    if resolved == resolved_root or not resolved.is_relative_to(resolved_root):
        raise ValueError(f"path {path} is not inside the output folder {root}")
    return path


def long_path(path: Path, *, room: int = 0, windows: bool | None = None) -> Path:
    r"""`path` as Windows' file functions take it beyond MAX_PATH: absolute, normalised and extended
    (`\\?\C:\...`, `\\?\UNC\server\share\...`) when its plain form is longer than
    MAX_PLAIN_PATH; otherwise, and on other systems, `path` itself. An extended path is returned as it is.

    `room`: for a folder that something else names files in (tempfile), the characters those names add. For file
    operations only: what popool shows, logs or journals is the plain path. `windows` (default: this system)
    lets the Windows form be built and tested anywhere."""
    if not (sys.platform == "win32" if windows is None else windows):
        return path
    text = str(path)
    if text.startswith((_EXTENDED, _DEVICE)):
        return path
    # The prefix turns off Windows' own normalisation: no relative parts, no "..", no forward slashes; nor would
    # Windows strip a trailing dot or refuse "CON" any more, which sanitize_component already sees to.
    full = ntpath.abspath(text)
    if len(full) + room <= MAX_PLAIN_PATH:
        return path
    if full.startswith("\\\\"):
        return Path(_EXTENDED_UNC + full[2:])
    return Path(_EXTENDED + full)


def mkstemp_in(folder: Path, prefix: str, suffix: str) -> tuple[int, Path]:
    """`tempfile.mkstemp` in `folder`, through long_path when the temporary file's path needs it; the path
    returned is the one to open and replace from."""
    room = 1 + len(prefix) + TEMP_RANDOM_CHARS + len(suffix)
    fd, name = tempfile.mkstemp(dir=long_path(folder, room=room), prefix=prefix, suffix=suffix)
    return fd, Path(name)


def plain_path(path: Path) -> Path:
    """The user-facing form of a path `long_path` extended; any other path as it is."""
    text = str(path)
    if text.startswith(_EXTENDED_UNC):
        return Path("\\\\" + text[len(_EXTENDED_UNC) :])
    if text.startswith(_EXTENDED):
        return Path(text[len(_EXTENDED) :])
    return path


def os_error_text(exc: OSError) -> str:
    """What an OSError says, its paths in the plain form: `str(exc)` would show an extended path, escaped."""
    if exc.strerror is None:
        return str(exc)
    names = [plain_path(Path(os.fsdecode(n))) for n in (exc.filename, exc.filename2) if isinstance(n, str | bytes)]
    return f"{exc.strerror}: {' -> '.join(map(str, names))}" if names else exc.strerror
