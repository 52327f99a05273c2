// The audit of an iptables-backend host (firewall: iptables), from the gather output captured on a
// lab host after `apply scenario-a -e firewall=iptables` (test/fixtures/audit/iptables-a) and small
// edits of it: backend, persistence, per-port verdicts from the managed chain, drift.
import test from 'ava';
import { auditFixture, codes } from '../helpers/audit-fixture.ts';

const RULES_V4 = '/etc/iptables/rules.v4';
const LINK = '/etc/systemd/system/multi-user.target.wants/casfleet-iptables.service';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
// A file's section of the captured gather with its content passed through `edit`.
const editFile =
  (path: string, edit: (content: string) => string) =>
  (text: string): string =>
    text.replace(
      new RegExp(
        `(casfleet-fact file\\.stat:${escapeRegExp(path)}\\n)stat (\\d+) (\\d+) (\\d+) \\d+ (.*)\\ncontent\\n([\\s\\S]*?)\\nend\\n`,
      ),
      (_, head: string, uid: string, gid: string, mode: string, rest: string, body: string) => {
        const content = edit(Buffer.from(body.replace(/\s/g, ''), 'base64').toString('latin1'));
        return `${head}stat ${uid} ${gid} ${mode} ${Buffer.byteLength(content, 'latin1')} ${rest}\ncontent\n${Buffer.from(content, 'latin1').toString('base64')}\nend\n`;
      },
    );
const dropLine = (needle: string) => (content: string) =>
  content
    .split('\n')
    .filter((line) => !line.includes(needle))
    .join('\n');

test('a converged iptables host: backend iptables, persisted, no drift, no critical or warning finding', async (t) => {
  const audit = await auditFixture('iptables-a');
  t.is(audit.scenario, 'A');
  t.like(audit.firewall, { backend: 'iptables', enabled: true, defaultIncoming: 'deny', persistence: true });
  // casfleet's own chain is the firewall here, never a foreign rule.
  t.deepEqual(audit.firewall?.kernel?.foreignRules, []);
  t.deepEqual(audit.drift, { against: 'scenario-a', changes: [], warnings: [] });
  t.deepEqual(codes(audit, 'critical'), []);
  t.deepEqual(codes(audit, 'warning'), []);
  t.deepEqual(codes(audit), ['scenario', 'ssh-open']);
});

test('per-port verdicts come from the managed chain: first match, then the final drop', async (t) => {
  const audit = await auditFixture('iptables-a');
  t.deepEqual(audit.rules['22'], { anyone: 'allow', from: [] });
  t.deepEqual(audit.rules['7742'], { anyone: 'allow', from: [] });
  t.deepEqual(audit.rules['12050'], { anyone: 'allow', from: [] });
  t.deepEqual(audit.rules['7777'], { anyone: 'block', from: [] });
  t.deepEqual(audit.rules['7741'], { anyone: 'block', from: [] });
  // No rule names 443: the drop of everything else on the public interface decides.
  t.deepEqual(audit.rules['443'], { anyone: 'block', from: [] });
  t.deepEqual(audit.rules['7747@vpn'], { anyone: 'block', from: [] });
});

test('a chain that accepts the admin GUI and an open 7777: critical, judged from the chain', async (t) => {
  const audit = await auditFixture('iptables-a', {
    gather: (text) => text.replaceAll('--comment "casfleet: admin GUI closed" -j DROP', '--comment "casfleet: admin GUI closed" -j ACCEPT'),
    probes: { 7777: 'open' },
  });
  t.deepEqual(audit.rules['7777'], { anyone: 'allow', from: [] });
  t.true(codes(audit, 'critical').includes('admin-gui-exposed'));
  // The running chain no longer matches the boot file, nor the plan.
  t.like(audit.firewall, { backend: 'iptables', persistence: false });
  t.true(codes(audit, 'warning').includes('drift'));
});

test('a stale rule file is a persistence warning naming the file, and drift against the iptables variant', async (t) => {
  const audit = await auditFixture('iptables-a', { gather: editFile(RULES_V4, dropLine('admin GUI closed')) });
  t.like(audit.firewall, { backend: 'iptables', persistence: false });
  const finding = audit.findings.find((entry) => entry.code === 'no-persistence');
  t.is(finding?.severity, 'warning');
  t.regex(finding?.message ?? '', /\/etc\/iptables\/rules\.v4 differs from the running chain/);
  t.deepEqual(
    audit.drift.changes.map((change) => change.step),
    ['firewall (iptables)'],
  );
  t.deepEqual(audit.drift.changes[0]?.summaries, ['~ /etc/iptables/rules.v4 (the IPv4 rules loaded at boot)']);
  t.deepEqual(codes(audit, 'critical'), []);
});

test('a boot unit that is not enabled is a persistence warning', async (t) => {
  const audit = await auditFixture('iptables-a', {
    gather: (text) =>
      text.replace(
        `${LINK}\nstat 0 0 777 45 root root symbolic link\ntarget /etc/systemd/system/casfleet-iptables.service`,
        `${LINK}\nstat 0 0 777 9 root root symbolic link\ntarget /dev/null`,
      ),
  });
  t.like(audit.firewall, { persistence: false });
  t.regex(audit.findings.find((entry) => entry.code === 'no-persistence')?.message ?? '', /casfleet-iptables\.service is not enabled/);
});

test('without the INPUT jump the chain does not filter: no iptables backend, the host has no firewall', async (t) => {
  const audit = await auditFixture('iptables-a', {
    gather: (text) => text.replaceAll('-A INPUT -m comment --comment "casfleet: managed chain" -j CASFLEET-INPUT\n', ''),
  });
  t.like(audit.firewall, { backend: 'none', enabled: false });
  t.true(codes(audit, 'critical').includes('firewall-disabled'));
});
