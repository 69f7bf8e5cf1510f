"""Loading settings: a named file must exist and be a file; values that cannot be numbers or addresses are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from popool_gui.settings import FIELD_NAMES, LOG_LEVELS, SPECS, BrowserKind, Settings, SettingsError, choices, load


def test_the_users_missing_settings_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POPOOL_CONFIG_DIR", str(tmp_path / "nowhere"))
    assert load() == Settings()


def test_a_named_settings_file_that_is_missing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"(?s)missing\.toml.*file not found: check the path"):
        load(tmp_path / "missing.toml")


def test_a_named_settings_file_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"is a folder, not a settings file: name the \.toml file inside it"):
        load(tmp_path)


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400"])
def test_a_whole_number_setting_given_infinity_is_named(tmp_path: Path, value: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(f"tabs_per_worker = {value}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"setting 'tabs_per_worker': must be a whole number, not"):
        load(path)


@pytest.mark.parametrize("url", ["http://", "https://:80", "http://host:port", "ftp://acme.example", "http://[::1"])
def test_a_base_url_without_a_host_is_blamed_on_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("POPOOL_CONFIG_DIR", str(tmp_path))
    with pytest.raises(SettingsError) as caught:
        load(None, {"base_url": url}, {"base_url": "--base-url"})
    assert str(caught.value).startswith("invalid settings in the command line:")
    assert "--base-url: must be an http:// or https:// address with a host name" in str(caught.value)


def test_a_base_url_with_a_host_and_port_is_accepted() -> None:
    assert not Settings().replace(base_url="http://127.0.0.1:8080", grid_url="https://grid.example").validate()


def test_every_setting_is_declared_with_a_label_and_help() -> None:
    assert set(SPECS) == set(FIELD_NAMES)
    for name, spec in SPECS.items():
        assert spec.label and spec.help and not spec.help.endswith("."), name


@pytest.mark.parametrize("name", [name for name, spec in SPECS.items() if spec.range is not None])
def test_each_declared_range_is_what_validation_allows(name: str) -> None:
    low, high = SPECS[name].range or (0, 0)
    for fine in (low, high):
        assert not [p for p in Settings().replace(**{name: fine}).validate() if p.name == name], (name, fine)
    for bad in (low - 1, high + 1):
        settings = Settings().replace(**{name: bad})
        problems = [p.message for p in settings.validate() if p.name == name]
        assert problems == [f"must be {low}-{high}{SPECS[name].unit}, not {getattr(settings, name)}"], name


def test_the_choices_of_a_setting_are_its_enums_or_its_declared_ones() -> None:
    assert choices("browser") == tuple(kind.value for kind in BrowserKind)
    assert choices("log_level") == SPECS["log_level"].choices == LOG_LEVELS
    assert choices("output_dir") == ()
    problems = Settings().replace(log_level="loud", results_format="pdf").validate()
    assert {p.name: p.message for p in problems} == {
        "results_format": "must be one of csv+xlsx, csv, xlsx, not 'pdf'",
        "log_level": "must be one of debug, info, warning, error, not 'loud'",
    }
