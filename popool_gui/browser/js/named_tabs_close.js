// Closes the tabs the home tab keeps under these names (named_tabs.py). Arguments: the list of names.
const tabs = window.__popoolTabs || {};
for (const name of arguments[0]) {
  try { if (tabs[name]) { tabs[name].close(); } } catch (e) { }
  delete tabs[name];
}
