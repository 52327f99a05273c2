// The support bundle's pure parts: redaction of gate.properties, terminal control characters
// removed from host output, the archive (read back with the system's tar), and the file list built
// from a captured lab gather: exactly the documented files, nothing else.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { summarizeAudit } from '../../src/audit/audit-summary.ts';
import { REDACTED, redactProperties, stripControl } from '../../src/bundle/redact.ts';
import { BUNDLE_FACTS, supportBundleFiles } from '../../src/bundle/support-bundle.ts';
import { tarGz } from '../../src/bundle/tar-archive.ts';
import { buildGatherScript, parseGatherOutput } from '../../src/facts/gather-script.ts';
import { auditFactsFor } from '../../src/run/audit-fleet.ts';
import { auditFixture, fixtureGather, fixtureTarget } from '../helpers/audit-fixture.ts';

test('secret-looking values are redacted by key and by shape; everything else stays byte for byte', (t) => {
  const input = [
    '# gate',
    'batm.processing-slots=20',
    'db.password = hunter2',
    'api.token:abc',
    'batm.vpn-skip=true',
    'opaque=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=',
    '#admin.secret=old-one',
    'multi.key=first\\',
    '   second',
    'empty.password=',
    '',
  ].join('\r\n');
  const { text, redacted } = redactProperties(input);
  t.deepEqual(redacted, ['db.password', 'api.token', 'opaque', 'multi.key']);
  t.is(
    text,
    [
      '# gate',
      'batm.processing-slots=20',
      `db.password = ${REDACTED}`,
      `api.token:${REDACTED}`,
      'batm.vpn-skip=true',
      `opaque=${REDACTED}`,
      `#admin.secret=${REDACTED}`,
      `multi.key=${REDACTED}`,
      'empty.password=',
      '',
    ].join('\r\n'),
  );
});

test('terminal control sequences are removed, tabs and newlines kept', (t) => {
  t.is(stripControl('a\u001b[31mred\u001b[0m\tb\r\nc\u001b]0;title\u0007d\u0000e\u009bf\n'), 'ared\tb\ncdef\n');
});

test('the archive is a tar.gz the system tar reads back', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-tar-'));
  const file = join(dir, 'b.tar.gz');
  writeFileSync(
    file,
    tarGz(
      [
        { name: 'x/a.txt', content: 'hello\n' },
        { name: 'x/empty', content: '' },
        { name: 'x/big', content: 'y'.repeat(1500), mode: 0o600 },
      ],
      1_800_000_000,
    ),
  );
  const list = spawnSync('tar', ['tzvf', file], { encoding: 'utf8' });
  t.is(list.status, 0, list.stderr);
  t.regex(list.stdout, /-rw-r--r-- root\/root\s+6 2027-01-15 \d\d:\d\d x\/a\.txt/);
  t.regex(list.stdout, /-rw------- root\/root\s+1500 .* x\/big/);
  const content = spawnSync('tar', ['xzOf', file, 'x/big'], { encoding: 'utf8' });
  t.is(content.stdout, 'y'.repeat(1500));
});

test('the bundle holds exactly the documented files, with host output cleaned', async (t) => {
  const target = await fixtureTarget();
  const facts = [...auditFactsFor(target), ...Object.values(BUNDLE_FACTS)];
  t.regex(buildGatherScript(facts), /iptables-save/);
  // The lab capture holds the audit facts; the bundle's own commands are added as the host prints them.
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const command = (id: string, text: string) =>
    `\u001ecasfleet-fact command:${id}\npresent yes\nexit 0\ncontent\n${b64(text)}\nend\n\n\u001ecasfleet-end command:${id} 0\n`;
  const gather =
    fixtureGather('scenario-a') +
    command('iptables-save', '*filter\n:INPUT DROP [0:0]\nCOMMIT\n') +
    command('ip6tables-save', '*filter\nCOMMIT\n') +
    command('ufw-status-verbose', 'Status: active\u001b[0m\n') +
    command('os-release', 'ID=debian\n') +
    command('uname', 'Linux 6.1\n') +
    '\u001ecasfleet-fact command:packages\npresent yes\nexit 1\ncontent\n' +
    b64('ufw 0.36.2-1\ndpkg-query: no packages found matching nginx\n') +
    '\nend\n\n\u001ecasfleet-end command:packages 0\n';
  const audit = await auditFixture('scenario-a');
  const files = supportBundleFiles({
    host: 'cas-001',
    report: {
      auditedAt: '2026-11-30T12:00:00.000Z',
      durationMs: 5,
      hosts: { 'cas-001': audit },
      summary: summarizeAudit({ 'cas-001': audit }),
    },
    outcomes: parseGatherOutput(gather, facts),
    createdAt: new Date('2026-11-30T12:00:00Z'),
    casfleetVersion: '0.1.0',
  });
  const byName = Object.fromEntries(files.map((file) => [file.name.replace(/^[^/]+\//, ''), String(file.content)]));
  t.deepEqual(Object.keys(byName), [
    'README.txt',
    'iptables-save.txt',
    'ip6tables-save.txt',
    'ufw-status-verbose.txt',
    'batm-manage-info.txt',
    'batm-config-network.txt',
    'gate.properties',
    'versions.txt',
    'audit.json',
    'audit.txt',
  ]);
  t.true(files.every((file) => file.name.startsWith('casfleet-support-cas-001-20261130T120000Z/')));
  t.is(byName['iptables-save.txt'], '*filter\n:INPUT DROP [0:0]\nCOMMIT\n');
  t.is(byName['ufw-status-verbose.txt'], 'Status: active\n');
  t.regex(byName['batm-manage-info.txt']!, /^Master: running\nAdmin: running\nGate: running\nAdmin IP: 10\.3\.2\.2:7777\n$/);
  t.regex(byName['batm-config-network.txt']!, /^public_ip=10\.99\.1\.1\nmaster_bind_ip=10\.3\.2\.1\n/);
  t.regex(byName['gate.properties']!, /^batm\.processing-slots=20$/m);
  t.regex(byName['versions.txt']!, /# dpkg-query exited 1\nufw 0\.36\.2-1\n/);
  t.is(JSON.parse(byName['audit.json']!).hosts['cas-001'].scenario, 'A');
});
