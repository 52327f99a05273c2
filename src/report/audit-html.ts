// `casfleet audit --html FILE`: one self-contained page (no network: inline style and script, a
// Content-Security-Policy that forbids every fetch) to look at rather than read. The audit travels
// as JSON inside the page; the script renders a host × port matrix coloured by state, identical
// hosts on one row, sortable by any column, filterable by scenario, severity and name, and shows a
// row's evidence, findings and drift on click. Host output is only ever set as text, never as HTML.
import { exposureColumns, groupHosts } from '../audit/audit-groups.ts';
import type { AuditReport } from '../audit/audit-schema.ts';
import { AUDIT_PAGE_SCRIPT, AUDIT_PAGE_STYLE } from './audit-html-page.ts';

/** JSON that is safe inside a <script> element (no `</script>`, no line separators JS chokes on). */
export const scriptSafeJson = (value: unknown): string =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/** What the page script renders: the report, its matrix columns and the host groups. */
export const auditPageData = (report: AuditReport) => ({
  auditedAt: report.auditedAt,
  durationMs: report.durationMs,
  summary: report.summary,
  columns: exposureColumns(report),
  groups: groupHosts(report),
});

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

export const renderAuditHtml = (report: AuditReport): string => `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>casfleet audit: ${report.summary.hosts} hosts, ${report.auditedAt}</title>
<style>${AUDIT_PAGE_STYLE}</style>
</head>
<body>
<header id="head"><h1>casfleet audit</h1><p id="meta"></p><div id="counts"></div></header>
<section id="controls">
<label>scenario <select id="f-scenario"><option value="">all</option><option>A</option><option>B</option><option>mixed</option><option>unknown</option></select></label>
<label>worst severity <select id="f-severity"><option value="">all</option><option>critical</option><option>warning</option><option>info</option></select></label>
<label>host <input id="f-host" type="search" placeholder="name contains…"></label>
<span id="shown"></span>
</section>
<main><table id="matrix"><thead></thead><tbody></tbody></table>
<aside id="details"><p class="hint">Click a row for its evidence, findings and drift.</p></aside></main>
<noscript><p>This report needs JavaScript to render; casfleet audit --markdown gives the same content as text.</p></noscript>
<script type="application/json" id="audit-data">${scriptSafeJson(auditPageData(report))}</script>
<script>${AUDIT_PAGE_SCRIPT}</script>
</body>
</html>
`;
