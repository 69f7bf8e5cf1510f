"""Build popool with PyInstaller from popool.spec, smoke-test the binary, and report size and time.

    python build_scripts/build.py [--onefile] [--skip-self-test]

Installs PyInstaller into the running interpreter when it is missing. Works on Linux and Windows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE_LIMIT_MB = 250
GUI_SMOKE_TIMEOUT_S = 120


def ensure_pyinstaller() -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        print("installing PyInstaller...")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pyinstaller>=6.5"], check=True)


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def biggest_parts(folder: Path, count: int = 8) -> list[tuple[int, str]]:
    """Sizes of the largest top-level items of the bundle's files, to say what dominates the build."""
    inner = folder / "_internal" if (folder / "_internal").is_dir() else folder
    parts: list[tuple[int, str]] = []
    for item in inner.iterdir():
        size = folder_size(item) if item.is_dir() else item.stat().st_size
        parts.append((size, item.name))
    pyside = inner / "PySide6"
    if pyside.is_dir():
        for item in pyside.iterdir():
            size = folder_size(item) if item.is_dir() else item.stat().st_size
            parts.append((size, f"PySide6/{item.name}"))
    return sorted(parts, reverse=True)[:count]


def self_test_flags() -> list[str]:
    """Browser choice for the self-test, from the environment (the Windows script sets Edge here)."""
    flags: list[str] = []
    for flag, var in (
        ("--browser", "POPOOL_SELF_TEST_BROWSER"),
        ("--driver", "POPOOL_SELF_TEST_DRIVER"),
        ("--binary", "POPOOL_SELF_TEST_BINARY"),
    ):
        if os.environ.get(var):
            flags += [flag, os.environ[var]]
    return flags


def gui_smoke(binary: Path) -> int:
    """Open the built window in demo mode (the demo portal is a process of the binary's own), save a screenshot once
    painted, quit; under Xvfb when Linux has no display."""
    shot = ROOT / "dist" / "gui-smoke.png"
    shot.unlink(missing_ok=True)
    command = [str(binary), "demo", "--screenshot", str(shot)]
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        if not shutil.which("xvfb-run"):
            print("GUI smoke test skipped: no display and no xvfb-run (apt-get install xvfb xauth)")
            return 0
        command = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", *command]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, timeout=GUI_SMOKE_TIMEOUT_S)
    ok = result.returncode == 0 and shot.is_file()
    print(
        f"GUI smoke test: exit {result.returncode}, screenshot {shot if ok else 'missing'}, "
        f"{time.monotonic() - started:.0f} s"
    )
    return 0 if ok else (result.returncode or 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onefile", action="store_true", help="a single-file executable instead of a folder")
    parser.add_argument("--skip-self-test", action="store_true")
    args = parser.parse_args()
    ensure_pyinstaller()
    env = {**os.environ, "POPOOL_ONEFILE": "1" if args.onefile else "0"}
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN", "popool.spec"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    build_s = time.monotonic() - started
    exe_suffix = ".exe" if sys.platform == "win32" else ""
    if args.onefile:
        target = ROOT / "dist" / f"popool{exe_suffix}"
        size = target.stat().st_size
        cli = target
    else:
        target = ROOT / "dist" / "popool"
        size = folder_size(target)
        # The windowed popool.exe has no console on Windows, so its output is read from the console twin there.
        cli = target / ("popool-cli.exe" if sys.platform == "win32" else "popool")
    print(f"built {target} in {build_s:.0f} s; size {size / 1e6:.1f} MB (limit {SIZE_LIMIT_MB} MB)")
    if target.is_dir():
        for part_size, name in biggest_parts(target):
            print(f"  {part_size / 1e6:7.1f} MB  {name}")
    if not args.skip_self_test:
        started = time.monotonic()
        result = subprocess.run([str(cli), "self-test", *self_test_flags()], cwd=ROOT)
        print(f"self-test of the built binary: exit {result.returncode} in {time.monotonic() - started:.0f} s")
        if result.returncode != 0:
            return result.returncode
    if not args.skip_self_test and not args.onefile:
        failed = gui_smoke(target / f"popool{exe_suffix}")
        if failed:
            return failed
    if size / 1e6 > SIZE_LIMIT_MB:
        print(f"the build is larger than {SIZE_LIMIT_MB} MB")
        return 1
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
