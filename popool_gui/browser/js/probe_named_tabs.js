// Follows page_probe.js: the same look into each named tab the home tab opened (named_tabs keeps them); null where
// it cannot see (another origin after a redirect, a closed tab): that tab is then looked at the driver's way. A reused
// tab still showing its last PO's page (named_tab_navigate.js marked it) is reported as stale.
// Arguments: the tab names, then probe's own arguments after its window.
const [names, ...rest] = arguments;
const tabs = window.__popoolTabs || {};
const out = {};
for (const name of names) {
  try {
    const w = tabs[name];
    out[name] = w && !w.closed ? (w.__popoolStale ? {stale: true} : probe(w, ...rest)) : null;
  } catch (e) { out[name] = null; }
}
return out;
