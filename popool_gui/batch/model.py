"""Statuses, records and snapshots shared by every part of popool.

This module is the single source of truth for PO statuses, result column names and the
states the GUI and CLI display.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class PoStatus(StrEnum):
    """Status of one purchase order (docs/domain.md), plus ASSIGNED for the journal's in-flight rows."""

    PENDING = "PENDING"
    ASSIGNED = "ASSIGNED"
    COMPLETED = "COMPLETED"
    PARTIAL = "PARTIAL"
    NO_ATTACHMENTS = "NO_ATTACHMENTS"
    PO_NOT_FOUND = "PO_NOT_FOUND"
    ACCESS_DENIED = "ACCESS_DENIED"
    AUTH_REQUIRED = "AUTH_REQUIRED"
    INVALID_PO = "INVALID_PO"
    FAILED = "FAILED"

    @property
    def is_final(self) -> bool:
        """A final status is never retried; a later run on the same output skips it."""
        return self in FINAL_STATUSES

    @property
    def is_filed(self) -> bool:
        """Whether an attempt that ends in this status keeps its files on disk, in the PO's folder."""
        return self in FILED_STATUSES


FINAL_STATUSES: frozenset[PoStatus] = frozenset(
    {
        PoStatus.COMPLETED,
        PoStatus.PARTIAL,
        PoStatus.NO_ATTACHMENTS,
        PoStatus.PO_NOT_FOUND,
        PoStatus.ACCESS_DENIED,
        PoStatus.INVALID_PO,
        PoStatus.FAILED,
    }
)

# The statuses whose attempt leaves its files on disk (batch/filing.py); any other attempt's work folder is removed.
FILED_STATUSES: frozenset[PoStatus] = frozenset({PoStatus.COMPLETED, PoStatus.PARTIAL, PoStatus.NO_ATTACHMENTS})

# What "Retry all failed" and `popool run --retry failed` take again: the POs a person wants another go at.
RETRY_STATUSES: frozenset[PoStatus] = frozenset({PoStatus.FAILED, PoStatus.AUTH_REQUIRED, PoStatus.PARTIAL})

# Statuses a results file may show; ASSIGNED is written as PENDING because an interrupted PO is not done.
REPORTED_STATUSES: tuple[PoStatus, ...] = tuple(s for s in PoStatus if s is not PoStatus.ASSIGNED)

# The result columns of docs/domain.md, in order, appended after the input's own columns.
COL_PO_NUMBER = "PO_NUMBER"
COL_STATUS = "STATUS"
COL_SUPPLIER = "SUPPLIER"
COL_FOUND = "ATTACHMENTS_FOUND"
COL_DOWNLOADED = "ATTACHMENTS_DOWNLOADED"
COL_NAMES = "AttachmentName"
COL_SOURCES = "AttachmentSource"  # aligned with AttachmentName: where on the PO each file hung (source_label)
COL_LAST_PROCESSED = "LAST_PROCESSED"
COL_ERROR = "ERROR_MESSAGE"
COL_FOLDER = "DOWNLOAD_FOLDER"
COL_URL = "COUPA_URL"
RESULT_COLUMNS: tuple[str, ...] = (
    COL_PO_NUMBER,
    COL_STATUS,
    COL_SUPPLIER,
    COL_FOUND,
    COL_DOWNLOADED,
    COL_NAMES,
    COL_SOURCES,
    COL_LAST_PROCESSED,
    COL_ERROR,
    COL_FOLDER,
    COL_URL,
)
# Result columns whose text comes from the portal (page text, file names, server errors, addresses): hostile,
# and made formula-safe in the results CSV.
PORTAL_COLUMNS: frozenset[str] = frozenset({COL_SUPPLIER, COL_NAMES, COL_SOURCES, COL_ERROR, COL_FOLDER, COL_URL})
# The house PO shape: PO or PM (optional), then 6 or more digits, the portal id. The input reader's default and
# the PO pattern of every built-in portal profile; a profile of a portal whose numbers differ sets its own.
DEFAULT_PO_ID_REGEX = r"^(?:P[OM])?[\s-]*(\d{6,})$"
ATTACHMENT_NAME_SEPARATOR = ";"
HIERARCHY_SEPARATOR_COLUMN = "<|>"
UNKNOWN_LEVEL = "Unknown"


@dataclass(frozen=True, slots=True)
class PoRecord:
    """One unique PO from the input, ready to be processed."""

    key: str  # the PO text as the user wrote it (trimmed); identity in journal and results
    po_id: str  # the portal id: digits only
    row_number: int  # 1-based data row number in the input file (header excluded) of its first occurrence
    row: dict[str, str]  # every input column, untouched
    hierarchy: tuple[str, ...] = ()  # folder levels from the columns after `<|>`
    input_supplier: str = ""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """An input row that cannot become a PO, reported as INVALID_PO and never dropped silently."""

    row_number: int
    value: str
    reason: str
    row: dict[str, str]


@dataclass(frozen=True, slots=True)
class Batch:
    """What the input reader produces: every row accounted for."""

    source: str  # absolute path of the input file
    source_hash: str  # sha256 of the input bytes; the journal refuses to mix inputs
    columns: tuple[str, ...]  # input header in order
    delimiter: str  # the input's delimiter (the results CSV reuses it); "," for xlsx
    po_column: str  # the header of the PO column as written in the file
    records: tuple[PoRecord, ...]  # unique POs to process, input order
    invalid: tuple[RowProblem, ...]  # rows with an unusable PO value
    duplicates: tuple[RowProblem, ...]  # later rows repeating a PO already listed (processed once)
    already_completed: tuple[PoRecord, ...]  # rows whose STATUS column already says COMPLETED

    def invalid_keys(self) -> list[str]:
        """The journal and results key of each `invalid` row, in order: its value, unless that is blank or
        already taken (invalid values repeat: "TBD" on fifty rows), then `row <n>` or `<value> (row <n>)`."""
        used = {r.key for r in (*self.records, *self.already_completed)}
        keys: list[str] = []
        for problem in self.invalid:
            value = problem.value.strip()
            if not value:
                key = f"row {problem.row_number}"
            else:
                key = value if value not in used else f"{value} (row {problem.row_number})"
            used.add(key)
            keys.append(key)
        return keys


def merged_supplier(found: str, known: str) -> str:
    """A result's supplier over the one known so far, but a blank never replaces a known supplier (docs/domain.md)."""
    return found or known


@dataclass(frozen=True, slots=True)
class DiskNeed:
    folder: str
    needed: int  # free bytes that would let the file in, with popool's reserve


class AttachmentSource(StrEnum):
    """Where on the PO an attachment hangs; both engines say so, and the results file names it."""

    HEADER = "header"
    LINE = "line"
    COMMENT = "comment"
    REQUISITION = "requisition"


_INTENT = re.compile(r"^[A-Za-z][A-Za-z -]{0,29}$")


def source_label(source: AttachmentSource, intent: str = "") -> str:
    """What the results say of one file: its source, and the intent the API gave it (`line (Supplier)`); an
    intent that is not a short plain word or two is left out rather than written."""
    return f"{source.value} ({intent})" if _INTENT.match(intent) else source.value


@dataclass(slots=True)
class PoResult:
    """The outcome of one attempt at one PO, as a worker reports it and the journal stores it."""

    key: str
    status: PoStatus
    supplier: str = ""
    attachments_found: int = 0
    attachments_downloaded: int = 0
    attachment_names: list[str] = field(default_factory=list)
    attachment_sources: list[str] = field(default_factory=list)  # source_label of each name, in the same order
    error: str = ""
    folder: str = ""
    url: str = ""
    worker: int | None = None
    attempts: int = 0
    started_at: float | None = None  # epoch seconds
    finished_at: float | None = None
    transient: bool = False  # a timeout, crash, network error or 5xx: worth another attempt
    # The PO's page was never reached (refused, reset, DNS, load timeout): one of these alone is the PO's, many in a
    # row are the portal's (pool/portal_watch.py). Not journaled.
    unreachable: bool = False
    # A disk had no room for a file: which folder's, and the free bytes it needs (pool/disk_watch.py). Not journaled.
    disk_full: DiskNeed | None = None
    # How long after its page loaded the first attachment appeared (render timing the run learns from).
    first_attachment_ms: int | None = None
    # NO_ATTACHMENTS only: how many looks saw the empty list (the verdict is final after the second).
    empty_looks: int = 0

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.started_at)


class RunState(StrEnum):
    IDLE = "Idle"
    STARTING = "Starting"
    RUNNING = "Running"
    STOPPING = "Stopping"
    FINISHED = "Finished"
    FAILED = "Failed"


class WorkerState(StrEnum):
    STARTING = "Starting"
    IDLE = "Idle"
    BUSY = "Busy"
    PAUSED = "Paused"
    RESTARTING = "Restarting"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    CRASHED = "Crashed"
    RETIRED = "Retired"

    @property
    def is_live(self) -> bool:
        """The worker has a process that may still run or come back; STOPPED and RETIRED ones never will."""
        return self not in (WorkerState.STOPPED, WorkerState.RETIRED)


class TabState(StrEnum):
    NONE = ""
    OPENING = "Opening"
    LOADING = "Loading"
    DOWNLOADING = "Downloading"
    CLOSING = "Closing"


@dataclass(frozen=True, slots=True)
class WorkerSnapshot:
    """Everything the worker table shows for one worker."""

    worker: int  # 1-based
    state: WorkerState
    pid: int | None = None  # worker process
    browser_pid: int | None = None
    current_po: str = ""
    tab_state: TabState = TabState.NONE
    tab_detail: str = ""  # e.g. "2 of 5" while downloading
    open_tabs: int = 0
    memory_mb: float = 0.0  # RSS of the worker's whole process tree
    done: int = 0
    failed: int = 0
    restarts: int = 0  # every new browser after the first: crashes, memory recycles, the user's Restarts
    crashes: int = 0  # the unplanned ones (crashes, hangs, timeouts), counted against max_restarts
    started_at: float | None = None  # epoch seconds of the current process start
    message: str = ""  # why it is paused/crashed/retired
    node: str = ""  # the Selenium Grid node its browser runs on; "" for a local browser
    # Where a busy worker is heading at the user's request (PAUSED or RESTARTING once its current PO is done);
    # None when nothing is pending. The window shows "Pausing..." or "Restarting..." from the moment it is asked.
    heading_to: WorkerState | None = None

    @property
    def state_text(self) -> str:
        if self.heading_to is WorkerState.PAUSED:
            return "Pausing..."
        if WorkerState.RESTARTING in (self.heading_to, self.state):
            return "Restarting..."
        return str(self.state)

    @property
    def shown_state(self) -> WorkerState:
        """The state whose colour the row shows: where it is heading, when it is heading somewhere."""
        return self.heading_to or self.state


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """Run-wide figures for the status bar and the CLI progress line."""

    state: RunState
    total: int = 0
    done: int = 0  # POs with a final status (this run and earlier runs)
    pending: int = 0
    in_flight: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # PoStatus value -> count
    started_at: float | None = None
    elapsed_s: float = 0.0
    rate_per_min: float = 0.0  # POs finished this run per minute, over the last ~30 s (pool/rolling_rate.py)
    eta_s: float | None = None  # None while the run is stalled or too young to tell: shown as "?"
    system_memory_pct: float = 0.0
    memory_threshold_pct: float = 0.0
    stop_deadline: float | None = None  # epoch seconds when a graceful stop turns forced
    message: str = ""
    waiting: str = ""  # while the run holds its queue (the portal is away, the disk is full): what it is doing
    waiting_for: str = ""  # the same in a few words: "the portal", "disk space"


@dataclass(frozen=True, slots=True)
class MemoryDecision:
    """A decision of the memory policy, shown to the user and logged."""

    at: float
    action: str  # "recycle", "hold", "release"
    worker: int | None
    system_pct: float
    worker_mb: float
    reason: str


@dataclass(frozen=True, slots=True)
class LogLine:
    """One structured log event, for the GUI log pane and the CLI."""

    at: float
    level: str
    event: str
    worker: int | None = None
    po: str = ""
    fields: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RenderFigures:
    """The portal's render timing as the run learned it (pool/render_timing.py), for the log and the summary."""

    samples: int = 0
    p95_ms: int | None = None
    empty_wait_ms: int = 0
    second_look_ms: int = 0
    second_looks: int = 0  # empty lists looked at again
    found_on_second_look: int = 0  # ... of which the second look found attachments


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a finished (or stopped) run reports: the GUI's summary dialog and the CLI's last lines."""

    state: RunState
    counts: dict[str, int]  # PoStatus value -> count over the whole batch
    total: int
    processed_this_run: int
    elapsed_s: float
    rate_per_min: float  # the whole run's average
    output_dir: str
    results_files: tuple[str, ...]
    stopped_early: bool = False
    message: str = ""
    render: RenderFigures = RenderFigures()
    report_file: str = ""  # popool-report.html, when it could be written

    @property
    def left_pending(self) -> int:
        """POs not worked to the end: waiting, or handed back by a Stop."""
        return sum(self.counts.get(s.value, 0) for s in (PoStatus.PENDING, PoStatus.ASSIGNED))

    @property
    def headline(self) -> str:
        """What became of the run, in one line: the window's summary and the report say the same."""
        if self.state is RunState.FAILED:
            return "The run failed"
        if self.stopped_early:
            left = self.left_pending
            return f"Stopped: {left:,} PO{'s' if left != 1 else ''} left pending"
        if self.state is RunState.FINISHED:
            return "Run finished"
        return f"Run {self.state.value.lower()}"
