"""One PO through the API: look it up by number, collect its attachments from every level, stage them
concurrently, file them in list order (so `_2` names fall as in browser mode) and conclude as the browser does
(`batch/filing.py`): the same folders, names, verification and statuses."""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from popool_gui.api.access import ApiSetupError
from popool_gui.api.attachments import NotFound, find_po, po_attachments, requisition_attachments
from popool_gui.api.client import ApiFailure
from popool_gui.api.files import Fetcher
from popool_gui.batch import layout
from popool_gui.batch.filing import FILED, Tally, conclude, fail, shown_name
from popool_gui.batch.model import PoRecord, PoResult, PoStatus, source_label
from popool_gui.browser.downloads import IncompleteDownloadError, move_verified
from popool_gui.browser.portal import PortalProfile

log = structlog.get_logger()

SCOPE_ERROR = "insufficient_scope"


@dataclass(frozen=True, slots=True)
class PoJob:
    fetcher: Fetcher
    portal: PortalProfile
    output_dir: Path


async def process_po(job: PoJob, record: PoRecord, attempt: int) -> PoResult:
    """Every problem becomes the result; nothing of a failed attempt stays on disk."""
    supplier_fallback = record.input_supplier or record.row.get(job.portal.supplier.input_column, "").strip()
    result = PoResult(
        key=record.key,
        status=PoStatus.FAILED,
        supplier=supplier_fallback,
        url=job.portal.po_url_for(record.po_id),
        attempts=attempt,
        started_at=time.time(),
    )
    tally = Tally()
    try:
        await _run(job, record, result, tally)
    except NotFound:
        result.status, result.error = PoStatus.PO_NOT_FOUND, "the API has no PO with this number"
    except ApiFailure as exc:
        if exc.status == 403 and exc.code != SCOPE_ERROR:
            result.status, result.error = PoStatus.ACCESS_DENIED, "the API denies access to this PO"
        else:
            fail(result, str(exc), unreachable=exc.unreachable)
            result.transient = exc.transient
    except ApiSetupError as exc:  # the client was refused mid-run (its secret revoked): no attempt does better
        fail(result, str(exc))
        result.transient = False
    finally:
        result.finished_at = time.time()
        if result.status not in FILED and tally.work is not None:
            shutil.rmtree(tally.work, ignore_errors=True)
    return result


async def _run(job: PoJob, record: PoRecord, result: PoResult, tally: Tally) -> None:
    client = job.fetcher.client
    po = await find_po(client, record.po_id)
    if po.supplier:
        result.supplier = po.supplier
    found = await po_attachments(client, po)
    # The profile's rule, as in browser mode, so both modes take the same requisition files.
    if job.portal.requisition.wanted([a.name for a in found]):
        found += await requisition_attachments(client, po)
    work = tally.work = layout.work_folder(job.output_dir, record, result.supplier)
    if work.exists():
        shutil.rmtree(work)  # leftovers of an earlier attempt would turn into duplicates
    tally.found = len(found)
    staged = await asyncio.gather(*(job.fetcher.stage(a) for a in found), return_exceptions=True)
    stop = next((o for o in staged if isinstance(o, BaseException) and not _missing_only(o)), None)
    if stop is not None:
        for outcome in staged:
            if isinstance(outcome, tuple):
                outcome[0].unlink(missing_ok=True)
        raise stop  # a denial is the PO's verdict; anything else is a bug the lane reports
    for attachment, outcome in zip(found, staged, strict=True):
        if isinstance(outcome, BaseException):
            tally.missing.append(f"{attachment.name}: {outcome}")
            continue
        path, served = outcome
        work.mkdir(parents=True, exist_ok=True)
        dest = layout.unique_path(work, layout.attachment_file_name(record.key, shown_name(attachment.name, served)))
        try:
            move_verified(path, dest, attachment.size)
        except (IncompleteDownloadError, OSError) as exc:
            path.unlink(missing_ok=True)
            tally.missing.append(f"{attachment.name}: {exc}")
            continue
        tally.keep(dest, source_label(attachment.source, attachment.intent))
        log.debug("api_file_saved", source=attachment.source.value, intent=attachment.intent, name=dest.name)
    conclude(result, tally, job.output_dir, record, work)


def _missing_only(error: BaseException) -> bool:
    """A file that did not come, which leaves the rest of the PO to conclude on."""
    return isinstance(error, ApiFailure) and not (error.status == 403 and error.code != SCOPE_ERROR)
