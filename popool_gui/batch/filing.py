"""How one attempt at a PO ends on disk, whichever engine did the work (browser or API): what was found and
saved becomes the status, and the saved files their PO's final folder."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from popool_gui.batch import layout
from popool_gui.batch.model import FILED_STATUSES, PoRecord, PoResult, PoStatus

FILED = FILED_STATUSES  # the name both engines (browser/po_page.py, api/po_job.py) use with the rest of filing


@dataclass(slots=True)
class Tally:
    work: Path | None = None  # the PO's work folder once known
    found: int = 0
    saved: list[Path] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # source_label of each saved file
    missing: list[str] = field(default_factory=list)

    def keep(self, path: Path, source: str) -> None:
        self.saved.append(path)
        self.sources.append(source)


def fail(result: PoResult, error: str, *, unreachable: bool = False) -> None:
    result.status = PoStatus.FAILED
    result.transient = True
    result.error = error
    result.unreachable = unreachable


def conclude(result: PoResult, tally: Tally, output_dir: Path, record: PoRecord, work: Path) -> None:
    """The PO's status from what was found and saved: a negative verdict only for a list read to the end.

    Files that did not arrive make the attempt transient, so the PO is tried again while it has attempts left;
    with some files on disk it is PARTIAL (its folder kept, merged into the next attempt's), with none FAILED.
    """
    result.attachments_found = tally.found
    result.attachments_downloaded = len(tally.saved)
    result.attachment_names = [p.name for p in tally.saved]
    result.attachment_sources = list(tally.sources)
    if tally.found == 0:
        result.status = PoStatus.NO_ATTACHMENTS
    elif not tally.missing:
        result.status = PoStatus.COMPLETED
    elif tally.saved:
        result.status = PoStatus.PARTIAL
        result.transient = True
        result.error = "missing: " + "; ".join(tally.missing)
    else:
        fail(result, f"none of the {tally.found} attachments could be downloaded: " + "; ".join(tally.missing))
    if tally.saved:
        final = layout.final_folder(output_dir, record, result.supplier, result.status)
        result.folder = str(layout.finalize(work, final))
    else:
        shutil.rmtree(layout.long_path(work), ignore_errors=True)


def shown_name(shown: str, served: str) -> str:
    """The name the portal shows; the served file's extension is kept when the shown name has none."""
    if not shown:
        return served
    if not Path(shown).suffix and Path(served).suffix:
        return shown + Path(served).suffix
    return shown
