#!/usr/bin/env bash
# Developer entry point for a Debian/Ubuntu machine that starts with only python3.
#
#   ./build_scripts/dev.sh setup          system packages (as root), .venv, pip install -e '.[test,build]'
#   ./build_scripts/dev.sh test [ARGS]    setup, ruff check/format --check, mypy, pytest (offscreen Qt) with ARGS
#   ./build_scripts/dev.sh demo [ARGS]    setup, then `popool demo --headless ARGS` against the embedded portal
#   ./build_scripts/dev.sh build [ARGS]   setup, PyInstaller, then build_scripts/build.py ARGS
#
# Every step is skipped when already done: a second `setup` runs no apt-get, no pip and no npm.
# setup also puts the Selenium Grid server jar (for tests/integration/test_grid.py) in .cache/selenium-server/:
# `npm pack` of @nightwatch/selenium-server fetches its tarball without running its install script.
# Environment: PYTHON (interpreter for a new .venv; default: the first python3.x >= 3.11 on PATH),
#              DEV_SKIP_APT=1 (never touch system packages).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
STAMP="$VENV/.popool-install-stamp"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off
export DEBIAN_FRONTEND=noninteractive

# System packages: headless Chromium and its driver for the browser tests, Xvfb for visible-browser runs,
# and the shared libraries PySide6's wheels expect on a bare Debian. "a|b": the first name apt knows
# (Ubuntu 24.04 and Debian 13 renamed libglib2.0-0; Ubuntu calls Chromium chromium-browser).
SYSTEM_PACKAGES=(
    "chromium|chromium-browser" chromium-driver xvfb xauth
    libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
    libxcb-render-util0 libxcb-image0 "libglib2.0-0t64|libglib2.0-0"
)

say() { printf 'dev.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

pkg_available() {
    local candidate
    candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    [ -n "$candidate" ] && [ "$candidate" != "(none)" ]
}

APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "apt-get update"
        apt-get update -q >&2 || say "warning: apt-get update failed; trying with the package lists at hand"
        APT_UPDATED=1
    fi
}

# Print the packages of SYSTEM_PACKAGES that are missing, one per line (an "a|b" entry as is).
missing_packages() {
    local entry alt found alts
    for entry in "${SYSTEM_PACKAGES[@]}"; do
        found=0
        IFS='|' read -r -a alts <<<"$entry"
        for alt in "${alts[@]}"; do
            if pkg_installed "$alt"; then found=1; break; fi
        done
        [ "$found" -eq 1 ] || printf '%s\n' "$entry"
    done
}

# The name to install for an "a|b" entry: the first alternative apt has a candidate for.
resolve_package() {
    local alt alts
    IFS='|' read -r -a alts <<<"$1"
    for alt in "${alts[@]}"; do
        if pkg_available "$alt"; then printf '%s\n' "$alt"; return 0; fi
    done
    return 1
}

apt_install() {
    say "apt-get install $*"
    if ! apt-get install -y -q --no-install-recommends "$@" >&2; then
        say "warning: apt-get install failed for: $*"
        say "         the browser or GUI tests may fail until they are installed"
        return 1
    fi
}

setup_system() {
    if [ "${DEV_SKIP_APT:-0}" = "1" ]; then
        return 0
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "not a Debian/Ubuntu system: install Chromium, chromedriver and the Qt runtime libraries yourself"
        return 0
    fi
    local missing=()
    mapfile -t missing < <(missing_packages)
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    if ! is_root; then
        say "missing system packages: ${missing[*]//|/ or }"
        say "install them with: sudo apt-get install -y --no-install-recommends ${missing[*]%%|*}"
        say "continuing; the browser or GUI tests may fail until they are installed"
        return 0
    fi
    apt_update_once
    local names=() entry name
    for entry in "${missing[@]}"; do
        if name="$(resolve_package "$entry")"; then
            names+=("$name")
        else
            say "warning: no package named ${entry//|/ or } in the apt sources; skipped"
        fi
    done
    if [ "${#names[@]}" -gt 0 ]; then
        apt_install "${names[@]}" || true
    fi
}

python_ok() {  # $1: interpreter; true when it runs and is >= 3.11
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
        if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

make_venv() {
    local py="$1"
    "$py" -m venv "$VENV" >&2 && return 0
    rm -rf "$VENV"
    if is_root && command -v apt-get >/dev/null 2>&1 && [ "${DEV_SKIP_APT:-0}" != "1" ]; then
        local version
        version="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        say "'$py -m venv' failed: installing python3-venv"
        apt_update_once
        local pkgs=(python3-venv)
        if pkg_available "python${version}-venv"; then pkgs+=("python${version}-venv"); fi
        apt_install "${pkgs[@]}" || true
        "$py" -m venv "$VENV" >&2 && return 0
        rm -rf "$VENV"
    fi
    die "'$py -m venv' failed. On Debian/Ubuntu: sudo apt-get install python3-venv, then run this again."
}

setup_venv() {
    if [ -x "$VPY" ]; then
        python_ok "$VPY" || die "$VENV uses Python < 3.11 or is broken: remove it (rm -rf .venv) and run again"
        return 0
    fi
    local py
    if ! py="$(find_python)"; then
        local have="none"
        command -v python3 >/dev/null 2>&1 && have="$(python3 -V 2>&1)"
        die "popool needs Python 3.11 or newer (found: $have). Install python3.11 (or newer) and its venv
package, or set PYTHON=/path/to/python3.11, then run this again."
    fi
    say "creating .venv with $py ($("$py" -V 2>&1))"
    make_venv "$py"
    rm -f "$STAMP"
}

install_stamp() {  # what the installed environment was made from
    {
        sha256sum pyproject.toml
        "$VPY" -V 2>&1
    } | sha256sum | cut -d' ' -f1
}

setup_python() {
    local want
    want="$(install_stamp)"
    if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/popool" ]; then
        return 0
    fi
    say "pip install -e '.[test,build]' (pyproject.toml changed or first install)"
    "$VPY" -m pip install -q -e '.[test,build]' >&2
    printf '%s\n' "$want" >"$STAMP"
}

GRID_VERSION=4.20.0
GRID_JAR="$ROOT/.cache/selenium-server/selenium-server-$GRID_VERSION.jar"

# Java and npm for the Grid tests, installed as root like the browser packages.
setup_grid_tools() {
    local want=()
    command -v java >/dev/null 2>&1 || want+=(default-jre-headless)
    command -v npm >/dev/null 2>&1 || want+=(npm)
    [ "${#want[@]}" -gt 0 ] || return 0
    if [ "${DEV_SKIP_APT:-0}" = "1" ] || ! is_root || ! command -v apt-get >/dev/null 2>&1; then
        say "missing for the Grid tests: ${want[*]} (sudo apt-get install -y --no-install-recommends ${want[*]})"
        return 0
    fi
    apt_update_once
    apt_install "${want[@]}" || true
}

setup_grid_jar() {
    [ -f "$GRID_JAR" ] && return 0
    setup_grid_tools
    if ! command -v npm >/dev/null 2>&1; then
        say "warning: npm not found; the Grid tests will be skipped (or fail in CI) until $GRID_JAR exists"
        return 0
    fi
    local tmp
    tmp="$(mktemp -d)"
    say "npm pack @nightwatch/selenium-server@$GRID_VERSION (the Selenium Grid jar)"
    if (cd "$tmp" && npm pack -q "@nightwatch/selenium-server@$GRID_VERSION" >&2) &&
        tar -xzf "$tmp"/nightwatch-selenium-server-*.tgz -C "$tmp" "package/lib/selenium-server-$GRID_VERSION.jar"; then
        mkdir -p "$(dirname "$GRID_JAR")"
        mv "$tmp/package/lib/selenium-server-$GRID_VERSION.jar" "$GRID_JAR"
    else
        say "warning: could not fetch the Selenium Grid jar; the Grid tests need $GRID_JAR"
    fi
    rm -rf "$tmp"
}

cmd_setup() {
    setup_system
    setup_venv
    setup_python
    setup_grid_jar
}

cmd_test() {
    cmd_setup
    say "ruff check . and ruff format --check ."
    "$VENV/bin/ruff" check . || die "ruff found problems"
    "$VENV/bin/ruff" format --check . || die "ruff format would change files: run .venv/bin/ruff format ."
    say "mypy (popool_gui/, as configured in pyproject.toml)"
    "$VENV/bin/mypy" || die "mypy found type errors"
    say "pytest $*"
    # Three pytest workers on 2 cores: browser tests spend part of their time waiting on pages and render floors,
    # so a third worker fills the idle CPU (2 cores: 603 s with -n 2, then 514 s with -n 3 once the faults test
    # had lost its needless PO timeouts; about 20-30 % of the CPU sat idle with -n 2).
    # loadgroup keeps a module's shared browser on one worker (xdist_group).
    # Tests that time themselves (marker "alone") then run in one process, with no browser test beside them.
    # ARGS go to both runs; a later -n or -m in them wins.
    local rc=0 rc_alone=0
    QT_QPA_PLATFORM=offscreen "$VPY" -m pytest -q -ra -p no:cacheprovider -n 3 --dist loadgroup -m "not alone" "$@" ||
        rc=$?
    QT_QPA_PLATFORM=offscreen "$VPY" -m pytest -q -ra -p no:cacheprovider -m alone "$@" || rc_alone=$?
    if [ "$rc" -eq 5 ] && [ "$rc_alone" -eq 5 ]; then
        die "pytest collected no tests"
    fi
    for code in "$rc" "$rc_alone"; do
        case "$code" in
            0 | 5) ;;
            *) die "pytest failed (exit $code)" ;;
        esac
    done
}

cmd_demo() {
    cmd_setup
    exec "$VENV/bin/popool" demo --headless "$@"
}

cmd_build() {
    cmd_setup
    if ! "$VPY" -c 'import PyInstaller' >/dev/null 2>&1; then
        say "pip install pyinstaller"
        "$VPY" -m pip install -q 'pyinstaller>=6.5' >&2
    fi
    exec "$VPY" build_scripts/build.py "$@"
}

usage() {
    sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit "${1:-2}"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    setup) cmd_setup ;;
    test) cmd_test "$@" ;;
    demo) cmd_demo "$@" ;;
    build) cmd_build "$@" ;;
    -h | --help | help) usage 0 ;;
    *) usage 2 ;;
esac
