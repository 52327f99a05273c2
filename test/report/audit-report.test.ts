// The audit report: zod schema, fleet summary and exit code, and the text, Markdown and HTML
// renderings of a fleet built from the captured lab hosts. The HTML report is opened in headless
// Chromium: no console errors, and every matrix cell equals the JSON.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { groupHosts } from '../../src/audit/audit-groups.ts';
import { type AuditReport, auditReportSchema, type HostAudit } from '../../src/audit/audit-schema.ts';
import { hostsWorstFirst, summarizeAudit } from '../../src/audit/audit-summary.ts';
import { renderAuditHtml, scriptSafeJson } from '../../src/report/audit-html.ts';
import { formatAuditMarkdown } from '../../src/report/audit-markdown.ts';
import { formatAuditText } from '../../src/report/audit-text.ts';
import { PLAIN } from '../../src/report/format-event.ts';
import { analyseHost } from '../../src/run/audit-fleet.ts';
import { auditFixture, fixtureTarget } from '../helpers/audit-fixture.ts';
import { CHROMIUM, probePage } from '../helpers/chromium.ts';

const HOSTILE = 'connection refused </script><script>window.pwned = 1</script> | pipe';

const fleet = async (): Promise<AuditReport> => {
  const a = await auditFixture('scenario-a');
  const b = await auditFixture('scenario-b');
  const unreachable = analyseHost({
    target: await fixtureTarget(),
    reach: { status: 'unreachable', error: HOSTILE },
    outcomes: new Map(),
    probes: { 22: 'filtered', 7777: 'filtered' },
    probeErrors: [],
  });
  const hosts: Record<string, HostAudit> = {
    'cas-001': a,
    'cas-002': { ...a, address: '10.99.1.2' },
    'cas-003': b,
    'cas-004': { ...b, address: '10.99.1.4' },
    'cas-005': await auditFixture('ufw-disabled'),
    'cas-006': await auditFixture('hand-rule-7777'),
    'cas-007': await auditFixture('mixed-vpn-skip'),
    'cas-008': unreachable,
  };
  return auditReportSchema.parse({ auditedAt: '2026-11-30T12:00:00.000Z', durationMs: 1234, hosts, summary: summarizeAudit(hosts) });
};

test('the report validates against its schema, and the schema refuses what it does not describe', async (t) => {
  const report = await fleet();
  t.notThrows(() => auditReportSchema.parse(JSON.parse(JSON.stringify(report))));
  const bad = JSON.parse(JSON.stringify(report));
  bad.hosts['cas-001'].scenario = 'C';
  t.throws(() => auditReportSchema.parse(bad));
  bad.hosts['cas-001'].scenario = 'A';
  bad.hosts['cas-001'].exposure['22'] = 'half-open';
  t.throws(() => auditReportSchema.parse(bad));
  delete bad.hosts['cas-001'].exposure['22'];
  bad.hosts['cas-001'].extra = true;
  t.throws(() => auditReportSchema.parse(bad));
});

test('summary: hosts per scenario, findings with hosts worst first, exit 4 beats exit 2', async (t) => {
  const { summary } = await fleet();
  t.deepEqual(summary.scenarios, {
    A: ['cas-001', 'cas-002', 'cas-005', 'cas-006'],
    B: ['cas-003', 'cas-004'],
    mixed: ['cas-007'],
    unknown: ['cas-008'],
  });
  t.deepEqual(summary.unreachable, ['cas-008']);
  t.is(summary.findings[0]?.severity, 'critical');
  t.deepEqual(summary.findings.find((f) => f.code === 'firewall-disabled')?.hosts, ['cas-005']);
  t.deepEqual(summary.findings.find((f) => f.code === 'scenario' && f.message.startsWith('Scenario A'))?.hosts, [
    'cas-001',
    'cas-002',
    'cas-005',
    'cas-006',
  ]);
  t.deepEqual(summary.worst, { critical: 2, warning: 2, info: 4 });
  t.is(summary.exitCode, 4);
});

test('exit codes: 0 without critical findings, 2 when a host could not be read', async (t) => {
  const a = await auditFixture('scenario-a');
  t.is(summarizeAudit({ x: a }).exitCode, 0);
  const report = await fleet();
  t.is(summarizeAudit({ x: a, y: report.hosts['cas-008']! }).exitCode, 2);
  t.deepEqual(hostsWorstFirst(report.hosts).slice(0, 2), ['cas-005', 'cas-006']);
});

test('identical hosts group together; their addresses do not split them', async (t) => {
  const groups = groupHosts(await fleet());
  t.deepEqual(
    groups.map((group) => group.hosts),
    [['cas-001', 'cas-002'], ['cas-003', 'cas-004'], ['cas-005'], ['cas-006'], ['cas-007'], ['cas-008']],
  );
});

test('text: one screen with scenarios, critical and warning findings, the matrix and the exit code', async (t) => {
  const text = formatAuditText(await fleet(), PLAIN);
  t.regex(text, /^AUDIT of 8 hosts · 2026-11-30T12:00:00Z · 1\.2 s$/m);
  t.regex(
    text,
    /^scenario {2}A 4 \(cas-001, cas-002, cas-005, cas-006\) · B 2 \(cas-003, cas-004\) · mixed 1 \(cas-007\) · unknown 1 \(cas-008\)$/m,
  );
  t.regex(text, /^ {2}firewall-disabled +1 host \(cas-005\): no firewall/m);
  t.regex(text, /^cas-001, cas-002 +A +open +- +- +- +open/m);
  t.regex(text, /^info: \d+ findings \(-v lists them\)$/m);
  t.regex(text, /exit 4: 2 hosts with a critical finding\n$/);
  t.true(text.split('\n').length < 45, `${text.split('\n').length} lines`);
  t.regex(formatAuditText(await fleet(), PLAIN, true), /^drift of cas-005 against scenario-a:\n {4}firewall \(ufw\): \+ enable ufw$/m);
});

test('markdown: tables with escaped pipes, a section per host group', async (t) => {
  const markdown = formatAuditMarkdown(await fleet());
  t.regex(markdown, /^# casfleet audit: 8 hosts$/m);
  t.regex(markdown, /^\| hosts \| scenario \| 22 \| 443 \| 7741 \| 7741@vpn \|/m);
  t.regex(markdown, /^\| cas-001, cas-002 \| A \| open \| - \| - \| - \| open \|/m);
  t.true(markdown.includes('\\| pipe'), 'a | in host output is escaped');
  t.regex(markdown, /^### cas-005: scenario A$/m);
});

test('HTML: self-contained, no network, data embedded so no host text can close the script', async (t) => {
  const html = renderAuditHtml(await fleet());
  t.regex(html, /Content-Security-Policy" content="default-src 'none';/);
  t.false(/\b(src|href)=["']?(https?:)?\/\//.test(html), 'no external resource');
  t.false(html.includes('</script><script>window.pwned'), 'the hostile message stays inside the JSON');
  t.is(scriptSafeJson('</script>\u2028'), '"\\u003c/script>\\u2028"');
});

// scripts/install-system-deps.sh installs Chromium; in CI (CI=true) a missing browser fails the test.
const chromiumTest = existsSync(CHROMIUM) || process.env.CI ? test : test.skip;

chromiumTest('HTML in Chromium: no errors, every matrix cell equals the JSON, filters, sort and details work', async (t) => {
  const report = await fleet();
  const file = join(mkdtempSync(join(tmpdir(), 'casfleet-audit-html-')), 'audit.html');
  writeFileSync(file, renderAuditHtml(report));
  const page = await probePage(file);
  t.deepEqual(page.errors, []);
  t.deepEqual(page.consoleLines, []);
  t.is(page.columns.join(' '), '22 443 7741 7741@vpn 7742 7743 7747 7747@vpn 7777 12000 12050 13000 13010');
  const shown: Record<string, string> = { open: 'open', closed: 'closed', filtered: '-' };
  const seen = new Set<string>();
  for (const row of page.rows) {
    for (const host of row.hosts) {
      seen.add(host);
      const audit = report.hosts[host]!;
      t.is(row.scenario, audit.scenario, host);
      for (const column of page.columns) {
        const state = audit.exposure[column];
        t.deepEqual(row.cells[column], [state ?? '', state ? shown[state]! : ''], `${host} ${column}`);
      }
    }
  }
  t.deepEqual([...seen].sort(), Object.keys(report.hosts).sort());
  t.deepEqual(page.filtered, { A: 3, B: 1, mixed: 1, unknown: 1 });
  t.deepEqual(page.sortedByWorst.slice(0, 2), ['cas-005', 'cas-006']);
  const disabled = page.details.find((text) => text.startsWith('cas-005'));
  t.true(disabled?.includes('drift against scenario-a') && disabled.includes('firewall (ufw): + enable ufw'), disabled);
  t.true(
    page.details.some((text) => text.includes(HOSTILE)),
    'hostile host output is shown as text',
  );
  t.regex(page.meta, /^audited 2026-11-30T12:00:00.000Z .* in 1\.2 s · 8 hosts · exit 4$/);
});
