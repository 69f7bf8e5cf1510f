"""One way to build a run: Settings in, the portal profile, the batch and the output folder out.

`popool run`, `popool demo`, `self-test` and the window all go through here (`plan_run`), so one input file gives
one batch whatever the front end: the batch is read with the PO pattern of the portal profile the run will use.
What then happens to the output folder's journal goes through `pool/output_gate.py`, for every front end too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from popool_gui.batch.input import InputError, read_batch
from popool_gui.batch.layout import sanitize_component
from popool_gui.batch.model import Batch
from popool_gui.batch.recent_runs import read_run
from popool_gui.browser.portal import PortalProfile, load_portal
from popool_gui.pool.output_folder import ensure_output_dir
from popool_gui.safe_text import printable
from popool_gui.settings import Settings

DEMO_COUNT = 40  # POs in the demo's sample, from the command line and from the window alike


@dataclass(frozen=True, slots=True)
class RunPlan:
    settings: Settings
    portal: PortalProfile
    batch: Batch


def output_dir(settings: Settings) -> Path:
    """The output folder as every part of popool resolves it."""
    return Path(settings.output_dir).expanduser().resolve()


def input_output_dir(base: str, input_path: Path) -> Path:
    """A PO list's own folder inside the output folder, named after the file: two lists never share a journal or
    a results file unless the user chooses so. A run that earlier versions put in the output folder itself (one
    folder for every list) stays there, so it resumes."""
    root = Path(base).expanduser().resolve()
    earlier = read_run(root)
    if earlier is not None and earlier.input_file and _same_file(earlier.input_file, input_path):
        return root
    return root / sanitize_component(Path(input_path).stem.strip() or "popool")


def _same_file(recorded: str, input_path: Path) -> bool:
    try:
        return Path(recorded).resolve() == Path(input_path).resolve()
    except (OSError, ValueError):
        return False


def demo_overrides(portal_url: str, output: Path) -> dict[str, Any]:
    """What a demo run changes in the user's settings: everything portal-related is the demo's, the browser
    settings (driver, binary, headless) stay the user's."""
    return {"portal": "demo", "base_url": portal_url, "output_dir": str(output), "profile_dir": "", "grid_url": ""}


def run_portal(settings: Settings) -> PortalProfile:
    """The profile named by the settings, with their base URL; PortalError names the bad key or file."""
    return load_portal(settings.portal, settings.base_url)


def default_portal() -> PortalProfile:
    """The default settings' profile: what a file is read with while the chosen profile cannot be loaded."""
    return load_portal(Settings().portal)


def read_run_batch(path: Path, portal: PortalProfile) -> Batch:
    """The input file read with the profile's PO pattern; a file without a single PO number is refused."""
    batch = read_batch(path, portal.po_id_regex)
    if not (batch.records or batch.invalid or batch.duplicates or batch.already_completed):
        raise InputError(
            f"no PO numbers in {printable(batch.source)}: the file has a header but no rows below it. "
            "Add the PO numbers under the PO_NUMBER column and load it again."
        )
    return batch


def plan_run(
    settings: Settings, input_path: Path, *, already_read: tuple[Batch, PortalProfile] | None = None
) -> RunPlan:
    """Everything a run needs that can be checked before any browser starts; the output folder is made.

    `already_read`: the batch the window read from `input_path` when it was loaded, and the profile whose PO pattern
    read it. It is taken as it is unless the run's profile has another pattern: then the file is read again."""
    portal = run_portal(settings)
    if already_read is not None and already_read[1].po_id_regex == portal.po_id_regex:
        batch = already_read[0]
    else:
        batch = read_run_batch(input_path, portal)
    portal.require_base_url()
    ensure_output_dir(output_dir(settings), settings.results_format, input_path)  # last: it makes the folder
    return RunPlan(settings=settings, portal=portal, batch=batch)
