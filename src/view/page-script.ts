/**
 * The page's script, served as is (no build step). It keeps one table row
 * per call keyed by the runtime's id, applies snapshot/delta/tick frames from
 * `/events`, and computes every countdown from the runtime's clock (`now` in
 * each frame), never the browser's. Data goes in with textContent only.
 * Written without template literals so it can sit in this string.
 */
export const PAGE_SCRIPT = `'use strict';
(function () {
  var $ = function (s) { return document.querySelector(s); };
  var calls = new Map();
  var rows = new Map();
  var requests = [];
  var now = 0;
  var selected = null;
  var diagramNodes = null;
  var tbody = $('#calls tbody');

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
  function cell(tr, cls, text, extra) {
    var td = tr.querySelector('td.' + cls);
    if (td.textContent !== text) td.textContent = text;
    if (extra !== undefined) td.className = cls + ' ' + extra;
  }
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

  function rowFor(c) {
    var tr = rows.get(c.key);
    if (tr) return tr;
    tr = document.createElement('tr');
    ['id', 'state', 'since', 'next', 'deadline', 'count', 'records', 'end'].forEach(function (cls) {
      var td = document.createElement('td');
      td.className = cls;
      tr.appendChild(td);
    });
    tr.dataset.call = c.id;
    tr.addEventListener('click', function () { select(c.key); });
    rows.set(c.key, tr);
    tbody.appendChild(tr);
    return tr;
  }
  function renderCall(c) {
    var tr = rowFor(c);
    tr.dataset.state = c.state;
    tr.classList.toggle('ended', !live(c));
    cell(tr, 'id', c.id);
    cell(tr, 'state', c.state, 'state state-' + c.state);
    cell(tr, 'count', String(c.keepAlives || 0));
    recordsInto(tr.querySelector('td.records'), c);
    cell(tr, 'end', endText(c));
    renderTimes(c, tr);
  }
  function renderTimes(c, tr) {
    cell(tr, 'since', dur(now - c.since));
    cell(tr, 'next', nextText(c));
    // The deadline matters once keepAlives fail: then it is what ends the call.
    var late = live(c) && (c.failures || 0) > 0;
    cell(tr, 'deadline', live(c) ? until(c.deadlineAt) : '-', late ? 'late' : '');
  }
  function remove(key) {
    var tr = rows.get(key);
    if (tr) tr.remove();
    rows.delete(key);
    calls.delete(key);
    if (selected === key) selected = null;
  }

  function renderRequests() {
    var body = $('#requests tbody');
    var shown = requests.slice(-50).reverse();
    while (body.children.length < shown.length) {
      var tr = document.createElement('tr');
      ['at', 'path', 'status', 'attempt', 'retry', 'took'].forEach(function (cls) {
        var td = document.createElement('td'); td.className = cls; tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    shown.forEach(function (r, i) {
      var tr = body.children[i];
      var ok = typeof r.status === 'number' && r.status < 300;
      cell(tr, 'at', clockText(r.at).slice(11, 19));
      cell(tr, 'path', r.method + ' ' + r.path);
      cell(tr, 'status', r.status !== undefined ? String(r.status) : (r.error || '?'), ok ? '' : 'bad');
      cell(tr, 'attempt', r.attempt ? String(r.attempt) : '');
      cell(tr, 'retry', typeof r.retryInMs === 'number' ? 'retry in ' + (r.retryInMs / 1000).toFixed(1) + ' s'
        : r.retryInMs === null ? 'no retry before the deadline' : '');
      cell(tr, 'took', typeof r.durationMs === 'number' ? Math.round(r.durationMs) + ' ms' : '');
    });
  }

  function select(key) {
    selected = key;
    rows.forEach(function (tr, k) { tr.classList.toggle('selected', k === key); });
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
    $('#selected').textContent = c ? c.id + ' in ' + state : '';
    if (box.dataset.lit === state) return;
    box.dataset.lit = state;
    if (diagramNodes) diagramNodes.forEach(function (el, name) { el.classList.toggle('lit', name === state); });
  }

  function header() {
    $('#clock').textContent = now ? clockText(now) : '-';
    var n = 0, e = 0;
    calls.forEach(function (c) { if (live(c)) n++; else e++; });
    $('#counts').textContent = n + ' live · ' + e + ' ended';
  }

  function apply(f) {
    now = f.now;
    if (f.type === 'snapshot') {
      Array.from(rows.keys()).forEach(remove);
      f.calls.forEach(function (c) { calls.set(c.key, c); renderCall(c); });
      requests = f.requests;
      renderRequests();
      if (f.dropped) $('#dropped').textContent = f.dropped + ' frames dropped (caught up)';
    } else if (f.type === 'delta') {
      f.removed.forEach(remove);
      f.calls.forEach(function (c) { calls.set(c.key, c); renderCall(c); });
      // A delta may repeat requests the snapshot already had: seq tells.
      var last = requests.length ? requests[requests.length - 1].seq : 0;
      // Or update one (the machine's retry wait arrives after the attempt).
      var fresh = f.requests.filter(function (r) {
        if (r.seq > last) return true;
        for (var i = 0; i < requests.length; i++) if (requests[i].seq === r.seq) requests[i] = r;
        return false;
      });
      if (f.requests.length) { requests = requests.concat(fresh).slice(-50); renderRequests(); }
    }
    calls.forEach(function (c, k) { renderTimes(c, rows.get(k)); });
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
