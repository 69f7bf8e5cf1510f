// One round trip per poll (page_wait.py): every marker the profile knows, evaluated in the page, and what the page's
// activity instrument (activity_instrument.js) has seen. A function of the window it looks at, so the home tab can
// look into the PO tabs it opened (same origin) in one round trip, without switching the driver to each.
// Defines `probe`; page_wait.py appends the call that runs it on the driver's own tab, or probe_named_tabs.js.
const probe = (win, loginSel, errorSel, readySel, attachSel, loadingSel, notFound, denied, serverError) => {
const document = win.document, performance = win.performance, location = win.location;
const getComputedStyle = e => win.getComputedStyle(e);
const present = (sels, needText) => sels.some(s => {
  let found;
  try { found = document.querySelectorAll(s); } catch (e) { return false; }
  return Array.from(found).some(e => !needText || (e.innerText || e.textContent || '').trim() !== '');
});
const visible = e => {
  if (!e.getClientRects().length) return false;
  const style = getComputedStyle(e);
  return style.visibility !== 'hidden' && style.display !== 'none' && Number(style.opacity) !== 0;
};
const body = document.body ? (document.body.innerText || document.body.textContent || '') : '';
const text = ((document.title || '') + '\n' + body).toLowerCase();
const has = list => list.some(t => text.includes(t));
const seen = new Set();
for (const s of attachSel) {
  try { document.querySelectorAll(s).forEach(e => seen.add(e)); } catch (e) { /* checked at load */ }
}
let loading = false;
for (const s of loadingSel) {
  try { if (Array.from(document.querySelectorAll(s)).some(visible)) { loading = true; break; } } catch (e) { }
}
const t = performance.now();
const nav = performance.getEntriesByType('navigation')[0];
const code = document.querySelector('.error-code');
const loadEnd = nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : -1;
const act = win.__popoolActivity;
let first = -1;
if (act && seen.size && loadEnd >= 0) {
  // When the first attachment entered the DOM: the stamp of the node it was inserted with. An element with no
  // stamp came before a late instrument, so when the list appeared is not known.
  let earliest = Infinity, unknown = false;
  for (const e of seen) {
    let stamp = null;
    for (let n = e; n; n = n.parentNode) { if (act.stamps.has(n)) { stamp = act.stamps.get(n); break; } }
    if (stamp === null) { unknown = true; } else { earliest = Math.min(earliest, stamp); }
  }
  if (!unknown && earliest !== Infinity) first = Math.max(0, earliest - loadEnd);
}
return {
  url: location.href, state: document.readyState, login: present(loginSel, false),
  notFound: has(notFound), denied: has(denied), errorShown: present(errorSel, true),
  serverError: has(serverError), ready: present(readySel, false), attachments: seen.size, loading: loading,
  sinceLoad: loadEnd >= 0 ? t - loadEnd : -1, instrumented: !!act, early: !!(act && act.early),
  requests: act ? act.requests : 0, timers: act ? act.timers : 0, quiet: act ? t - act.lastChange : -1,
  intervals: act ? act.intervals : 0, frames: act ? act.frames : 0,
  timerTimes: act && act.pendingTimers && loadEnd >= 0
    ? Array.from(act.pendingTimers.values()).map(([set, due]) => [set - loadEnd, due - loadEnd]) : [],
  firstAttachment: first, status: nav && nav.responseStatus ? nav.responseStatus : 0,
  errorCode: code ? (code.textContent || '') : '',
};
};
