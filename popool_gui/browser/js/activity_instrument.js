// The page's activity instrument (page_activity.py). `early` is true only for the copy installed before the page's
// own scripts. Every hook keeps the page's behaviour: the wrapped functions return what the originals return and
// rethrow what they throw. page_activity.instrument_source fills in the two placeholders (the timer horizon and
// `early`) before it runs.
(function (early) {
  if (window.__popoolActivity) { return; }
  const now = () => performance.now();
  const a = {early: early, requests: 0, timers: 0, intervals: 0, frames: 0, lastChange: now(), stamps: new WeakMap()};
  Object.defineProperty(window, '__popoolActivity', {value: a, enumerable: false});
  const touch = () => { a.lastChange = now(); };
  if (window.fetch) {
    const original = window.fetch;
    window.fetch = function () {
      a.requests++; touch();
      let done = false;
      const end = () => { if (!done) { done = true; a.requests--; touch(); } };
      try {
        const p = original.apply(this, arguments);
        p.then(end, end);
        return p;
      } catch (e) { end(); throw e; }
    };
  }
  // A fetch's promise settles when the headers arrive; reading its body is part of the same request, so it
  // counts as pending until the body is read (the page renders from it right after).
  if (window.Response) {
    for (const name of ['json', 'text', 'blob', 'arrayBuffer', 'formData']) {
      const read = Response.prototype[name];
      if (typeof read !== 'function') { continue; }
      Response.prototype[name] = function () {
        a.requests++; touch();
        let done = false;
        const end = () => { if (!done) { done = true; a.requests--; touch(); } };
        try {
          const p = read.apply(this, arguments);
          p.then(end, end);
          return p;
        } catch (e) { end(); throw e; }
      };
    }
  }
  if (window.XMLHttpRequest) {
    const send = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function () {
      a.requests++; touch();
      let done = false;
      this.addEventListener('loadend', () => { if (!done) { done = true; a.requests--; touch(); } });
      try { return send.apply(this, arguments); } catch (e) { if (!done) { done = true; a.requests--; } throw e; }
    };
  }
  // id -> [when it was set, when it is due]: a timer set before a page was given up on as never at rest still
  // holds its list back until it has fired (page_wait._busy_reason).
  const pending = new Map();
  Object.defineProperty(a, 'pendingTimers', {value: pending, enumerable: false});
  const setT = window.setTimeout, clearT = window.clearTimeout;
  window.setTimeout = function (fn, ms) {
    const delay = Number(ms) || 0;
    if (typeof fn !== 'function' || delay > __HORIZON__) { return setT.apply(this, arguments); }
    const rest = Array.prototype.slice.call(arguments, 2);
    let id;
    id = setT.call(this, function () {
      if (pending.delete(id)) { a.timers--; }
      touch();
      return fn.apply(this, rest);
    }, delay);
    pending.set(id, [now(), now() + delay]); a.timers++;
    return id;
  };
  window.clearTimeout = function (id) {
    if (pending.delete(id)) { a.timers--; }
    return clearT.apply(this, arguments);
  };
  // Repeating timers and animation frames: a page that has none is one whose every pending callback is counted.
  const intervals = new Set();
  const setI = window.setInterval, clearI = window.clearInterval;
  window.setInterval = function () {
    const id = setI.apply(this, arguments);
    if (!intervals.has(id)) { intervals.add(id); a.intervals++; }
    return id;
  };
  window.clearInterval = function (id) {
    if (intervals.delete(id)) { a.intervals--; }
    return clearI.apply(this, arguments);
  };
  if (window.requestAnimationFrame) {
    const frames = new Set();
    const raf = window.requestAnimationFrame, cancel = window.cancelAnimationFrame;
    window.requestAnimationFrame = function (fn) {
      let id;
      id = raf.call(this, function () {
        if (frames.delete(id)) { a.frames--; }
        return fn.apply(this, arguments);
      });
      frames.add(id); a.frames++;
      return id;
    };
    window.cancelAnimationFrame = function (id) {
      if (frames.delete(id)) { a.frames--; }
      return cancel.apply(this, arguments);
    };
  }
  const observer = new MutationObserver(records => {
    const t = now();
    a.lastChange = t;
    for (const r of records) {
      for (const n of r.addedNodes) { a.stamps.set(n, t); }
    }
  });
  observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})(__EARLY__);
