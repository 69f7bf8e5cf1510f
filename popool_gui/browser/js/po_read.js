// One read of a PO page once its verdict is in (po_page.py): the supplier, the attachments as the user sees them,
// the requisition link, the page's URL. Elements of the same attachment (a span inside its link, a span beside its
// link with the same name, two elements with one href) count once; the link is what gets clicked. A function of the
// window, so the home tab can read the PO tabs it opened (named_tabs) without switching the driver to them; element
// references are returned only for the driver's own tab (another tab's elements mean nothing to the driver).
// Defines `read`; po_page.py appends the call that runs it on the driver's own tab or on a named tab.
const read = (win, supplierSel, selectors, attrs, suffix, lineSel, commentSel, linkSel, withTargets) => {
const document = win.document;
const found = [];
for (const s of selectors) {
  let list;
  try { list = document.querySelectorAll(s); } catch (e) { continue; }
  for (const e of list) if (!found.includes(e)) found.push(e);
}
found.sort((a, b) => (a.compareDocumentPosition(b) & 4) ? -1 : 1);  // 4: DOCUMENT_POSITION_FOLLOWING
const linkOf = e => e.matches('a[href]') ? e : (e.closest('a[href]') || e.querySelector('a[href]'));
const groups = [];
for (const e of found) {
  const link = linkOf(e);
  const href = link ? link.href : '';
  let g = groups.find(g => g.members.some(m => m.contains(e) || e.contains(m)) || (href && g.href === href));
  if (!g) { g = {members: [], href: '', link: null}; groups.push(g); }
  g.members.push(e);
  if (href && !g.href) { g.href = href; g.link = link; }
}
const strip = v => {
  v = (v || '').trim();
  if (suffix && v.toLowerCase().endsWith(suffix.toLowerCase())) v = v.slice(0, v.length - suffix.length).trim();
  return v;
};
const value = (e, attr) => {
  if (attr === 'text') return e.innerText || e.textContent || '';
  if (attr === 'href') {
    const l = linkOf(e);
    if (!l) return '';
    try {
      const parts = new URL(l.href).pathname.split('/').filter(Boolean);
      return decodeURIComponent(parts[parts.length - 1] || '');
    } catch (x) { return ''; }
  }
  return e.getAttribute(attr) || '';
};
for (const g of groups) {
  g.name = '';
  for (const a of attrs) {
    for (const m of g.members) { g.name = strip(value(m, a)); if (g.name) break; }
    if (g.name) break;
  }
}
const kept = groups.filter(g => g.href || !groups.some(o => o.href && o.name === g.name
  && o.link.parentElement === g.members[0].parentElement));
let supplier = '';
for (const s of supplierSel) {
  let e;
  try { e = document.querySelector(s); } catch (x) { continue; }
  if (!e) continue;
  const v = (e.innerText || e.textContent || '').trim() || e.getAttribute('data-supplier-name')
    || e.getAttribute('title') || '';
  if (v.trim()) { supplier = v.trim(); break; }
}
let link = '';
for (const s of linkSel) {
  let list;
  try { list = document.querySelectorAll(s); } catch (x) { continue; }
  for (const e of list) { const a = e.matches('a[href]') ? e : e.closest('a[href]'); if (a) { link = a.href; break; } }
  if (link) break;
}
const inside = (e, sels) => sels.some(s => { try { return !!e.closest(s); } catch (x) { return false; } });
const source = e => inside(e, lineSel) ? 'line' : (inside(e, commentSel) ? 'comment' : 'header');
return {
  url: win.location.href, supplier: supplier, link: link,
  attachments: kept.map(g => ({
    name: g.name, href: g.href, target: withTargets ? (g.link || g.members[0]) : null, source: source(g.members[0]),
  })),
};
};
