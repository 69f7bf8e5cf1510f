"""Issue 12 points 7 and 4 end to end, with real headless Chromium against a tiny portal on loopback (not the
demo portal): attachments whose names look like temp files download normally and end COMPLETED, and a
supplier name that is a spreadsheet formula lands in the results CSV as text."""

from __future__ import annotations

import csv
import io
from html import escape
from pathlib import Path
from urllib.parse import quote

import pytest

from popool_gui.batch.model import COL_SUPPLIER, PoRecord, PoStatus
from popool_gui.batch.report import write_results
from popool_gui.browser.portal import load_portal
from popool_gui.browser.session import BrowserSession
from popool_gui.settings import ResultsFormat, Settings
from tests.loopback_server import Reply, file_reply, serve

pytestmark = pytest.mark.browser

PO_ID = "100001"
SUPPLIER = '=HYPERLINK("http://evil.test/","Acme")'
# Names browsers never use for their own in-progress files, and the two they do (the browser's own report of
# the download, not the name, says when those are finished).
NAMES = ("scan.TMP", "x.part", "minutes.partial", "offer.download", "w.crdownload", "plain.pdf")


def po_page(names: tuple[str, ...]) -> bytes:
    links = "".join(
        f'<li><a download="{escape(n)}" href="/attachments/{i}/attachment_file">{escape(n)}</a></li>'
        for i, n in enumerate(names)
    )
    return (
        "<html><head><title>Purchase Order</title></head><body>"
        f"<span data-supplier-name>{escape(SUPPLIER)}</span>"
        f'<section id="attachments" data-ready="true"><ul>{links}</ul></section></body></html>'
    ).encode()


def content(index: int) -> bytes:
    return f"attachment {index} ".encode() * (200 + index)


def test_temp_like_names_download_and_a_formula_supplier_stays_text(chromium_settings: Settings, tmp_path: Path):
    html = [("Content-Type", "text/html; charset=utf-8")]
    with serve("127.0.0.1") as portal:
        portal.routes["/"] = lambda _p: Reply(200, b"<html><body>home</body></html>", tuple(html))
        portal.routes[f"/order_headers/{PO_ID}"] = lambda _p: Reply(200, po_page(NAMES), tuple(html))
        for i, name in enumerate(NAMES):
            portal.routes[f"/attachments/{i}/attachment_file"] = file_reply(
                content(i), quote(name), "application/octet-stream"
            )
        settings = chromium_settings.replace(download_timeout_s=10.0)
        session = BrowserSession(settings, load_portal("demo", portal.url), worker=1, staging_dir=tmp_path / "stage")
        output = tmp_path / "output"
        record = PoRecord(key=f"PO{PO_ID}", po_id=PO_ID, row_number=1, row={"PO_NUMBER": f"PO{PO_ID}"})
        try:
            session.start()
            assert session.events is not None, "this test is about Chromium's own download reports"
            result = session.process(record, output, 1)
        finally:
            session.quit()

    assert result.status is PoStatus.COMPLETED, result.error
    assert result.attachments_downloaded == len(NAMES)
    folder = Path(result.folder)
    saved = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert saved == {f"PO{PO_ID}_{name}": content(i) for i, name in enumerate(NAMES)}
    assert result.supplier == SUPPLIER

    (csv_path,) = write_results(output, ("PO_NUMBER",), ";", [(record.row, result)], ResultsFormat.CSV)
    (row,) = csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8-sig")), delimiter=";")
    assert row[COL_SUPPLIER] == "'" + SUPPLIER
