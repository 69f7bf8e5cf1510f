"""`popool run --mode api` as a user runs it, against the demo portal's API: one line and exit 2 within seconds
for each setup problem, and a run whose secret comes from the credential store (an in-memory one here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from popool_gui.api.credentials import SERVICE
from popool_gui.demo.api import Scope
from popool_gui.demo.sample import write_sample_csv
from popool_gui.demo.server import DemoPortal, demo_portal
from popool_gui.run_setup import output_dir
from popool_gui.selftest import verify_run
from popool_gui.settings import Settings
from tests.memory_keyring import BACKEND, SEED_ENV

REPO = Path(__file__).resolve().parents[2]
CLIENT, SECRET = "popool-demo", "demo-secret"
SECONDS = 20.0  # "within seconds": interpreter start included


@pytest.fixture
def portal() -> Iterator[DemoPortal]:
    with demo_portal(js_render_delay_ms=0) as running:
        yield running


def run_cli(
    args: list[str], tmp_path: Path, secrets: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {
        **os.environ,
        "POPOOL_CONFIG_DIR": str(tmp_path / "config"),
        "POPOOL_LOG_DIR": str(tmp_path / "logs"),
        "PYTHONPATH": str(REPO),
        "PYTHON_KEYRING_BACKEND": BACKEND,
        SEED_ENV: json.dumps({SERVICE: secrets or {}}),
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "popool_gui", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    return done, time.monotonic() - started


def _args(portal_url: str, tmp_path: Path, *extra: str) -> list[str]:
    source = write_sample_csv(tmp_path / "pos.csv", 12)
    return ["run", str(source), "--portal", "demo", "--base-url", portal_url, "-o", str(tmp_path / "out"), *extra]


def _user(url: str, client: str = CLIENT) -> str:
    return f"{client}@{url}"


@pytest.mark.parametrize(
    ("extra", "stored", "knobs", "says"),
    [
        ((), {}, {}, "needs an API client id"),
        (("--api-client-id", CLIENT), {}, {}, "no secret stored"),
        (("--api-client-id", CLIENT), {"": "wrong"}, {}, "refused API client 'popool-demo' (HTTP 401"),
        (("--api-client-id", CLIENT), {"": SECRET}, {"api_scopes": (Scope.COMMON,)}, "lacks the scope"),
        (("--api-client-id", CLIENT), {"": SECRET}, {"saturated": True}, "keeps answering 429"),
    ],
    ids=["no-client", "no-secret", "bad-secret", "missing-scope", "rate-limited"],
)
def test_setup_problems_exit_2_with_one_line(
    portal: DemoPortal, tmp_path: Path, extra: tuple[str, ...], stored: dict[str, str], knobs: dict, says: str
) -> None:
    if knobs.pop("saturated", False):
        portal.api.saturate(3600)
    if knobs:
        portal.set_knobs(**knobs)
    secrets = {_user(portal.url): value for value in stored.values()}
    done, seconds = run_cli(_args(portal.url, tmp_path, "--mode", "api", *extra), tmp_path, secrets)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("popool:")]
    assert len(lines) == 1 and says in lines[0], done.stderr[-2000:]
    assert seconds < SECONDS
    assert SECRET not in done.stderr and "wrong" not in done.stderr.replace("'wrong'", "")


def test_unreachable_host_exits_2_within_seconds(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9"  # discard: nothing listens there
    done, seconds = run_cli(
        _args(url, tmp_path, "--mode", "api", "--api-client-id", CLIENT), tmp_path, {_user(url): SECRET}
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "did not answer" in done.stderr
    assert seconds < SECONDS


def test_api_run_from_the_cli_with_the_secret_from_the_credential_store(portal: DemoPortal, tmp_path: Path) -> None:
    done, _ = run_cli(
        _args(portal.url, tmp_path, "--mode", "api", "--api-client-id", CLIENT), tmp_path, {_user(portal.url): SECRET}
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "API mode: client popool-demo" in done.stderr
    out = output_dir(Settings().replace(output_dir=str(tmp_path / "out")))
    assert verify_run(portal, out) == []
    # The journal, results, report, logs and settings: the secret is in none of them.
    for path in (*out.rglob("*"), *(tmp_path / "logs").rglob("*"), *(tmp_path / "config").rglob("*")):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_demo_in_api_mode(tmp_path: Path) -> None:
    done, _ = run_cli(["demo", "--headless", "--mode", "api", "--count", "20", "-o", str(tmp_path / "demo")], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "API mode: client popool-demo" in done.stderr
    assert "Finished: " in done.stderr and "FAILED" not in done.stderr
