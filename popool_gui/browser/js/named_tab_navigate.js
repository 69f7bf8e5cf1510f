// A tab sent to its next page from the home tab: its page is marked as the last one (page_probe.js reads such a
// page as not started yet) until the new document replaces it. A tab on another origin cannot be marked, nor
// looked into, so it is not sent.
// Arguments: the tab's name, the URL.
const [name, url] = arguments;
const w = (window.__popoolTabs || {})[name];
if (!w || w.closed) { return false; }
try { w.__popoolStale = true; } catch (e) { return false; }
w.location.href = url;
return true;
