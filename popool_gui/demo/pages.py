"""HTML of the demo portal's Coupa skin: a small Coupa look-alike with the markup popool's Coupa profile reads.

The page frame (`layout`) is shared with the other skin (`other_pages.py`).

Selectors the browser side relies on (see the `coupa` and `demo` portal profiles):

- PO page `/order_headers/{id}`, title "Purchase Order #{id}"; supplier `span[data-supplier-name]` inside
  `div.supplier-name`; requisition link `a[href*='/requisition_headers/']`; `div.notice` on valid POs.
- Attachments are rendered by JavaScript (`list_script.py`) the page's render delay after load (the first two,
  then the rest `second_batch_ms` later) into `#attachments`, which gets `data-ready="true"` and class
  `attachments-ready` once complete: `span[role=button][aria-label$='file attachment']` inside
  `a[href*='attachment_file']`, or `a[download][href*='attachment_file']`, or a span alone whose click navigates
  to the file. With `loading_placeholder`, `div#attachments-loading.loading-indicator` ("Loading documents...")
  is shown in the section until the first items are; with `list_via_fetch` the list comes from
  `/order_headers/{id}/attachments.json` (`/requisition_headers/{id}/attachments.json`).
- Line and comment attachments (the special POs that have them) are part of the page as it loads, in the
  span-in-a-link markup: a line's inside its details row `tr.line-details > td > div.line-attachments` under the
  line, a comment's in `section#comments > div.comment`. The profiles' `line_selectors` and `comment_selectors`
  tell them from the header's.
- Not found: HTTP 200 with "Oops! We couldn't find what you wanted" (or "The page you were looking for doesn't
  exist", or the Portuguese text); denied: "You are not authorized" / "Access denied" in `div.flash_error`
  or `div#error_explanation`.
- Sign-in page `/sessions/new` with `#user_email`, `#user_password` and `button#sign_in_button`; the SSO page
  `/sso/login` with `button#sso_continue` ("Continue with SSO").
- `div.floating-toolbar` is fixed at the bottom of the window over the page, so a plain click on an attachment
  scrolled into view at the bottom edge is intercepted.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from popool_gui.demo.data import COMMENT_TEXT, LINE_WITH_ATTACHMENTS, AttachmentSpec, PageVariant, PoSpec
from popool_gui.demo.list_script import SECOND_STEP_MS as SECOND_STEP_MS
from popool_gui.demo.list_script import ListMarkup, ListRender, list_script, placeholder_html, size_label
from popool_gui.demo.skins import COUPA_FILE_URL, PageKind, Skin, page_path

NOT_FOUND_TEXT: dict[PageVariant, str] = {
    PageVariant.STANDARD: "Oops! We couldn't find what you wanted",
    PageVariant.MISSING_PAGE: "The page you were looking for doesn't exist",
    PageVariant.PORTUGUESE: "Desculpe, não encontramos o que você procurava",
}
BRAND = "Coupa demo"
ATTACHMENT_URL = COUPA_FILE_URL  # where this skin's files are (skins.py has every skin's URLs)

_CSS = """
@font-face { font-family: "Demo Sans"; src: url("/static/demo-sans.woff2") format("woff2"); }
body { font-family: "Demo Sans", Arial, sans-serif; margin: 0; color: #222; background: #f4f6f8; }
header.top-bar { background: #1f3a5f; color: #fff; padding: 10px 24px; display: flex; align-items: center; gap: 16px; }
header.top-bar img { height: 32px; }
header.top-bar nav a { color: #cfe0f5; margin-right: 14px; text-decoration: none; }
main { max-width: 960px; margin: 20px auto; background: #fff; padding: 24px; border-radius: 6px; }
.banner { width: 100%; height: 60px; object-fit: cover; }
.notice { background: #eef6ff; border: 1px solid #b6d4fe; padding: 8px 12px; margin: 8px 0; }
.flash_error, #error_explanation { background: #fdecea; border: 1px solid #f5c2c7; padding: 10px 14px; }
.field { margin: 6px 0; } .field label { display: inline-block; width: 140px; color: #666; }
table.lines { border-collapse: collapse; width: 100%; margin: 16px 0; }
table.lines td, table.lines th { border-bottom: 1px solid #e3e6ea; padding: 14px 8px; text-align: left; }
#attachments { margin-top: 24px; min-height: 120px; }
#attachment-list { list-style: none; padding: 0; }
#attachment-list li { padding: 10px 0; border-bottom: 1px dashed #ddd; }
[role=button] { cursor: pointer; color: #0b5cad; text-decoration: underline; }
.attachment-size { color: #888; margin-left: 8px; font-size: 12px; }
.floating-toolbar { position: fixed; left: 0; right: 0; bottom: 0; height: 72px; z-index: 10000;
  background: rgba(31, 58, 95, 0.96); color: #fff; display: flex; align-items: center; gap: 12px; padding: 0 24px; }
.floating-toolbar button { background: #f2a900; border: 0; padding: 8px 14px; border-radius: 4px; }
.loading-indicator { padding: 12px; color: #555; font-style: italic; }
.list-error { color: #a00; }
table.doc-table { border-collapse: collapse; width: 100%; } table.doc-table td { padding: 8px; }
dl.request-facts dt { float: left; width: 140px; color: #666; } dl.request-facts dd { margin: 0 0 6px 150px; }
.alert-denied, .empty-state { background: #fff4e5; border: 1px solid #f0c36d; padding: 10px 14px; }
form.sign-in { max-width: 360px; } form.sign-in input { display: block; width: 100%; margin: 6px 0 14px; padding: 6px; }
"""

_ITEM_JS = """
  function labelSpan(a) {
    var span = document.createElement("span");
    span.setAttribute("role", "button");
    span.setAttribute("tabindex", "0");
    span.setAttribute("aria-label", a.name + " file attachment");
    span.textContent = a.name;
    return span;
  }
  function item(a) {
    var li = document.createElement("li");
    var node;
    if (a.markup === "download_link") {
      node = document.createElement("a");
      node.href = a.url;
      node.setAttribute("download", a.name);
      node.title = a.name;
      node.textContent = a.name;
    } else if (a.markup === "span_only") {
      node = labelSpan(a);
      node.className = "attachment-button";
      node.addEventListener("click", function () { window.location.href = a.url; });
      node.addEventListener("keydown", function (e) { if (e.key === "Enter") { window.location.href = a.url; } });
    } else {
      node = document.createElement("a");
      node.href = a.url;
      node.className = "attachment-link";
      node.appendChild(labelSpan(a));
    }
    li.appendChild(node);
    var size = document.createElement("span");
    size.className = "attachment-size";
    size.textContent = a.size_label;
    li.appendChild(size);
    return li;
  }"""
_DONE_JS = """      section.setAttribute("data-ready", "true");
      section.classList.add("attachments-ready");"""
LIST_MARKUP = ListMarkup(section_id="attachments", list_id="attachment-list", item_js=_ITEM_JS, done_js=_DONE_JS)


def layout(title: str, body: str, *, toolbar: bool, signed_in: bool = True, script: str = "") -> bytes:
    nav = (
        '<nav><a href="/">Home</a></nav><span class="user">Signed in as demo.buyer@example.com</span>'
        if signed_in
        else ""
    )
    bar = (
        '<div class="floating-toolbar" id="floating-toolbar"><strong>Coupa Assist</strong>'
        '<span>Need help with this order?</span><button type="button">Chat</button>'
        '<button type="button">Approve</button><button type="button">Comment</button></div>'
        if toolbar
        else ""
    )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f'<header class="top-bar"><img src="/static/logo.png" alt="Coupa demo">{nav}</header>'
        f"<main>{body}</main>{bar}{script}</body></html>"
    )
    return page.encode("utf-8")


def _attachments_section(items: list[dict[str, str]], render: ListRender) -> tuple[str, str]:
    """The section's static HTML and the script that fills it in."""
    section = (
        '<section id="attachments" class="attachments" data-ready="false"><h2>Attachments</h2>'
        f'{placeholder_html(render)}<ul id="attachment-list"></ul></section>'
    )
    return section, list_script(items, render, LIST_MARKUP)


def order_lines(spec: PoSpec, rows: int = 8, table_class: str = "lines", details: dict[int, str] | None = None) -> str:
    """The lines table; `details` holds a line's details row (by line number) to show under it."""
    # Enough lines that the attachments start below the fold of a default 800x600 headless window.
    details = details or {}
    cells = "".join(
        f"<tr><td>{n}</td><td>Item {spec.po_id}-{n}</td><td>{n * 3}</td><td>EUR {n * 123.45:.2f}</td></tr>"
        + details.get(n, "")
        for n in range(1, rows + 1)
    )
    return f'<table class="{table_class}"><tr><th>#</th><th>Item</th><th>Qty</th><th>Amount</th></tr>{cells}</table>'


def _static_items(spec: PoSpec, attachments: tuple[AttachmentSpec, ...]) -> str:
    """Attachments the server writes into the page, in Coupa's usual markup (a labelled span inside the link);
    a line's details and the comments are part of the page as it loads, not of the list a script renders."""
    return "".join(
        f'<li><a class="attachment-link" href="{escape(ATTACHMENT_URL.format(po_id=spec.po_id, file_id=a.file_id))}">'
        f'<span role="button" tabindex="0" aria-label="{escape(a.name)} file attachment">{escape(a.name)}</span></a>'
        f'<span class="attachment-size">{size_label(a.size)}</span></li>'
        for a in attachments
    )


def _line_details(spec: PoSpec) -> dict[int, str]:
    """The first line's details with its attachments (the demo API lists them on line 1 too)."""
    if not spec.line_attachments:
        return {}
    row = (
        f'<tr class="line-details" data-line-num="{LINE_WITH_ATTACHMENTS}"><td colspan="4">'
        '<div class="line-attachments"><h4>Attachments</h4>'
        f"<ul>{_static_items(spec, spec.line_attachments)}</ul></div></td></tr>"
    )
    return {LINE_WITH_ATTACHMENTS: row}


def _comments(spec: PoSpec) -> str:
    if not spec.comment_attachments:
        return ""
    return (
        '<section id="comments" class="comments"><h2>Comments</h2>'
        f'<div class="comment"><p class="comment-body">{escape(COMMENT_TEXT)}</p>'
        f'<ul class="comment-attachments">{_static_items(spec, spec.comment_attachments)}</ul></div></section>'
    )


def order_page(spec: PoSpec, items: list[dict[str, str]], *, render: ListRender, toolbar: bool) -> bytes:
    requisition = (
        f'<div class="field"><label>Requisition</label>'
        f'<a href="{page_path(Skin.COUPA, PageKind.REQUISITION, spec.requisition_id)}">'
        f"Requisition {spec.requisition_id}</a></div>"
        if spec.requisition_id
        else ""
    )
    section, script = _attachments_section(items, render)
    body = (
        f"<h1>Purchase Order #{escape(spec.po_id)}</h1>"
        '<div class="notice">This order was sent to the supplier by e-mail.</div>'
        '<div class="notice">Invoices are matched automatically against this order.</div>'
        '<section class="order-summary">'
        '<div class="field supplier-name"><label>Supplier</label>'
        f"<span data-supplier-name>{escape(spec.supplier)}</span></div>"
        '<div class="field"><label>Status</label>Issued</div>'
        f"{requisition}</section>"
        f"{order_lines(spec, details=_line_details(spec))}{section}{_comments(spec)}"
    )
    return layout(f"Purchase Order #{spec.po_id}", body, toolbar=toolbar, script=script)


def requisition_page(spec: PoSpec, items: list[dict[str, str]], *, render: ListRender, toolbar: bool) -> bytes:
    section, script = _attachments_section(items, render)
    body = (
        f"<h1>Requisition #{escape(spec.requisition_id or '')}</h1>"
        '<div class="notice">This requisition was approved.</div>'
        f'<div class="field"><label>Requested by</label>Demo Buyer</div>{order_lines(spec, rows=4)}{section}'
    )
    return layout(f"Requisition #{spec.requisition_id}", body, toolbar=toolbar, script=script)


def not_found_page(variant: PageVariant, *, toolbar: bool) -> bytes:
    text = NOT_FOUND_TEXT.get(variant, NOT_FOUND_TEXT[PageVariant.STANDARD])
    body = f'<div class="error-page"><h1>{escape(text, quote=False)}</h1><p><a href="/">Back to home</a></p></div>'
    return layout(text, body, toolbar=toolbar)


def denied_page(po_id: str, variant: PageVariant, *, toolbar: bool) -> bytes:
    message = f"You are not authorized to view purchase order {escape(po_id)}."
    box = (
        f'<div id="error_explanation"><h2>Access denied</h2><p>{message}</p></div>'
        if variant is PageVariant.ERROR_EXPLANATION
        else f'<div class="flash_error">{message}</div><h1>Access denied</h1>'
    )
    return layout("Access denied", box, toolbar=toolbar)


def missing_page() -> bytes:
    text = NOT_FOUND_TEXT[PageVariant.MISSING_PAGE]
    return layout(text, f"<h1>{escape(text, quote=False)}</h1>", toolbar=False, signed_in=False)


def server_error_page() -> bytes:
    body = "<h1>Internal Server Error</h1><p>The demo portal failed on purpose (error_500_share).</p>"
    return layout("Internal Server Error", body, toolbar=False, signed_in=False)


def home_page(samples: tuple[tuple[str, str], ...], *, toolbar: bool, brand: str = BRAND) -> bytes:
    """The home page; `samples` are (path, label) of the PO pages it links to."""
    links = "".join(f'<li><a href="{escape(path)}">{escape(label)}</a></li>' for path, label in samples)
    body = (
        f"<h1>{escape(brand)}</h1>"
        '<img class="banner" src="/static/banner.png" alt="">'
        '<div class="notice">This is popool\'s embedded demo portal: every purchase order is made up.</div>'
        f"<h2>Recent orders</h2><ul>{links}</ul>"
    )
    return layout(f"{brand} - Home", body, toolbar=toolbar)


def login_page(return_to: str) -> bytes:
    body = (
        "<h1>Sign in to Coupa demo</h1>"
        '<form class="sign-in" method="post" action="/sessions">'
        f'<input type="hidden" name="return_to" value="{escape(return_to)}">'
        '<label for="user_email">E-mail</label><input id="user_email" name="user[email]" type="email">'
        '<label for="user_password">Password</label><input id="user_password" name="user[password]" type="password">'
        '<button id="sign_in_button" type="submit">Sign in</button></form>'
        f'<p><a href="/sso/login?return_to={escape(quote(return_to, safe=""))}">'
        "Sign in with your company account (SSO)</a></p>"
    )
    return layout("Sign in - Coupa demo", body, toolbar=False, signed_in=False)


def sso_page(return_to: str) -> bytes:
    body = (
        "<h1>Company single sign-on</h1><p>Your identity provider confirms who you are.</p>"
        '<form class="sign-in" method="post" action="/sso/login">'
        f'<input type="hidden" name="return_to" value="{escape(return_to)}">'
        '<button id="sso_continue" type="submit">Continue with SSO</button></form>'
    )
    return layout("Single sign-on", body, toolbar=False, signed_in=False)
