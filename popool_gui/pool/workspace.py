"""A run's places on disk: the output folder with its lock and journal (held through `OutputGate`), and the private
run folder with the workers' profile folders (fresh, or clones of the user's profile) and download staging
folders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from popool_gui.batch.journal import Journal
from popool_gui.batch.model import Batch
from popool_gui.browser.backend import backend_kind
from popool_gui.browser.profiles import clone_profile
from popool_gui.pool import run_folder
from popool_gui.pool.output_gate import OutputGate
from popool_gui.settings import Settings

Say = Callable[..., None]

# A Grid run's one local browser: it signs in and hands the portal's cookies to the workers' Grid sessions.
SIGN_IN_BROWSER = 0


class Workspace:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.gate = OutputGate.of(settings)  # the output folder and its journal: held for the run
        self.output_dir = self.gate.folder
        self.run_dir: Path | None = None
        self._profiles: dict[int, Path | None] = {}

    @property
    def journal(self) -> Journal:
        return self.gate.journal

    @property
    def is_open(self) -> bool:
        return self.gate.is_open

    def open(self, batch: Batch, *, accept_new_input: bool, start_over: bool = False) -> None:
        """Take the output folder and open its journal (`OutputGate.open`); raises OutputFolderError,
        OutputInUseError or JournalMismatchError."""
        self.gate.open(batch, accept_new_input=accept_new_input, start_over=start_over)

    def close(self) -> None:
        self.gate.close()

    def prepare(self, workers: Iterable[int], say: Say) -> None:
        """The run folder and one profile folder per worker, made once and reused by its restarts.

        On a Grid the workers' browsers run on the nodes, where no local profile reaches: the one profile is the
        local sign-in browser's (`SIGN_IN_BROWSER`)."""
        self.run_dir = run_folder.create()
        workers = list(workers) if backend_kind(self.settings).browsers_here else [SIGN_IN_BROWSER]
        root = self.run_dir
        if not self.settings.profile_dir:
            for worker in workers:
                path = root / f"profile-{worker}"
                path.mkdir()
                self._profiles[worker] = path
            return
        source = Path(self.settings.profile_dir)

        def one(worker: int) -> Path:
            info = clone_profile(source, self.settings.profile_name, root / f"profile-{worker}")
            say(
                "info",
                "profile_cloned",
                worker=worker,
                files=info.files,
                mb=round(info.bytes / 1e6, 1),
                seconds=round(info.seconds, 2),
            )
            return info.path

        with ThreadPoolExecutor(max_workers=len(workers)) as pool:
            self._profiles = dict(zip(workers, pool.map(one, workers), strict=True))

    def profile(self, worker: int) -> Path | None:
        return self._profiles.get(worker)

    def staging(self, worker: int) -> Path:
        assert self.run_dir is not None
        path = self.run_dir / f"staging-{worker}"
        path.mkdir(exist_ok=True)
        return path

    def remove_run_folder(self) -> list[str]:
        """Clones and staging go one by one: a folder Windows still holds open must not keep the others."""
        return run_folder.remove(self.run_dir) if self.run_dir is not None else []


def sweep_stale(say: Say) -> None:
    """Remove the run folders of popool runs that were killed outright."""
    for folder, owner in run_folder.sweep():
        say("info", "stale_run_folder_removed", path=str(folder), owner=owner.describe())
