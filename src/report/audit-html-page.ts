// The style and the script of the HTML audit report, as text inlined into the page (see
// audit-html.ts). Plain ES2017 for any current browser; it reads the JSON in #audit-data and only
// ever writes text nodes. Tested in headless Chromium (test/report/audit-html-browser.test.ts).

export const AUDIT_PAGE_STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header, #controls { padding: 10px 18px; }
header { background: #1d2330; color: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; }
#meta { margin: 0 0 6px; color: #c8cdd8; }
#counts span { display: inline-block; margin: 0 10px 4px 0; padding: 2px 8px; border-radius: 10px; background: #343c4f; }
#counts .critical { background: #b3261e; } #counts .warning { background: #9a6700; }
#controls { background: #e8ebf0; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
main { display: flex; flex-wrap: wrap; gap: 14px; padding: 12px 18px; align-items: flex-start; }
table { border-collapse: collapse; background: #fff; font-size: 13px; }
th, td { border: 1px solid #d5d9e0; padding: 3px 6px; text-align: center; white-space: nowrap; }
th { background: #eef0f4; cursor: pointer; user-select: none; }
th.sorted-asc::after { content: " \\25B2"; } th.sorted-desc::after { content: " \\25BC"; }
td.hosts { text-align: left; max-width: 260px; overflow: hidden; text-overflow: ellipsis; }
tbody tr { cursor: pointer; } tbody tr:hover td { outline: 1px solid #7a869a; }
tbody tr.selected td { background-image: linear-gradient(rgba(40,90,200,.12), rgba(40,90,200,.12)); }
td.st-open { background: #ffd8a8; } td.st-closed { background: #fff3bf; } td.st-filtered { background: #d3f9d8; color: #2b8a3e; } td.st-none { background: #f1f3f5; color: #adb5bd; }
.sev { font-weight: 600; border-radius: 8px; padding: 0 6px; }
.sev.critical { background: #b3261e; color: #fff; } .sev.warning { background: #f5c04a; } .sev.info { background: #dde3ec; }
aside { flex: 1 1 420px; max-width: 900px; background: #fff; border: 1px solid #d5d9e0; padding: 10px 14px; }
aside h2 { font-size: 15px; margin: 4px 0 8px; } aside h3 { font-size: 13px; margin: 12px 0 4px; }
aside ul { margin: 0; padding-left: 18px; } aside code { font-size: 12px; }
.hint { color: #6b7280; }
`;

export const AUDIT_PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('audit-data').textContent);
  var RANK = { critical: 0, warning: 1, info: 2 };
  var STATE_RANK = { open: 0, closed: 1, filtered: 2 };
  var SHORT = { open: 'open', closed: 'closed', filtered: '-' };
  var sort = { column: null, descending: false };
  var selected = null;

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }
  function worst(audit) {
    var best = null;
    audit.findings.forEach(function (f) { if (best === null || RANK[f.severity] < RANK[best]) best = f.severity; });
    return best;
  }
  function hostLabel(hosts) {
    return hosts.length === 1 ? hosts[0] : hosts.length + ' hosts: ' + hosts.slice(0, 3).join(', ') + (hosts.length > 3 ? ', …' : '');
  }

  var when = new Date(data.auditedAt);
  document.getElementById('meta').textContent =
    'audited ' + data.auditedAt + ' (' + when.toLocaleString() + ' local) in ' + (data.durationMs / 1000).toFixed(1) + ' s · ' +
    data.summary.hosts + ' hosts · exit ' + data.summary.exitCode;
  var counts = document.getElementById('counts');
  ['A', 'B', 'mixed', 'unknown'].forEach(function (s) {
    counts.appendChild(el('span', 'scenario ' + s + ': ' + data.summary.scenarios[s].length));
  });
  ['critical', 'warning', 'info'].forEach(function (s) {
    counts.appendChild(el('span', s + ': ' + data.summary.worst[s] + (data.summary.worst[s] === 1 ? ' host' : ' hosts'), s));
  });
  if (data.summary.unreachable.length) counts.appendChild(el('span', 'unreachable: ' + data.summary.unreachable.join(', '), 'critical'));

  var headers = [
    { id: 'hosts', label: 'hosts', key: function (g) { return g.hosts[0]; } },
    { id: 'scenario', label: 'scenario', key: function (g) { return g.audit.scenario; } },
    { id: 'worst', label: 'worst', key: function (g) { var w = worst(g.audit); return w === null ? 3 : RANK[w]; } },
    { id: 'findings', label: 'findings', key: function (g) { return -g.audit.findings.filter(function (f) { return f.severity !== 'info'; }).length; } }
  ].concat(data.columns.map(function (column) {
    return { id: 'port:' + column, label: column, port: column, key: function (g) { var s = g.audit.exposure[column]; return s ? STATE_RANK[s] : 3; } };
  }));

  var thead = document.querySelector('#matrix thead');
  var headRow = el('tr');
  headers.forEach(function (h) {
    var th = el('th', h.label);
    th.dataset.column = h.id;
    th.title = 'sort by ' + h.label;
    th.addEventListener('click', function () {
      sort.descending = sort.column === h.id ? !sort.descending : false;
      sort.column = h.id;
      render();
    });
    headRow.appendChild(th);
  });
  thead.appendChild(headRow);

  function visible(group) {
    var scenario = document.getElementById('f-scenario').value;
    var severity = document.getElementById('f-severity').value;
    var text = document.getElementById('f-host').value.trim().toLowerCase();
    if (scenario && group.audit.scenario !== scenario) return false;
    if (severity && worst(group.audit) !== severity) return false;
    if (text && !group.hosts.some(function (h) { return h.toLowerCase().indexOf(text) !== -1; })) return false;
    return true;
  }

  function render() {
    var rows = data.groups.map(function (g, i) { return { group: g, index: i }; }).filter(function (r) { return visible(r.group); });
    var header = headers.filter(function (h) { return h.id === sort.column; })[0];
    if (header) {
      rows.sort(function (a, b) {
        var x = header.key(a.group), y = header.key(b.group);
        var order = x < y ? -1 : x > y ? 1 : a.index - b.index;
        return sort.descending ? -order : order;
      });
    }
    Array.prototype.forEach.call(thead.querySelectorAll('th'), function (th) {
      th.className = th.dataset.column === sort.column ? (sort.descending ? 'sorted-desc' : 'sorted-asc') : '';
    });
    var tbody = document.querySelector('#matrix tbody');
    tbody.textContent = '';
    rows.forEach(function (r) {
      var g = r.group;
      var tr = el('tr');
      tr.dataset.group = String(r.index);
      tr.dataset.hosts = g.hosts.join(',');
      if (selected === r.index) tr.className = 'selected';
      var name = el('td', hostLabel(g.hosts), 'hosts');
      name.title = g.hosts.join(', ');
      tr.appendChild(name);
      tr.appendChild(el('td', g.audit.scenario));
      var w = worst(g.audit);
      var wc = el('td');
      if (w) wc.appendChild(el('span', w, 'sev ' + w));
      tr.appendChild(wc);
      tr.appendChild(el('td', g.audit.findings.filter(function (f) { return f.severity !== 'info'; }).length));
      data.columns.forEach(function (column) {
        var state = g.audit.exposure[column];
        var td = el('td', state ? SHORT[state] : '', 'st-' + (state || 'none'));
        td.dataset.port = column;
        td.dataset.state = state || '';
        td.title = column + ': ' + (state || 'not probed');
        tr.appendChild(td);
      });
      tr.addEventListener('click', function () { selected = r.index; render(); showDetails(g); });
      tbody.appendChild(tr);
    });
    document.getElementById('shown').textContent = rows.length + ' of ' + data.groups.length + ' rows';
  }

  function list(parent, items) {
    var ul = el('ul');
    items.forEach(function (item) { ul.appendChild(item); });
    parent.appendChild(ul);
  }

  function showDetails(g) {
    var a = g.audit;
    var box = document.getElementById('details');
    box.textContent = '';
    box.appendChild(el('h2', hostLabel(g.hosts) + ' · scenario ' + a.scenario));
    box.appendChild(el('p', g.hosts.join(', ')));
    box.appendChild(el('p', 'status: ' + a.status + (a.error ? ' (' + a.error + ')' : '')));
    box.appendChild(el('h3', 'evidence'));
    list(box, a.evidence.map(function (e) { return el('li', (e.says ? '[' + e.says + '] ' : '') + e.text); }));
    box.appendChild(el('h3', 'findings'));
    list(box, a.findings.map(function (f) {
      var li = el('li');
      li.appendChild(el('span', f.severity, 'sev ' + f.severity));
      li.appendChild(document.createTextNode(' ' + f.code + ': ' + f.message));
      return li;
    }));
    box.appendChild(el('h3', 'firewall'));
    box.appendChild(el('p', a.firewall
      ? a.firewall.backend + ', ' + (a.firewall.enabled ? 'filtering' : 'not filtering') + (a.firewall.defaultIncoming ? ', default incoming ' + a.firewall.defaultIncoming : '')
      : 'not read'));
    var rules = Object.keys(a.rules);
    if (rules.length) {
      list(box, rules.map(function (port) {
        var v = a.rules[port];
        return el('li', port + ': ' + (v.anyone === 'allow' ? 'allowed for anyone' : 'blocked for anyone') + (v.from.length ? '; allowed from ' + v.from.join(', ') : ''));
      }));
    }
    box.appendChild(el('h3', 'services'));
    box.appendChild(el('p', 'gate ' + a.services.gate + ' · master ' + a.services.master + ' · admin ' + a.services.admin));
    box.appendChild(el('h3', 'drift' + (a.drift.against ? ' against ' + a.drift.against : '')));
    if (a.drift.error) box.appendChild(el('p', a.drift.error));
    var changes = [];
    a.drift.changes.forEach(function (c) { c.summaries.forEach(function (s) { changes.push(el('li', c.step + ': ' + s)); }); });
    if (changes.length) list(box, changes); else if (!a.drift.error) box.appendChild(el('p', a.drift.against ? 'none: the host matches its scenario' : 'not computed'));
    if (a.drift.warnings.length) list(box, a.drift.warnings.map(function (w) { return el('li', 'warning: ' + w); }));
  }

  ['f-scenario', 'f-severity', 'f-host'].forEach(function (id) {
    document.getElementById(id).addEventListener('input', render);
  });
  // #host=NAME opens that host's row, so a link can point at one server.
  var wanted = /^#host=(.+)$/.exec(location.hash);
  if (wanted) {
    var name = decodeURIComponent(wanted[1]);
    data.groups.forEach(function (g, i) { if (g.hosts.indexOf(name) !== -1) { selected = i; showDetails(g); } });
  }
  render();
})();
`;
