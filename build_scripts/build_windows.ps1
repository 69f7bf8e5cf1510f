<#
.SYNOPSIS
  Build popool.exe on Windows and smoke-test it with Edge headless.

.DESCRIPTION
  Creates .venv if missing, installs popool with PyInstaller, runs build_scripts/build.py (which runs
  `popool-cli.exe self-test`). Edge is found in its standard install folders; msedgedriver must match the
  installed Edge version: put msedgedriver.exe on PATH, or pass -Driver C:\tools\msedgedriver.exe
  (download it from Microsoft's "Microsoft Edge WebDriver" page for the version shown in edge://version).

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File build_scripts\build_windows.ps1 -Driver C:\tools\msedgedriver.exe
#>
param(
    [string]$Driver = "",
    [switch]$OneFile,
    [switch]$SkipSelfTest
)
$ErrorActionPreference = "Stop"
$Root = Split-Path -Parent $PSScriptRoot
Set-Location $Root

if (Get-Command py -ErrorAction SilentlyContinue) { $Python = "py" } else { $Python = "python" }
if (-not (Test-Path ".venv\Scripts\python.exe")) {
    & $Python -3.11 -m venv .venv 2>$null
    if ($LASTEXITCODE -ne 0) { & $Python -m venv .venv }
}
$VenvPy = Join-Path $Root ".venv\Scripts\python.exe"
& $VenvPy -m pip install -q --disable-pip-version-check -e ".[build]"
if ($LASTEXITCODE -ne 0) { throw "pip install failed" }

$EdgeCandidates = @(
    "${env:ProgramFiles(x86)}\Microsoft\Edge\Application\msedge.exe",
    "$env:ProgramFiles\Microsoft\Edge\Application\msedge.exe"
)
$Edge = $EdgeCandidates | Where-Object { Test-Path $_ } | Select-Object -First 1
if (-not $Edge) { Write-Warning "Microsoft Edge not found; the self-test will fail." }
if (-not $Driver) {
    $Found = Get-Command msedgedriver.exe -ErrorAction SilentlyContinue
    if ($Found) { $Driver = $Found.Source }
}
if (-not $Driver) { Write-Warning "msedgedriver.exe not found on PATH; pass -Driver or Selenium Manager will try to download it." }

# build.py passes these to the built binary's self-test.
$env:POPOOL_SELF_TEST_BROWSER = "edge"
if ($Driver) { $env:POPOOL_SELF_TEST_DRIVER = $Driver }
if ($Edge) { $env:POPOOL_SELF_TEST_BINARY = $Edge }

$BuildArgs = @("build_scripts\build.py")
if ($OneFile) { $BuildArgs += "--onefile" }
if ($SkipSelfTest) { $BuildArgs += "--skip-self-test" }
& $VenvPy @BuildArgs
if ($LASTEXITCODE -ne 0) { throw "build failed (exit $LASTEXITCODE)" }
Write-Host "Built: $Root\dist\popool\popool.exe"
