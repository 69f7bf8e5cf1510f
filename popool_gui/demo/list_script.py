"""The script that fills in a demo page's attachment list after the page has loaded, as tenants' scripts do.

The list is built with DOM calls (never innerHTML) so hostile file names stay text. Its data travels inline in
the page (`<script type="application/json" id="attachment-data">`) or, with `ListRender.fetch_url`, is fetched
from the page's JSON endpoint once the render delay has passed. The first two items appear after the delay, the
rest `second_batch_ms` later; then the skin's "done" step runs (Coupa's marks the section ready, the other skin
has no marker). A placeholder `#attachments-loading` (class `loading-indicator`) is removed when the first items
appear. A fetch that was sent to the login wall reloads the page, so the browser meets the wall as a page; any
other failed fetch shows "Internal Server Error" text in the section instead of an empty list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from popool_gui.demo.data import AttachmentSpec

SECOND_STEP_MS = 200  # the default gap between the list's first two items and the rest
LOADING_ID = "attachments-loading"
LOADING_CLASS = "loading-indicator"
LOADING_TEXT = "Loading documents..."
LIST_ERROR_TEXT = "Internal Server Error: the list of documents could not be loaded"


@dataclass(frozen=True, slots=True)
class ListRender:
    """When and how one page's attachment list appears."""

    delay_ms: int
    second_batch_ms: int = SECOND_STEP_MS
    fetch_url: str = ""  # the page's JSON endpoint; "" = the list travels inline in the page
    placeholder: bool = False


@dataclass(frozen=True, slots=True)
class ListMarkup:
    """What a skin's script needs: where the list goes, how one item looks (JS `function item(a)`), and what
    happens once the list is complete (JS statements, may be empty)."""

    section_id: str
    list_id: str
    item_js: str
    done_js: str = ""


_SCRIPT = """
(function () {
  var section = document.getElementById(__SECTION__);
  var list = document.getElementById(__LIST__);__ITEM__
  function add(items) { items.forEach(function (a) { list.appendChild(item(a)); }); }
  function clearLoading() {
    var loading = document.getElementById(__LOADING__);
    if (loading) { loading.remove(); }
  }
  function show(data) {
    clearLoading();
    add(data.slice(0, 2));
    setTimeout(function () {
      add(data.slice(2));
__DONE__
    }, data.length > 2 ? __STEP__ : 0);
  }
  function load() {
__LOAD__
  }
  setTimeout(function () { load(); }, __DELAY__);
})();
"""

_INLINE_LOAD = '    show(JSON.parse(document.getElementById("attachment-data").textContent));'

_FETCH_LOAD = """    var url = new URL(__URL__, location.href);
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (reply) {
        if (reply.redirected && new URL(reply.url).pathname !== url.pathname) {
          location.reload();
          return null;
        }
        if (!reply.ok) { throw new Error("HTTP " + reply.status); }
        return reply.json();
      })
      .then(function (data) { if (data) { show(data); } })
      .catch(function (error) {
        clearLoading();
        var note = document.createElement("p");
        note.className = "list-error";
        note.textContent = __ERROR__ + " (" + String(error && error.message || error) + ")";
        section.appendChild(note);
      });"""


def _script_json(value: object) -> str:
    """JSON that is safe inside a script element: "</" would end it early; JSON allows the escaped slash."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/").replace("<!--", "<\\!--")


def size_label(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{max(1, round(size / 1000))} KB"


def list_items(attachments: tuple[AttachmentSpec, ...], url_of: Callable[[str], str]) -> list[dict[str, str]]:
    """The list a page's script renders (inline or from the JSON endpoint); `url_of(file_id)` is a file's path."""
    return [
        {"name": a.name, "url": url_of(a.file_id), "markup": a.markup.value, "size_label": size_label(a.size)}
        for a in attachments
    ]


def list_json(items: list[dict[str, str]]) -> bytes:
    return json.dumps(items, ensure_ascii=False).encode("utf-8")


def placeholder_html(render: ListRender) -> str:
    if not render.placeholder:
        return ""
    return f'<div id="{LOADING_ID}" class="{LOADING_CLASS}">{LOADING_TEXT}</div>'


def list_script(items: list[dict[str, str]], render: ListRender, markup: ListMarkup) -> str:
    """The `<script>` elements that render `items` into the skin's list as `render` says."""
    if render.fetch_url:
        fetch_load = _FETCH_LOAD.replace("__URL__", _script_json(render.fetch_url))
        load, data = fetch_load.replace("__ERROR__", _script_json(LIST_ERROR_TEXT)), ""
    else:
        payload = _script_json(items)
        load, data = _INLINE_LOAD, f'<script type="application/json" id="attachment-data">{payload}</script>'
    body = (
        _SCRIPT.replace("__SECTION__", _script_json(markup.section_id))
        .replace("__LIST__", _script_json(markup.list_id))
        .replace("__ITEM__", markup.item_js)
        .replace("__LOADING__", _script_json(LOADING_ID))
        .replace("__DONE__", markup.done_js)
        .replace("__STEP__", str(max(0, render.second_batch_ms)))
        .replace("__LOAD__", load)
        .replace("__DELAY__", str(max(0, render.delay_ms)))
    )
    return f"{data}<script>{body}</script>"
