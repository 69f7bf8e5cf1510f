// A tab sent to its next page from the home tab: its page is marked as the last one (page_probe.js reads such a
// page as not started yet) until the new document replaces it. The tab navigates itself, from a timer of its own
// page: a navigation the home tab's script started would count as the home tab's, and the driver's next command
// there would wait for that page to load (19.5 s for a 20 s page, in a Stop test). A tab on another origin cannot
// be marked, nor looked into, so it is not sent; nor is a tab whose next URL differs from its page's only after
// '#', which would keep the marked document and never show a new one.
// Arguments: the tab's name, the URL.
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
