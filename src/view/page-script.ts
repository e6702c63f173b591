/**
 * The page's script, served as is (no build step). It keeps every call's row
 * data keyed by the runtime's id and puts in the DOM only the rows in view,
 * applies snapshot/delta/tick frames from `/events`, and computes the shown
 * countdowns from the runtime's clock (`now` in each frame), never the
 * browser's. Data goes in with textContent only, and only text that changed.
 * Written without template literals so it can sit in this string.
 */
export const PAGE_SCRIPT = `'use strict';
(function () {
  var $ = function (s) { return document.querySelector(s); };
  var calls = new Map();
  var requests = [];
  var now = 0;
  var selected = null;
  var diagramNodes = null;

  function pad(n) { return String(n).padStart(2, '0'); }
  function dur(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ':' + pad(m) : String(m)) + ':' + pad(s % 60);
  }
  function until(at) {
    if (typeof at !== 'number') return '-';
    return at >= now ? 'in ' + dur(at - now) : 'overdue ' + dur(now - at);
  }
  function clockText(t) { return new Date(t).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'; }
  function live(c) { return !c.ended; }

  function nextText(c) {
    if (c.ended) return '-';
    if (c.state === 'keepAliveDue') return 'sending';
    if (c.state === 'retryWait') return c.retryAt ? 'retry ' + until(c.retryAt) : 'no retry left';
    if (c.state === 'hangingUp') return 'hanging up';
    return until(c.nextKeepAliveAt);
  }
  function endText(c) {
    if (!c.ended) return '';
    var e = c.ended, info = e.resultInfo, err = e.error;
    var t = e.reason;
    if (info && (info.code !== undefined || info.subcode !== undefined))
      t += ' (' + info.code + '/' + info.subcode + (info.message ? ' ' + info.message : '') + ')';
    else if (err && err.status) t += ' (HTTP ' + err.status + (err.code ? ' ' + err.code : '') + ')';
    return t;
  }
  function recordsInto(td, c) {
    var spans = td.children;
    for (var i = 0; i < c.records.length; i++) {
      var r = c.records[i];
      var span = spans[i];
      if (!span) { span = document.createElement('span'); span.className = 'rec'; td.appendChild(span); }
      var text = r.id + ' ' + r.step;
      if (typeof r.bytes === 'number') text += ' · ' + r.bytes + ' B';
      if (r.completionReason) text += ' · ' + r.completionReason;
      if (r.outcome) text += ' · ' + r.outcome;
      if (r.resultInfo && r.resultInfo.code !== undefined) text += ' (' + r.resultInfo.code + '/' + r.resultInfo.subcode + ')';
      span.dataset.record = r.id;
      span.dataset.step = r.step;
      if (span.textContent !== text) span.textContent = text;
    }
    while (td.children.length > c.records.length) td.removeChild(td.lastChild);
  }

  // Only the rows in view (plus a margin) are in the DOM: with 1,000 calls a full table costs
  // the browser a layout of every row each frame. Spacer rows stand for the rest.
  var box = $('#calls-box');
  var topPad = $('#calls-top');
  var bottomPad = $('#calls-bottom');
  var shownText = $('#shown');
  var pool = [];
  var order = [];
  var shown = [];
  var listDirty = true;
  var query = '';
  var rowH = 0;
  var MARGIN = 10;
  var COLS = ['id', 'state', 'since', 'next', 'deadline', 'count', 'records', 'end'];

  function setText(td, text) { if (td.t !== text) { td.t = text; td.textContent = text; } }
  function setClass(el, cls) { if (el.className !== cls) el.className = cls; }
  function newRow() {
    var tr = document.createElement('tr');
    tr.td = {};
    COLS.forEach(function (cls) {
      var td = document.createElement('td');
      td.className = cls;
      tr.td[cls] = td;
      tr.appendChild(td);
    });
    return tr;
  }
  function matches(c) {
    if (!query) return true;
    return c.id.toLowerCase().indexOf(query) >= 0 || c.key.indexOf(query.replace(/-/g, '')) >= 0
      || c.state.toLowerCase().indexOf(query) >= 0;
  }
  function bind(tr, c) {
    if (tr.key !== c.key) { tr.key = c.key; tr.c = null; tr.dataset.call = c.id; }
    if (tr.c !== c) {
      // A new row object from the stream: its fixed fields may have changed.
      tr.c = c;
      tr.dataset.state = c.state;
      setText(tr.td.id, c.id);
      setText(tr.td.state, c.state);
      setClass(tr.td.state, 'state state-' + c.state);
      setText(tr.td.count, String(c.keepAlives || 0));
      recordsInto(tr.td.records, c);
      setText(tr.td.end, endText(c));
    }
    setClass(tr, (live(c) ? '' : 'ended') + (c.key === selected ? ' selected' : ''));
    setText(tr.td.since, dur(now - c.since));
    setText(tr.td.next, nextText(c));
    // The deadline matters once keepAlives fail: then it is what ends the call.
    var late = live(c) && (c.failures || 0) > 0;
    setText(tr.td.deadline, live(c) ? until(c.deadlineAt) : '-');
    setClass(tr.td.deadline, late ? 'deadline late' : 'deadline');
  }
  function render() {
    if (listDirty) {
      shown = query ? order.filter(function (k) { return matches(calls.get(k)); }) : order;
      listDirty = false;
      setText(shownText, query ? shown.length + ' of ' + order.length + ' shown' : '');
    }
    var h = rowH || 28;
    var first = Math.max(0, Math.floor(box.scrollTop / h) - MARGIN);
    var last = Math.min(shown.length, first + Math.ceil(Math.max(box.clientHeight, window.innerHeight) / h) + 2 * MARGIN);
    while (pool.length > last - first) pool.pop().remove();
    while (pool.length < last - first) { var tr = newRow(); bottomPad.before(tr); pool.push(tr); }
    topPad.style.height = first * h + 'px';
    bottomPad.style.height = (shown.length - last) * h + 'px';
    for (var i = 0; i < pool.length; i++) bind(pool[i], calls.get(shown[first + i]));
    // Rows are one line each (nowrap): measured once, every row is as high.
    if (!rowH && pool.length) { rowH = pool[0].getBoundingClientRect().height || 28; if (rowH !== h) render(); }
  }
  box.addEventListener('scroll', render);
  $('#calls tbody').addEventListener('click', function (e) {
    var tr = e.target.closest('tr[data-call]');
    if (tr && tr.key) select(tr.key);
  });
  $('#filter').addEventListener('input', function (e) {
    query = e.target.value.trim().toLowerCase();
    listDirty = true;
    box.scrollTop = 0;
    render();
  });

  function remove(key) {
    calls.delete(key);
    if (selected === key) selected = null;
  }

  // Requests keyed by seq: a new one is one row inserted at the top, the rest stay untouched.
  var reqRows = new Map();
  var pendingRequests = 0;
  var framesSinceRequests = 0;
  function fillRequest(tr, r) {
    if (tr.r === r) return;
    tr.r = r;
    var ok = typeof r.status === 'number' && r.status < 300;
    setText(tr.td.at, clockText(r.at).slice(11, 19));
    setText(tr.td.path, r.method + ' ' + r.path);
    setText(tr.td.status, r.status !== undefined ? String(r.status) : (r.error || '?'));
    setClass(tr.td.status, ok ? 'status' : 'status bad');
    setText(tr.td.attempt, r.attempt ? String(r.attempt) : '');
    setText(tr.td.retry, typeof r.retryInMs === 'number' ? 'retry in ' + (r.retryInMs / 1000).toFixed(1) + ' s'
      : r.retryInMs === null ? 'no retry before the deadline' : '');
    setText(tr.td.took, typeof r.durationMs === 'number' ? Math.round(r.durationMs) + ' ms' : '');
  }
  function renderRequests() {
    var body = $('#requests tbody');
    var list = requests.slice(-50).reverse();
    var keep = new Set(list.map(function (r) { return r.seq; }));
    reqRows.forEach(function (tr, seq) { if (!keep.has(seq)) { tr.remove(); reqRows.delete(seq); } });
    list.forEach(function (r, i) {
      var tr = reqRows.get(r.seq);
      if (!tr) {
        tr = document.createElement('tr');
        tr.td = {};
        ['at', 'path', 'status', 'attempt', 'retry', 'took'].forEach(function (cls) {
          var td = document.createElement('td'); td.className = cls; tr.td[cls] = td; tr.appendChild(td);
        });
        reqRows.set(r.seq, tr);
      }
      fillRequest(tr, r);
      if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
    });
  }

  function select(key) {
    selected = key;
    pool.forEach(function (tr) { if (tr.c) bind(tr, tr.c); });
    light();
  }
  function light() {
    if (!selected || !calls.has(selected)) {
      var first = null;
      calls.forEach(function (c, k) { if (!first || (live(c) && !live(calls.get(first)))) first = k; });
      if (first) { select(first); return; }
    }
    var c = calls.get(selected);
    var state = c ? c.state : '';
    var box = $('#diagram');
    setText($('#selected'), c ? c.id + ' in ' + state : '');
    if (box.dataset.lit === state) return;
    box.dataset.lit = state;
    if (diagramNodes) diagramNodes.forEach(function (el, name) { el.classList.toggle('lit', name === state); });
  }

  function header() {
    setText($('#clock'), now ? clockText(now) : '-');
    var n = 0, e = 0;
    calls.forEach(function (c) { if (live(c)) n++; else e++; });
    setText($('#counts'), n + ' live · ' + e + ' ended');
  }

  function put(c) {
    if (!calls.has(c.key)) { order.push(c.key); listDirty = true; }
    else if (query) listDirty = true; // its state may now match the filter, or no longer
    calls.set(c.key, c);
  }
  function apply(f) {
    now = f.now;
    if (f.type === 'snapshot') {
      calls.clear();
      order = [];
      listDirty = true;
      f.calls.forEach(put);
      requests = f.requests;
      renderRequests();
      if (f.dropped) $('#dropped').textContent = f.dropped + ' frames dropped (caught up)';
    } else if (f.type === 'delta') {
      f.removed.forEach(remove);
      if (f.removed.length) { order = order.filter(function (k) { return calls.has(k); }); listDirty = true; }
      f.calls.forEach(put);
      // A delta may repeat requests the snapshot already had: seq tells.
      var last = requests.length ? requests[requests.length - 1].seq : 0;
      // Or update one (the machine's retry wait arrives after the attempt).
      var fresh = f.requests.filter(function (r) {
        if (r.seq > last) return true;
        for (var i = 0; i < requests.length; i++) if (requests[i].seq === r.seq) requests[i] = r;
        return false;
      });
      if (f.requests.length) { requests = requests.concat(fresh).slice(-50); pendingRequests += f.requests.length; }
    }
    // A few new requests show at once; a flood (1,000 calls: 40 a frame) every fifth frame, since
    // no one reads 200 lines a second and drawing them was most of the page's cost. A frame with
    // none new (the server sends one after every delta) draws what is left.
    framesSinceRequests++;
    var quiet = !f.requests || !f.requests.length;
    if (pendingRequests && (quiet || pendingRequests <= 10 || framesSinceRequests >= 5)) {
      renderRequests();
      pendingRequests = 0;
      framesSinceRequests = 0;
    }
    // Countdowns of the rows in view only, from this frame's runtime clock.
    render();
    header();
    light();
  }

  function drawDiagram(d) {
    var box = $('#diagram');
    if (window.mermaid) {
      window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral' });
      window.mermaid.render('call-diagram', d.call).then(function (out) {
        box.innerHTML = out.svg;
        box.dataset.renderer = 'mermaid';
        diagramNodes = new Map();
        box.querySelectorAll('g.statediagram-state').forEach(function (g) {
          var m = /-state-([A-Za-z0-9_]+)-\\d+$/.exec(g.id);
          if (m && d.states.indexOf(m[1]) >= 0) diagramNodes.set(m[1], g);
        });
        box.dataset.lit = '';
        light();
      }, function () { textDiagram(d); });
    } else textDiagram(d);
  }
  // Without mermaid (an optional peer dependency): the states as a list, the current one lit.
  function textDiagram(d) {
    var box = $('#diagram');
    var ol = document.createElement('ol');
    diagramNodes = new Map();
    d.states.forEach(function (s) {
      var li = document.createElement('li'); li.textContent = s; ol.appendChild(li); diagramNodes.set(s, li);
    });
    box.replaceChildren(ol);
    box.dataset.renderer = 'text';
    box.dataset.lit = '';
    light();
  }

  fetch('/diagram.json').then(function (r) { return r.json(); }).then(drawDiagram);
  var es = new EventSource('/events');
  es.onopen = function () { var c = $('#conn'); c.textContent = 'live'; c.className = 'ok'; };
  es.onerror = function () { var c = $('#conn'); c.textContent = 'reconnecting'; c.className = 'warn'; };
  es.onmessage = function (m) { apply(JSON.parse(m.data)); };
})();
`;
