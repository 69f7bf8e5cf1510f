"""The home tab's hold on the PO tabs it opened: their windows, kept by name in the home document
(`window.__popoolTabs`). Through them the home tab looks into those tabs (page_wait.probe_tabs), reads them
(po_page), sends them to their next page and closes them, each in one round trip and without switching the driver,
which would wait for a tab's page to load. A tab that has gone to another origin (a sign-in redirect) is out of
the home tab's sight.
"""

from __future__ import annotations

from selenium.webdriver.remote.webdriver import WebDriver

# A blank tab opened by the current tab, which keeps its window under a name (when given) to look into it later.
_OPEN_JS = """
const w = window.open('about:blank', '_blank');
if (w !== null && arguments[0]) { (window.__popoolTabs = window.__popoolTabs || {})[arguments[0]] = w; }
return w !== null;
"""
# A tab sent to its next page from the home tab: its page is marked as the last one (page_wait's probe reads such a
# page as not started yet) until the new document replaces it. The tab navigates itself, from a timer of its own
# page: a navigation the home tab's script started would count as the home tab's, and the driver's next command
# there would wait for that page to load (19.5 s for a 20 s page, in a Stop test). A tab on another origin cannot
# be marked, nor looked into, so it is not sent; nor is a tab whose next URL differs from its page's only after
# '#', which would keep the marked document and never show a new one.
_NAVIGATE_JS = """
const [name, url] = arguments;
const w = (window.__popoolTabs || {})[name];
if (!w || w.closed) { return false; }
try {
  const next = new URL(url, w.location.href), now = new URL(w.location.href);
  next.hash = ''; now.hash = '';
  if (next.href === now.href && new URL(url, w.location.href).hash) { return false; }
  w.__popoolStale = true;
  w.setTimeout(() => { w.location.href = url; }, 0);
} catch (e) { return false; }
return true;
"""
_CLOSE_JS = """
const tabs = window.__popoolTabs || {};
for (const name of arguments[0]) {
  try { if (tabs[name]) { tabs[name].close(); } } catch (e) { }
  delete tabs[name];
}
"""


def open_blank(driver: WebDriver, name: str) -> bool:
    """From the current tab: open a blank tab and keep its window under `name`; False when the browser refused."""
    return bool(driver.execute_script(_OPEN_JS, name))


def navigate(driver: WebDriver, name: str, url: str) -> bool:
    """From the home tab (current): send the tab kept under `name` to `url` without waiting for its page; False
    when that tab is gone or out of sight."""
    return bool(driver.execute_script(_NAVIGATE_JS, name, url))


def close(driver: WebDriver, names: list[str]) -> None:
    """From the home tab (current): close the tabs kept under these names."""
    driver.execute_script(_CLOSE_JS, names)
