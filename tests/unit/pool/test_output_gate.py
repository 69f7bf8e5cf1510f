"""The one gate to an output folder: open, check, retry, retry failed and start over, each under the folder's lock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from popool_gui.batch.input import read_batch
from popool_gui.batch.journal import JOURNAL_DIR, JOURNAL_FILE, Journal, JournalCorruptError, JournalMismatchError
from popool_gui.batch.model import Batch, PoResult, PoStatus
from popool_gui.pool.output_gate import OutputGate
from popool_gui.pool.output_lock import OutputInUseError
from popool_gui.settings import ResultsFormat, Settings


def batch_of(path: Path, ids: list[str]) -> Batch:
    path.write_text("PO_NUMBER\n" + "\n".join(ids) + "\n", encoding="utf-8")
    return read_batch(path)


def gate(folder: Path) -> OutputGate:
    return OutputGate(folder, ResultsFormat.CSV)


def finished(folder: Path, batch: Batch, statuses: dict[str, PoStatus]) -> None:
    """A run that ended with these results, its folder given back."""
    held = gate(folder)
    journal = held.open(batch)
    for key, status in statuses.items():
        journal.record(PoResult(key=key, status=status, attempts=1, supplier="Acme"))
    held.close()


def statuses(folder: Path, batch: Batch) -> dict[str, PoStatus]:
    with Journal.open(folder, batch) as journal:
        return {r.key: r.status for r in journal.all_results()}


@pytest.fixture
def batch(tmp_path: Path) -> Batch:
    return batch_of(tmp_path / "in.csv", ["PO100001", "PO100002", "PO100003", "PO100004"])


def test_the_gate_of_the_settings_is_their_resolved_output_folder(tmp_path: Path) -> None:
    settings = Settings().replace(output_dir=str(tmp_path / "a" / ".." / "out"), results_format=ResultsFormat.XLSX)
    assert OutputGate.of(settings).folder == tmp_path / "out"


def test_a_run_holds_the_folder_until_it_closes(tmp_path: Path, batch: Batch) -> None:
    out = tmp_path / "out"
    run = gate(out)
    journal = run.open(batch)
    assert run.is_open and run.journal is journal
    for request in (
        lambda: gate(out).check(batch),
        lambda: gate(out).retry(batch, ["PO100001"]),
        lambda: gate(out).open(batch),
    ):
        with pytest.raises(OutputInUseError):
            request()
    run.close()
    assert not run.is_open
    gate(out).check(batch)
    with pytest.raises(RuntimeError):
        _ = run.journal


def test_a_refused_open_gives_the_folder_back(tmp_path: Path, batch: Batch) -> None:
    out = tmp_path / "out"
    finished(out, batch, {})
    other = batch_of(tmp_path / "other.csv", ["PO200001"])
    with pytest.raises(JournalMismatchError):
        gate(out).open(other)
    gate(out).open(other, accept_new_input=True).close()


def test_check_names_another_inputs_journal_and_changes_nothing(tmp_path: Path, batch: Batch) -> None:
    out = tmp_path / "out"
    finished(out, batch, {"PO100001": PoStatus.FAILED})
    journal_file = out / JOURNAL_DIR / JOURNAL_FILE
    before = journal_file.read_bytes()
    with pytest.raises(JournalMismatchError):
        gate(out).check(batch_of(tmp_path / "other.csv", ["PO200001"]))
    gate(out).check(batch)
    assert journal_file.read_bytes() == before


def test_retry_between_runs_resets_those_pos_under_the_lock(tmp_path: Path, batch: Batch) -> None:
    out = tmp_path / "out"
    finished(out, batch, {"PO100001": PoStatus.COMPLETED, "PO100002": PoStatus.FAILED})
    assert gate(out).retry(batch, ["PO100001", "unknown"]) == ["PO100001"]
    assert statuses(out, batch)["PO100001"] is PoStatus.PENDING
    assert statuses(out, batch)["PO100002"] is PoStatus.FAILED


def test_retry_failed_takes_the_retry_statuses_in_input_order(tmp_path: Path, batch: Batch) -> None:
    out = tmp_path / "out"
    finished(
        out,
        batch,
        {
            "PO100001": PoStatus.PARTIAL,
            "PO100002": PoStatus.COMPLETED,
            "PO100003": PoStatus.AUTH_REQUIRED,
            "PO100004": PoStatus.FAILED,
        },
    )
    assert gate(out).retry_failed(batch) == ["PO100001", "PO100003", "PO100004"]
    assert statuses(out, batch)["PO100002"] is PoStatus.COMPLETED


def test_retry_failed_on_a_gate_held_for_a_run_uses_the_runs_journal(tmp_path: Path, batch: Batch) -> None:
    out = tmp_path / "out"
    finished(out, batch, {"PO100004": PoStatus.FAILED})
    run = gate(out)
    journal = run.open(batch)
    assert run.retry_failed(batch) == ["PO100004"]
    assert journal.result("PO100004").status is PoStatus.PENDING
    assert run.is_open, "the run keeps the folder"
    run.close()


def test_a_retry_while_another_run_holds_the_folder_changes_nothing(tmp_path: Path, batch: Batch) -> None:
    out = tmp_path / "out"
    finished(out, batch, {"PO100004": PoStatus.FAILED})
    run = gate(out)
    run.open(batch)
    with pytest.raises(OutputInUseError):
        gate(out).retry_failed(batch)
    assert run.journal.result("PO100004").status is PoStatus.FAILED
    run.close()


def test_requests_of_one_process_take_turns(tmp_path: Path, batch: Batch) -> None:
    out = tmp_path / "out"
    finished(out, batch, {key: PoStatus.FAILED for key in ("PO100001", "PO100002", "PO100003", "PO100004")})
    errors: list[BaseException] = []

    def retry(keys: list[str]) -> None:
        try:
            gate(out).retry(batch, keys)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=retry, args=([key],)) for key in ("PO100001", "PO100002", "PO100003")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert list(statuses(out, batch).values()).count(PoStatus.PENDING) == 3


def test_start_over_forgets_a_damaged_journal_under_the_lock(tmp_path: Path, batch: Batch) -> None:
    out = tmp_path / "out"
    (out / JOURNAL_DIR).mkdir(parents=True)
    (out / JOURNAL_DIR / JOURNAL_FILE).write_bytes(b"not a database" * 100)
    with pytest.raises(JournalCorruptError):
        gate(out).check(batch)
    with pytest.raises(JournalCorruptError):
        gate(out).open(batch)
    run = gate(out)
    journal = run.open(batch, start_over=True)
    assert journal.counts() == {"PENDING": 4}
    run.close()


def test_start_over_never_touches_a_folder_another_run_holds(tmp_path: Path, batch: Batch) -> None:
    out = tmp_path / "out"
    finished(out, batch, {"PO100001": PoStatus.COMPLETED})
    run = gate(out)
    run.open(batch)
    with pytest.raises(OutputInUseError):
        gate(out).open(batch, start_over=True)
    assert run.journal.result("PO100001").status is PoStatus.COMPLETED
    run.close()


def test_a_free_folder_beside_is_new_or_already_this_lists(tmp_path: Path, batch: Batch) -> None:
    taken = tmp_path / "pos"
    other = batch_of(tmp_path / "other.csv", ["PO200001"])
    finished(taken, other, {})
    assert gate(taken).free_folder_beside(batch) == tmp_path / "pos (2)"
    (tmp_path / "pos (2)").mkdir()  # a folder that holds no popool run: passed over, and left without one
    finished(tmp_path / "pos (3)", other, {})  # another list's run
    finished(tmp_path / "pos (4)", batch, {})  # this list's run
    assert gate(taken).free_folder_beside(batch) == tmp_path / "pos (4)"
    assert not (tmp_path / "pos (2)" / JOURNAL_DIR).exists()
    run = gate(tmp_path / "pos (4)")
    run.open(batch)
    assert gate(taken).free_folder_beside(batch) == tmp_path / "pos (5)", "a folder in use is not free"
    run.close()


def test_start_over_never_forgets_a_readable_journal(tmp_path: Path, batch: Batch) -> None:
    out = tmp_path / "out"
    finished(out, batch, {"PO100001": PoStatus.COMPLETED})
    run = gate(out)
    assert run.open(batch, start_over=True).result("PO100001").status is PoStatus.COMPLETED
    run.close()
    with pytest.raises(JournalMismatchError):
        gate(out).open(batch_of(tmp_path / "other.csv", ["PO200001"]), start_over=True)
    assert statuses(out, batch)["PO100001"] is PoStatus.COMPLETED
