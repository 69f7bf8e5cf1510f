// A blank tab opened by the current tab, which keeps its window under a name (when given) to look into it later.
// Arguments: the name (may be empty). Returns false when the browser refused.
const w = window.open('about:blank', '_blank');
if (w !== null && arguments[0]) { (window.__popoolTabs = window.__popoolTabs || {})[arguments[0]] = w; }
return w !== null;
