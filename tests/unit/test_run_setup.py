"""One way to build a run: the CLI and the window read one file into one batch, with the profile's PO pattern."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from popool_gui.batch.input import InputError
from popool_gui.browser.portal import BUILTIN_DIR
from popool_gui.run_setup import input_output_dir, plan_run
from popool_gui.settings import Settings, SettingsError, load

PR_PATTERN = r"^PR-?(\d{7})$"


def pr_profile(tmp_path: Path) -> Path:
    """A tenant whose requests are numbered PR-0012345: Coupa's profile with another PO pattern and URL."""
    text = (BUILTIN_DIR / "coupa.toml").read_text(encoding="utf-8")
    text = text.replace('name = "coupa"', 'name = "acme-pr"')
    own = 'po_url = "{base_url}/requests/PR-{po_id}"\npo_id_regex = \'' + PR_PATTERN + "'"
    text = text.replace('po_url = "{base_url}/order_headers/{po_id}"', own)
    path = tmp_path / "acme-pr.toml"
    path.write_text(text, encoding="utf-8")
    return path


def pr_input(tmp_path: Path) -> Path:
    path = tmp_path / "requests.csv"
    path.write_text("PO_NUMBER;SUPPLIER\nPR-0012345;Acme\nPR0012346;Acme\nPO15262984;Other\n", encoding="utf-8")
    return path


def test_a_profile_with_its_own_po_pattern_reads_its_own_numbers(tmp_path: Path) -> None:
    settings = Settings().replace(portal=str(pr_profile(tmp_path)), base_url="https://acme.example")
    plan = plan_run(settings, pr_input(tmp_path))
    assert [r.po_id for r in plan.batch.records] == ["0012345", "0012346"]
    assert [p.row_number for p in plan.batch.invalid] == [3]  # a Coupa number is not this tenant's
    assert plan.portal.po_url_for("0012345") == "https://acme.example/requests/PR-0012345"


def test_the_windows_loaded_batch_is_the_plans_unless_the_po_pattern_changed(tmp_path: Path) -> None:
    from popool_gui.run_setup import default_portal, read_run_batch

    source = pr_input(tmp_path)
    loaded = read_run_batch(source, default_portal())  # the window loaded it before the profile was chosen
    coupa = Settings().replace(base_url="https://acme.example", output_dir=str(tmp_path / "out"))
    assert plan_run(coupa, source, already_read=(loaded, default_portal())).batch is loaded
    tenant = coupa.replace(portal=str(pr_profile(tmp_path)))
    plan = plan_run(tenant, source, already_read=(loaded, default_portal()))
    assert plan.batch == plan_run(tenant, source).batch, "read again, as the CLI reads it"
    assert [r.po_id for r in plan.batch.records] == ["0012345", "0012346"]


def test_a_file_with_a_header_and_no_po_numbers_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("PO_NUMBER;SUPPLIER\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no PO numbers in .*empty\.csv"):
        plan_run(Settings().replace(base_url="https://acme.example"), empty)


def test_a_bad_flag_value_names_the_flag_not_the_settings_file(tmp_path: Path) -> None:
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text("", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load(settings_file, {"workers": 0}, {"workers": "--workers"})
    assert "--workers: must be 1-8, not 0" in str(caught.value)
    assert str(settings_file) not in str(caught.value)
    settings_file.write_text("max_attempts = 0\n", encoding="utf-8")
    with pytest.raises(SettingsError) as both:
        load(settings_file, {"workers": 0}, {"workers": "--workers"})
    assert "--workers: must be 1-8" in str(both.value) and "setting 'max_attempts'" in str(both.value)
    assert str(settings_file) in str(both.value)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "popool_gui", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_cli_refuses_bad_input_before_any_browser_or_portal_check(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("PO_NUMBER\n", encoding="utf-8")
    # No base URL is set: the empty file is what is reported, before the portal's address is even looked at.
    done = run_cli("run", str(empty), "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2
    assert f"no PO numbers in {empty}" in done.stderr
    bad_flag = run_cli("run", str(pr_input(tmp_path)), "--workers", "0", cwd=tmp_path)
    assert bad_flag.returncode == 2
    assert "--workers: must be 1-8, not 0" in bad_flag.stderr and "settings.toml" not in bad_flag.stderr


@pytest.mark.parametrize(
    ("input_name", "folder"),
    [
        ("March orders.csv", "March orders"),
        ("orders.2026.xlsx", "orders.2026"),
        ("CON.csv", "_CON"),
        ("a:b*c?.csv", "a_b_c_"),
        ("   .csv", "popool"),
    ],
)
def test_each_input_gets_its_own_folder_inside_the_output_folder(input_name: str, folder: str, tmp_path: Path) -> None:
    assert input_output_dir(str(tmp_path / "Documents"), tmp_path / "in" / input_name) == (
        tmp_path / "Documents" / folder
    )


def test_a_run_an_earlier_version_kept_in_the_output_folder_itself_resumes_there(tmp_path: Path) -> None:
    """Before each list had its own folder, every run went to the output folder itself: that run stays there."""
    from popool_gui.batch.journal import Journal
    from popool_gui.run_setup import default_portal, read_run_batch

    base = tmp_path / "Documents"
    source = tmp_path / "orders.csv"
    source.write_text("PO_NUMBER\nPO15262984\n", encoding="utf-8")
    other = tmp_path / "other.csv"
    other.write_text("PO_NUMBER\nPO15262985\n", encoding="utf-8")
    with Journal.open(base, read_run_batch(source, default_portal())):
        pass
    assert input_output_dir(str(base), source) == base
    assert input_output_dir(str(base), other) == base / "other"
