"""Loading settings: a named file must exist and be a file; values that cannot be numbers or addresses are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from popool_gui.settings import Settings, SettingsError, load


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
