/** The live view's page and style: static text, no data (everything arrives by the event stream). */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Calls · graph-call-machines</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
<script defer src="/vendor/mermaid.min.js"></script>
<script defer src="/app.js"></script>
</head>
<body>
<header>
  <h1>Calls</h1>
  <span>runtime clock <b id="clock">-</b></span>
  <span id="counts"></span>
  <span id="conn" class="warn">connecting</span>
  <span id="dropped"></span>
</header>
<main>
  <section id="diagram-panel">
    <h2>Call machine <small id="selected"></small></h2>
    <div id="diagram" data-lit=""></div>
  </section>
  <section>
    <h2>Calls <input id="filter" type="search" placeholder="filter: call id or state" aria-label="filter calls"> <small id="shown"></small></h2>
    <div id="calls-box">
    <table id="calls">
      <thead><tr>
        <th>call</th><th>state</th><th>in state</th><th>next keepAlive</th><th>deadline (45 min)</th>
        <th>keepAlives</th><th>recordings</th><th>end (resultInfo)</th>
      </tr></thead>
      <tbody><tr id="calls-top" class="pad"><td colspan="8"></td></tr><tr id="calls-bottom" class="pad"><td colspan="8"></td></tr></tbody>
    </table>
    </div>
  </section>
  <section>
    <h2>Graph requests</h2>
    <table id="requests">
      <thead><tr><th>at</th><th>request</th><th>status</th><th>attempt</th><th>retry wait</th><th>took</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
</body>
</html>
`;

export const PAGE_CSS = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #1b1f23; background: #fafbfc; }
body { margin: 0; }
header { display: flex; gap: 1.5em; align-items: baseline; padding: .6em 1em; background: #24292e; color: #fff; }
header h1 { font-size: 1.2em; margin: 0; }
main { padding: .5em 1em; }
h2 { font-size: 1em; margin: 1em 0 .4em; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #e1e4e8; white-space: nowrap; }
th { font-weight: 600; background: #f6f8fa; }
td.id, td.path { font-family: ui-monospace, monospace; font-size: .9em; }
td.path { max-width: 46em; overflow: hidden; text-overflow: ellipsis; }
tr[data-call] { cursor: pointer; }
/* The calls list scrolls in its own box, rows one line high, columns fixed: the page renders only
   the rows in view and a row coming into view does not reflow the others. */
#calls-box { max-height: 70vh; overflow-y: auto; border: 1px solid #e1e4e8; }
#calls, #requests { table-layout: fixed; }
#requests th:nth-child(1) { width: 6em; }
#requests th:nth-child(3), #requests th:nth-child(4), #requests th:nth-child(6) { width: 5em; }
#requests th:nth-child(5) { width: 16em; }
#calls th { position: sticky; top: 0; z-index: 1; }
#calls td { overflow: hidden; text-overflow: ellipsis; }
#calls tr.pad td { padding: 0; border: 0; }
#calls th:nth-child(1) { width: 24em; }
#calls th:nth-child(2) { width: 8em; }
#calls th:nth-child(3), #calls th:nth-child(6) { width: 6em; }
#calls th:nth-child(4), #calls th:nth-child(5) { width: 10em; }
#calls th:nth-child(8) { width: 18em; }
#filter { font: inherit; font-weight: normal; margin-left: 1em; width: 18em; }
tr.selected { outline: 2px solid #0366d6; }
tr.ended { color: #6a737d; }
.state { font-weight: 600; }
.state-keepAliveDue, .state-retryWait, .state-hangingUp { color: #b08800; }
.state-draining, .state-ended { color: #6a737d; }
.late { color: #cb2431; font-weight: 600; }
.warn { color: #f9c513; }
.ok { color: #85e89d; }
.rec { display: inline-block; margin-right: .8em; }
.rec[data-step=failed] { color: #cb2431; }
.rec[data-step=deleted] { color: #22863a; }
.bad { color: #cb2431; }
#diagram { background: #fff; border: 1px solid #e1e4e8; padding: .5em; overflow-x: auto; }
#diagram svg { max-width: 100%; height: auto; }
#diagram g.lit rect, #diagram g.lit path { fill: #fff176 !important; stroke: #f57f17 !important; stroke-width: 3px !important; }
#diagram ol { display: flex; flex-wrap: wrap; gap: .4em; list-style: none; padding: 0; margin: 0; }
#diagram li { border: 1px solid #959da5; border-radius: 4px; padding: .2em .6em; }
#diagram li.lit { background: #fff176; border-color: #f57f17; font-weight: 600; }
`;
