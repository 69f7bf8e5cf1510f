"""The README's screenshot of the run report: a made-up 240-PO run's journal, its report, headless Chromium.

    .venv/bin/python scripts/report_screenshot.py [--out docs/screenshots/report.png] [--keep DIR]

The journal is written through the real Journal and the page by the real report writer; only the run is made up
(tests/report_pages.py), so the charts show a run of realistic length.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "report.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--keep", type=Path, help="write the run (journal, folders, report) here and keep it")
    args = parser.parse_args()

    from popool_gui.batch.run_report import write_report
    from popool_gui.settings import BrowserKind, Settings
    from tests.report_pages import realistic_run, screenshot

    scratch = args.keep or Path(tempfile.mkdtemp(prefix="popool-report-shot-"))
    out = scratch / "output"
    out.mkdir(parents=True, exist_ok=True)
    try:
        facts, results = realistic_run(out)
        page = write_report(out, results, facts)
        settings = Settings().replace(
            browser=BrowserKind.CHROMIUM, driver_path=str(CHROMEDRIVER), browser_binary=str(CHROMIUM), headless=True
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        screenshot(settings, page, args.out, scratch / "browser", width=args.width)
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    sys.stdout.write(f"{args.out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
