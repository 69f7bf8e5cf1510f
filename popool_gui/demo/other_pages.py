"""HTML of the demo portal's other skin: a procurement portal whose markup owes nothing to Coupa's.

popool reads it through `tests/portals/other.toml`. What that profile relies on:

- Request page `/procurement/requests/PR-{7 digits}`, title "Purchase request PR-0100007"; supplier in
  `dd.vendor`; requisition link `a.linked-req` to `/procurement/requisitions/RQ-{id}`.
- Documents are rendered by script (`list_script.py`) into `tbody#doc-rows` of `table.doc-table` inside
  `section#documents`, one `a.doc-dl[href^='/files/']` per row whose text is the file name. There is no
  "rendered" marker: only the generic signals tell when the list is complete. The placeholder, when on, is
  `div#attachments-loading.loading-indicator`; with `list_via_fetch` the list comes from the page's path plus
  `/documents.json`.
- Not found: HTTP 404 with "No such request"; denied: HTTP 403 with "Permission denied" in `div.alert-denied`.
- Sign-in, SSO, the toolbar and the page frame are the Coupa skin's (`pages.py`).
"""

from __future__ import annotations

from html import escape

from popool_gui.demo.data import PoSpec
from popool_gui.demo.list_script import ListMarkup, ListRender, list_script, placeholder_html
from popool_gui.demo.pages import layout, order_lines
from popool_gui.demo.skins import PageKind, Skin, page_path, request_number

NOT_FOUND_STATUS = 404
DENIED_STATUS = 403
NOT_FOUND_TEXT = "No such request"
DENIED_TEXT = "Permission denied"
BRAND = "Procurement demo"

_ITEM_JS = """
  function item(a) {
    var row = document.createElement("tr");
    var name = document.createElement("td");
    var link = document.createElement("a");
    link.className = "doc-dl";
    link.href = a.url;
    link.textContent = a.name;
    name.appendChild(link);
    row.appendChild(name);
    var size = document.createElement("td");
    size.className = "doc-size";
    size.textContent = a.size_label;
    row.appendChild(size);
    return row;
  }"""
LIST_MARKUP = ListMarkup(section_id="documents", list_id="doc-rows", item_js=_ITEM_JS)


def _documents_section(items: list[dict[str, str]], render: ListRender) -> tuple[str, str]:
    section = (
        '<section id="documents" class="documents"><h3>Documents</h3>'
        f"{placeholder_html(render)}"
        '<table class="doc-table"><thead><tr><th>File</th><th>Size</th></tr></thead>'
        '<tbody id="doc-rows"></tbody></table></section>'
    )
    return section, list_script(items, render, LIST_MARKUP)


def order_page(spec: PoSpec, items: list[dict[str, str]], *, render: ListRender, toolbar: bool) -> bytes:
    number = request_number(spec.po_id)
    requisition = (
        f'<dt>Requisition</dt><dd><a class="linked-req" '
        f'href="{page_path(Skin.OTHER, PageKind.REQUISITION, spec.requisition_id)}">'
        f"RQ-{spec.requisition_id}</a></dd>"
        if spec.requisition_id
        else ""
    )
    section, script = _documents_section(items, render)
    body = (
        f'<h1 class="request-title">Purchase request {number}</h1>'
        f'<dl class="request-facts"><dt>Vendor</dt><dd class="vendor">{escape(spec.supplier)}</dd>'
        f"<dt>State</dt><dd>Approved</dd>{requisition}</dl>"
        f"{order_lines(spec, table_class='request-items')}{section}"
    )
    return layout(f"Purchase request {number}", body, toolbar=toolbar, script=script)


def requisition_page(spec: PoSpec, items: list[dict[str, str]], *, render: ListRender, toolbar: bool) -> bytes:
    section, script = _documents_section(items, render)
    body = (
        f'<h1 class="request-title">Requisition RQ-{escape(spec.requisition_id or "")}</h1>'
        f'<dl class="request-facts"><dt>Raised by</dt><dd>Demo Buyer</dd></dl>'
        f"{order_lines(spec, rows=4, table_class='request-items')}{section}"
    )
    return layout(f"Requisition RQ-{spec.requisition_id}", body, toolbar=toolbar, script=script)


def not_found_page(*, toolbar: bool) -> bytes:
    body = (
        f'<div class="empty-state"><h1>{NOT_FOUND_TEXT}</h1>'
        "<p>Check the request number, or ask the buyer who raised it.</p></div>"
    )
    return layout(NOT_FOUND_TEXT, body, toolbar=toolbar)


def denied_page(po_id: str, *, toolbar: bool) -> bytes:
    body = (
        f'<div class="alert alert-denied" role="alert">{DENIED_TEXT}: your role may not open request '
        f"{escape(request_number(po_id))}.</div>"
    )
    return layout(DENIED_TEXT, body, toolbar=toolbar)
