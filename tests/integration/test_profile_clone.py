"""Profile clones: what is copied and skipped, all-or-nothing copies, safe removal, and a real signed-in clone."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from popool_gui.browser import profiles
from popool_gui.browser.errors import ProfileCloneError
from popool_gui.browser.profiles import CLONE_MARKER, clone_profile, remove_clone

# What a clone must never carry: saved passwords, payment and autofill data, history.
PRIVATE_FILES = (
    "Login Data",
    "Login Data-journal",
    "Login Data For Account",
    "Web Data",
    "Account Web Data",
    "History",
    "Visited Links",
    "Top Sites",
    "Shortcuts",
    "Favicons",
    "Network Action Predictor",
)


def fake_user_data(root: Path) -> Path:
    """The shape of a Chromium 'User Data' folder, with the caches and locks a clone must skip."""
    (root / "Default" / "Network").mkdir(parents=True)
    (root / "Local State").write_text('{"os_crypt": {}}', encoding="utf-8")
    (root / "SingletonLock").write_text("host-1", encoding="utf-8")
    keep = {
        "Default/Preferences": "{}",
        "Default/Cookies": "sqlite-linux",
        "Default/Network/Cookies": "sqlite",
        "Default/Network/Cookies-journal": "j",
        "Default/Local Storage/leveldb/000003.log": "x",
        "Default/Local Storage/leveldb/LOCK": "",
    }
    skip = {
        **{f"Default/{name}": "private" for name in PRIVATE_FILES},
        "Default/Extension State/CURRENT": "y",
        "Default/Network/TransportSecurity": "hsts",
        "Default/Cache/Cache_Data/data_0": "c",
        "Default/Code Cache/js/index": "c",
        "Default/GPUCache/data_1": "c",
        "Default/Service Worker/Database/x": "c",
        "Default/Session Storage/000001.log": "s",
        "Default/IndexedDB/db/1": "i",
        "Default/Sessions/Session_1": "s",
        "Default/Current Tabs": "t",
        "Default/Last Session": "t",
        "Default/lockfile": "",
        "Default/SingletonCookie": "",
    }
    for rel, text in {**keep, **skip}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_clone_copies_the_profile_without_caches(tmp_path):
    source = fake_user_data(tmp_path / "User Data")
    info = clone_profile(source, "Default", tmp_path / "clones" / "profile-1")
    dest = info.path
    assert dest == tmp_path / "clones" / "profile-1"
    assert (dest / CLONE_MARKER).is_file()
    assert (dest / "Local State").read_text(encoding="utf-8") == '{"os_crypt": {}}'
    assert (dest / "Default" / "Network" / "Cookies").read_text(encoding="utf-8") == "sqlite"
    assert (dest / "Default" / "Cookies").read_text(encoding="utf-8") == "sqlite-linux"
    assert (dest / "Default" / "Local Storage" / "leveldb" / "LOCK").exists()
    for skipped in (
        "Cache",
        "Code Cache",
        "GPUCache",
        "Service Worker",
        "Session Storage",
        "IndexedDB",
        "Sessions",
        "Current Tabs",
        "Last Session",
        "lockfile",
        "SingletonCookie",
    ):
        assert not (dest / "Default" / skipped).exists(), skipped
    assert not (dest / "SingletonLock").exists()
    for private in (*PRIVATE_FILES, "Extension State", "Network/TransportSecurity"):
        assert not (dest / "Default" / private).exists(), private
    assert info.files == 7  # Local State + the six kept profile files
    assert info.bytes == sum(p.stat().st_size for p in dest.rglob("*") if p.is_file() and p.name != CLONE_MARKER)
    assert info.seconds >= 0
    assert not list((tmp_path / "clones").glob("*.tmp-*"))


def assert_private_to_the_user(clone: Path) -> None:
    for path in [clone, *clone.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        assert mode == wanted, f"{path.relative_to(clone.parent)} has mode {mode:o}, not {wanted:o}"


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_a_clone_is_readable_by_the_user_alone(tmp_path):
    source = fake_user_data(tmp_path / "User Data")
    for path in source.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    info = clone_profile(source, "Default", tmp_path / "clones" / "profile-1")
    assert_private_to_the_user(info.path)


def test_a_locked_file_leaves_no_half_copy(tmp_path, monkeypatch):
    source = fake_user_data(tmp_path / "User Data")
    real_copy = shutil.copyfile

    def locked(src, dst, *args, **kwargs):
        if Path(src).name == "Cookies":
            raise PermissionError(13, "Permission denied", str(src))
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(profiles.shutil, "copyfile", locked)
    with pytest.raises(ProfileCloneError) as info:
        clone_profile(source, "Default", tmp_path / "clones" / "profile-1")
    assert "Cookies" in str(info.value) and "close Edge/Chrome" in str(info.value)
    assert list((tmp_path / "clones").iterdir()) == []


def test_a_short_copy_is_refused(tmp_path, monkeypatch):
    source = fake_user_data(tmp_path / "User Data")
    real_copy = profiles._copy_file

    def loses_preferences(src: Path, dst: Path) -> int:
        # As if the file vanished between the copy and the check: the count no longer matches.
        return 0 if src.name == "Preferences" else real_copy(src, dst)

    monkeypatch.setattr(profiles, "_copy_file", loses_preferences)
    with pytest.raises(ProfileCloneError, match="clone incomplete: 6 files copied of 7"):
        clone_profile(source, "Default", tmp_path / "clones" / "profile-1")
    assert list((tmp_path / "clones").iterdir()) == []


def test_clone_refuses_bad_sources(tmp_path):
    source = fake_user_data(tmp_path / "User Data")
    with pytest.raises(ProfileCloneError, match="no profile folder 'Profile 9'"):
        clone_profile(source, "Profile 9", tmp_path / "c1")
    (source / "Local State").unlink()
    with pytest.raises(ProfileCloneError, match="Local State"):
        clone_profile(source, "Default", tmp_path / "c2")


def test_clone_refuses_an_existing_destination(tmp_path):
    source = fake_user_data(tmp_path / "User Data")
    (tmp_path / "busy").mkdir()
    with pytest.raises(ProfileCloneError, match="already exists"):
        clone_profile(source, "Default", tmp_path / "busy")


def test_remove_clone_deletes_only_marked_folders(tmp_path):
    source = fake_user_data(tmp_path / "User Data")
    info = clone_profile(source, "Default", tmp_path / "clone")
    with pytest.raises(ProfileCloneError, match="not a popool profile clone"):
        remove_clone(source)
    assert (source / "Default" / "Network" / "Cookies").exists()
    remove_clone(info.path)
    assert not info.path.exists()
    remove_clone(info.path)  # already gone: nothing to do


@pytest.mark.browser
def test_a_clone_of_a_signed_in_chromium_profile_stays_signed_in(chromium_settings, tmp_path):
    """Sign in once through the demo's SSO page, clone that real profile, and start a worker on the clone."""
    from selenium.webdriver.common.by import By

    from popool_gui.batch.model import PoRecord, PoStatus
    from popool_gui.browser.portal import load_portal
    from popool_gui.browser.session import BrowserSession
    from popool_gui.demo.server import demo_portal

    user_data = tmp_path / "User Data"
    with demo_portal(sign_in="sso") as portal:
        profile = load_portal("demo", portal.url)
        person = BrowserSession(
            chromium_settings, profile, worker=1, staging_dir=tmp_path / "s1", user_data_dir=user_data
        )
        try:
            person.start()
            assert person.sign_in_again()[0] is False  # the SSO page waits for a person
            assert person.driver is not None
            person.driver.find_element(By.ID, "sso_continue").click()
            assert person.sign_in_again() == (True, "signed in")
        finally:
            person.quit()  # a clean exit writes the cookie store
        assert portal.sign_ins == 1
        assert (user_data / "Default").is_dir()

        root = tmp_path / "clones"
        try:
            info = clone_profile(user_data, "Default", root / "worker-1")
            assert info.files > 0
            # The real Chromium profile has them all; the clone carries none.
            assert (user_data / "Default" / "Login Data").exists() and (user_data / "Default" / "History").exists()
            for private in PRIVATE_FILES:
                assert not (info.path / "Default" / private).exists(), private
            if os.name == "posix":
                assert_private_to_the_user(info.path)
            sso_pages = portal.hits("/sso/login")
            worker = BrowserSession(
                chromium_settings, profile, worker=2, staging_dir=tmp_path / "s2", user_data_dir=info.path
            )
            try:
                worker.start()
                assert worker.sign_in_again() == (True, "signed in")
                record = PoRecord(key="PO100001", po_id="100001", row_number=1, row={"PO_NUMBER": "PO100001"})
                result = worker.process(record, tmp_path / "out", 1)
                assert result.status is PoStatus.COMPLETED, result
            finally:
                worker.quit()
            # Signed in by the cloned cookie: no login page seen, no new session created.
            assert portal.hits("/sso/login") == sso_pages
            assert portal.sign_ins == 1
            remove_clone(info.path)
            assert not info.path.exists()
        finally:
            shutil.rmtree(root, ignore_errors=True)
