// casfleet audit and support-bundle end to end on a real lab: Scenario A hosts, Scenario B hosts, a
// host with ufw disabled, one with a hand rule opening 7777 outside ufw, one half-way between A
// and B, and one switched to the iptables backend (firewall: iptables). Each must be classified correctly, the audit must exit 4, its HTML report must open in
// Chromium and show every host, and nothing on any host may change (files, iptables, batm-manage
// calls other than `info`).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { type AuditReport, auditReportSchema } from '../../src/audit/audit-schema.ts';
import { run } from '../../src/lab/lab-exec.ts';
import { CHROMIUM, probePage } from '../helpers/chromium.ts';
import { runCli } from '../helpers/cli.ts';
import { labUnavailableReason, startLab, stopLab, type TestLab } from '../helpers/lab.ts';

const unavailable = labUnavailableReason();
const serial = unavailable ? test.serial.skip : test.serial;
let lab: TestLab | undefined;
const HOSTS = ['cas-001', 'cas-002', 'cas-003', 'cas-004', 'cas-005', 'cas-006', 'cas-007', 'cas-008'];

const the = (): TestLab => {
  if (!lab) throw new Error('lab not started');
  return lab;
};

const cli = (...args: string[]) => runCli([...args, '-i', the().inventoryPath]);

const onHost = (host: string, script: string): Promise<string> => the().sh(host, script);

// Everything the audit must leave alone: files casfleet or CAS own, the live tables (without packet
// counters and timestamps), the backups, the services' state, and batm-manage's call log.
const SNAPSHOT = `
find /etc/ufw /etc/default/ufw /etc/iptables /etc/systemd/system/casfleet-iptables.service /batm/config /batm/vpngen /batm/run-state /var/backups -type f -exec sha256sum {} + 2>/dev/null | sort
echo ---; iptables-save | sed -e 's/\\[[0-9]*:[0-9]*\\]//' -e '/^#/d'
echo ---; ip6tables-save | sed -e 's/\\[[0-9]*:[0-9]*\\]//' -e '/^#/d'
echo ---; cat /batm/logs/batm-manage.log 2>/dev/null || true`;

interface Snapshot {
  readonly state: string;
  readonly calls: string[];
}

const snapshot = async (host: string): Promise<Snapshot> => {
  const text = await onHost(host, SNAPSHOT);
  const cut = text.lastIndexOf('---\n');
  return {
    state: text.slice(0, cut),
    calls: text
      .slice(cut + 4)
      .split('\n')
      .filter(Boolean),
  };
};

test.before(async () => {
  if (unavailable) return;
  lab = await startLab({ hosts: HOSTS.length, prefix: 'aud' });
  const a = await cli('apply', 'scenario-a', '--yes', '--json');
  if (a.code !== 0) throw new Error(`scenario-a: ${a.stdout}${a.stderr}`);
  const b = await cli('apply', 'scenario-b', '-l', 'cas-003,cas-004', '--yes', '--json');
  if (b.code !== 0) throw new Error(`scenario-b: ${b.stdout}${b.stderr}`);
  await onHost('cas-005', 'ufw disable >/dev/null');
  await onHost('cas-006', 'iptables -I INPUT -p tcp --dport 7777 -j ACCEPT');
  await onHost('cas-007', 'echo batm.vpn-skip=true >> /batm/config/gate.properties');
  const iptables = await cli('apply', 'scenario-a', '-l', 'cas-008', '-e', 'firewall=iptables', '--yes', '--json');
  if (iptables.code !== 0) throw new Error(`scenario-a with iptables: ${iptables.stdout}${iptables.stderr}`);
});
test.after.always(async () => {
  await stopLab(lab);
});

let report: AuditReport | undefined;
const before: Record<string, Snapshot> = {};

serial('audit classifies every host, finds the criticals and exits 4', async (t) => {
  for (const host of HOSTS) before[host] = await snapshot(host);
  const html = join(mkdtempSync(join(tmpdir(), 'casfleet-audit-lab-')), 'audit.html');
  const result = await cli('audit', '--json', '--html', html);
  t.is(result.code, 4, result.stderr);
  report = auditReportSchema.parse(JSON.parse(result.stdout));
  const scenarios = Object.fromEntries(Object.entries(report.hosts).map(([host, audit]) => [host, audit.scenario]));
  t.deepEqual(scenarios, {
    'cas-001': 'A',
    'cas-002': 'A',
    'cas-003': 'B',
    'cas-004': 'B',
    'cas-005': 'A',
    'cas-006': 'A',
    'cas-007': 'mixed',
    'cas-008': 'A',
  });
  const critical = (host: string) =>
    report!.hosts[host]!.findings.filter((f) => f.severity === 'critical')
      .map((f) => f.code)
      .sort();
  for (const host of ['cas-001', 'cas-002', 'cas-003', 'cas-004', 'cas-007', 'cas-008']) t.deepEqual(critical(host), [], host);
  t.deepEqual(critical('cas-005'), ['admin-gui-exposed', 'firewall-disabled', 'master-exposed', 'master-exposed', 'pairing-port-open']);
  t.deepEqual(critical('cas-006'), ['admin-gui-exposed']);
  t.true(report.hosts['cas-007']!.findings.some((f) => f.code === 'mixed-scenario'));
  // The outside view: B closes the terminal VPN, the hand rule opens 7777, nothing filters on cas-005.
  t.is(report.hosts['cas-003']!.exposure['7742'], 'filtered');
  t.is(report.hosts['cas-001']!.exposure['7742'], 'open');
  t.is(report.hosts['cas-006']!.exposure['7777'], 'open');
  // The live tables name the hand rule; ufw's own chains are as its files say.
  t.deepEqual(report.hosts['cas-006']!.firewall?.kernel?.foreignRules, [
    { rule: '-A INPUT -p tcp -m tcp --dport 7777 -j ACCEPT', ports: ['7777'] },
  ]);
  t.true(report.hosts['cas-001']!.firewall?.kernel?.inSync);
  t.is(report.hosts['cas-001']!.exposure['7741@vpn'], 'filtered');
  t.is(report.hosts['cas-005']!.exposure['7741@vpn'], 'open');
  t.deepEqual(report.hosts['cas-005']!.drift.changes[0]?.summaries[0], '+ enable ufw');
  t.deepEqual(report.hosts['cas-001']!.drift.changes, []);
  t.deepEqual(report.summary.scenarios.mixed, ['cas-007']);
  // The iptables host: casfleet's chain is its firewall (not foreign rules), persisted, and converged
  // with the iptables variant of Scenario A; the chain blocks what ufw blocks on the other A hosts.
  const iptablesHost = report.hosts['cas-008']!;
  t.like(iptablesHost.firewall, { backend: 'iptables', enabled: true, defaultIncoming: 'deny', persistence: true });
  t.deepEqual(iptablesHost.firewall?.kernel?.foreignRules, []);
  t.deepEqual(iptablesHost.drift, { against: 'scenario-a', changes: [], warnings: [] });
  t.deepEqual(
    iptablesHost.findings.filter((f) => f.severity !== 'info').map((f) => f.code),
    [],
  );
  t.deepEqual(iptablesHost.rules['7777'], { anyone: 'block', from: [] });
  t.deepEqual(iptablesHost.exposure, report.hosts['cas-001']!.exposure);

  if (existsSync(CHROMIUM)) {
    const page = await probePage(html);
    t.deepEqual(page.errors, []);
    t.deepEqual(page.rows.flatMap((row) => row.hosts).sort(), HOSTS);
    for (const row of page.rows) {
      for (const host of row.hosts) {
        t.is(row.scenario, report.hosts[host]!.scenario, host);
        for (const [port, state] of Object.entries(report.hosts[host]!.exposure)) t.is(row.cells[port]?.[0], state, `${host} ${port}`);
      }
    }
  } else t.fail(`${CHROMIUM} is missing: run scripts/install-system-deps.sh`);
});

serial('the text summary names the criticals and the mixed host', async (t) => {
  const result = await cli('audit');
  t.is(result.code, 4);
  t.regex(
    result.stdout,
    /^scenario {2}A 5 \(cas-001, cas-002, cas-005, cas-006, … \+1 more\) · B 2 \(cas-003, cas-004\) · mixed 1 \(cas-007\) · unknown 0$/m,
  );
  t.regex(result.stdout, /^ {2}firewall-disabled +1 host \(cas-005\)/m);
  t.regex(result.stdout, /^ {2}admin-gui-exposed +1 host \(cas-006\): .*although the ufw rules block it/m);
  t.regex(result.stdout, /^exit 4: 2 hosts with a critical finding$/m);
});

serial('support-bundle collects the tables, ufw status, batm-manage info and the audit of one host', async (t) => {
  const output = join(mkdtempSync(join(tmpdir(), 'casfleet-bundle-lab-')), 'cas-006.tar.gz');
  const result = await cli('support-bundle', 'cas-006', '-o', output);
  t.is(result.code, 0, result.stderr);
  const list = spawnSync('tar', ['tzf', output], { encoding: 'utf8' });
  t.is(
    list.stdout
      .split('\n')
      .filter(Boolean)
      .map((name) => name.replace(/^[^/]+\//, ''))
      .join(' '),
    'README.txt iptables-save.txt ip6tables-save.txt ufw-status-verbose.txt batm-manage-info.txt batm-config-network.txt gate.properties versions.txt audit.json audit.txt',
  );
  const file = (name: string) => spawnSync('tar', ['xzOf', output, '--wildcards', `*/${name}`], { encoding: 'utf8' }).stdout;
  t.regex(file('iptables-save.txt'), /^-A INPUT -p tcp -m tcp --dport 7777 -j ACCEPT$/m);
  t.regex(file('ufw-status-verbose.txt'), /^Status: active$/m);
  t.regex(file('batm-manage-info.txt'), /^Gate: running$/m);
  t.regex(file('versions.txt'), /^ufw 0\.36/m);
  t.is(JSON.parse(file('audit.json')).hosts['cas-006'].findings[0].code, 'admin-gui-exposed');
  const many = await cli('support-bundle', 'cas-00*');
  t.is(many.code, 1);
  t.regex(many.stderr, /selects 8 hosts/);
});

serial('the audit and the bundle changed nothing: files, tables and services as before; batm-manage only asked for info', async (t) => {
  for (const host of HOSTS) {
    const after = await snapshot(host);
    t.is(after.state, before[host]!.state, host);
    const added = after.calls.slice(before[host]!.calls.length);
    t.deepEqual(after.calls.slice(0, before[host]!.calls.length), before[host]!.calls, host);
    t.true(added.length > 0 && added.every((line) => / info$/.test(line)), `${host}: ${added.join(' | ')}`);
  }
});

serial('an unreachable host exits 2 when nothing is critical, and is still probed from outside', async (t) => {
  const ctl = the().controllerNetns;
  const address = the().host('cas-002').address;
  const rule = ['OUTPUT', '-d', address, '-p', 'tcp', '--dport', '22', '-j', 'REJECT'];
  await run(['ip', 'netns', 'exec', ctl, 'iptables', '-I', ...rule]);
  try {
    const result = await cli('audit', '-l', 'cas-001,cas-002', '--json');
    t.is(result.code, 2, result.stderr);
    const partial = auditReportSchema.parse(JSON.parse(result.stdout));
    t.is(partial.hosts['cas-002']!.status, 'unreachable');
    t.is(partial.hosts['cas-002']!.exposure['7742'], 'open');
    t.deepEqual(partial.summary.unreachable, ['cas-002']);
  } finally {
    await run(['ip', 'netns', 'exec', ctl, 'iptables', '-D', ...rule]);
  }
});

serial('usage errors exit 1 before any host is contacted', async (t) => {
  const both = await cli('audit', '--json', '--markdown');
  t.is(both.code, 1);
  const typo = await cli('audit', '-e', 'adminGUI=open');
  t.is(typo.code, 1);
  t.regex(typo.stderr, /unknown var 'adminGUI' for playbook scenario-a or scenario-b/);
  t.regex(readFileSync(join(the().dir, 'inventory.yml'), 'utf8'), /casfleet_vpn_probe_from: 10\.98\.1\.1/);
});
