// End to end on a real lab: sshd, ufw, iptables and /batm in network namespaces, driven through
// the CLI as an operator would, and checked from outside with port probes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostRelativePaths, VPN_ROUTER_ADDRESS } from '../../src/lab/lab-layout.ts';
import { probeFromController } from '../../src/lab/probe-from-controller.ts';
import { errorOf, jsonEvents, recapOf, runCli } from '../helpers/cli.ts';
import { labForFile } from '../helpers/lab.ts';

const { serial, the, apply } = labForFile({ hosts: 6, prefix: 'scn' });

const probeAll = async (hosts: string[], ports: number[], sourceAddress?: string) => {
  const lab = the();
  const results = await probeFromController({
    name: lab.name,
    address: hosts.map((host) => lab.host(host).address),
    ports,
    ...(sourceAddress ? { sourceAddress } : {}),
  });
  const byHost: Record<string, Record<number, string>> = {};
  for (const host of hosts) {
    byHost[host] = Object.fromEntries(results.filter((r) => r.address === lab.host(host).address).map((r) => [r.port, r.state]));
  }
  return byHost;
};

const hostFile = async (host: string, path: string) => (await the().exec(host, ['cat', path])).stdout;
const gateCalls = async (host: string) =>
  (await hostFile(host, '/batm/logs/batm-manage.log')).split('\n').filter((line) => / (stop|start) gate\b/.test(line));

const vpnBefore: Record<string, string> = {};
const ALL = ['cas-001', 'cas-002', 'cas-003', 'cas-004', 'cas-005', 'cas-006'];
const SCENARIO_A_VIEW = { 22: 'open', 7742: 'open', 13000: 'open', 12000: 'open', 7741: 'filtered', 7777: 'filtered', 7743: 'filtered' };

serial('scenario-a opens SSH, the terminal VPN and the admin VPN and closes 7741, 7777, 7743 on every host', async (t) => {
  const result = await apply('scenario-a');
  t.is(result.code, 0, result.stdout + result.stderr);
  const recap = recapOf(result.stdout);
  for (const host of ALL) t.true(recap[host]!.changed > 0 && recap[host]!.failed === 0, host);
  const seen = await probeAll(ALL, [22, 7742, 13000, 12000, 7741, 7777, 7743]);
  for (const host of ALL) t.deepEqual(seen[host], SCENARIO_A_VIEW, host);
  // CAS's own terminal-VPN rules are re-applied after ufw was enabled.
  t.regex(await hostFile('cas-001', '/batm/logs/firewall-rules.log'), /\S/);
});

// A TCP connection that leaves before the SSH banner exchange: what a port probe does to sshd.
const sshdProbesSeen = (host: string) =>
  readFileSync(join(the().dir, hostRelativePaths(the().host(host).id).sshdLog), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('kex_exchange_identification: ')).length;

serial('re-running scenario-a changes nothing, and its probe leaves port 22 to the login that proved it', async (t) => {
  const before = ALL.map(sshdProbesSeen);
  const result = await apply('scenario-a');
  t.is(result.code, 0, result.stderr);
  for (const [host, counts] of Object.entries(recapOf(result.stdout))) t.is(counts.changed, 0, host);
  t.deepEqual(ALL.map(sshdProbesSeen), before);
  const probes = jsonEvents(result.stdout).filter((event) => event.type === 'step' && event.step === 'probe from outside');
  t.is(probes.length, ALL.length);
  for (const probe of probes) t.is(probe.status, 'ok', JSON.stringify(probe));
});

serial('scenario-b on the canary hosts switches them to the hardware VPN and leaves the others alone', async (t) => {
  const before = await hostFile('cas-003', '/etc/ufw/user.rules');
  for (const host of ['cas-001', 'cas-002']) vpnBefore[host] = await hostFile(host, '/batm/config/vpn');
  const result = await apply('scenario-b', '-l', 'canary', '-e', `hardwareVpnSubnets=${VPN_ROUTER_ADDRESS.replace(/\.1$/, '.0')}/24`);
  t.is(result.code, 0, result.stdout + result.stderr);
  t.deepEqual(Object.keys(recapOf(result.stdout)), ['cas-001', 'cas-002']);
  for (const host of ['cas-001', 'cas-002']) {
    t.regex(await hostFile(host, '/batm/config/gate.properties'), /^batm\.vpn-skip=true$/m, host);
    t.is((await the().exec(host, ['test', '-e', '/batm/config/vpn'])).code, 1, `${host}: vpn file removed`);
    t.regex(
      (await the().exec(host, ['find', '/var/backups/casfleet', '-name', 'vpn.*'])).stdout,
      /\/batm\/config\/vpn\./,
      `${host}: vpn file backed up`,
    );
    t.deepEqual(
      (await gateCalls(host)).map((line) => line.replace(/^.* (stop|start) gate.*$/, '$1')),
      ['stop', 'start'],
      `${host}: one gate restart`,
    );
  }
  const fromInternet = await probeAll(['cas-001', 'cas-002', 'cas-003'], [22, 7741, 7742, 13000, 12000]);
  const fromVpn = await probeAll(['cas-001', 'cas-002'], [7741], VPN_ROUTER_ADDRESS);
  for (const host of ['cas-001', 'cas-002']) {
    t.deepEqual(fromInternet[host], { 22: 'open', 7741: 'filtered', 7742: 'filtered', 13000: 'filtered', 12000: 'open' }, host);
    t.deepEqual(fromVpn[host], { 7741: 'open' }, `${host} from the hardware VPN`);
  }
  t.deepEqual(fromInternet['cas-003'], { 22: 'open', 7741: 'filtered', 7742: 'open', 13000: 'open', 12000: 'open' });
  t.is(await hostFile('cas-003', '/etc/ufw/user.rules'), before, 'untouched host keeps its rules');
});

serial('re-running scenario-b changes nothing and does not restart gate', async (t) => {
  const result = await apply('scenario-b', '-l', 'canary');
  t.is(result.code, 0, result.stderr);
  for (const [host, counts] of Object.entries(recapOf(result.stdout))) t.is(counts.changed, 0, host);
  t.is((await gateCalls('cas-001')).length, 2, 'still only the first stop + start');
});

serial('scenario-a switches the canary hosts back to A', async (t) => {
  const result = await apply('scenario-a', '-l', 'canary');
  t.is(result.code, 0, result.stdout + result.stderr);
  for (const host of ['cas-001', 'cas-002']) {
    t.notRegex(await hostFile(host, '/batm/config/gate.properties'), /^batm\.vpn-skip=true$/m, host);
    t.is(await hostFile(host, '/batm/config/vpn'), vpnBefore[host] ?? '(not recorded)', `${host}: vpn file restored from its backup`);
    t.is((await gateCalls(host)).length, 4, `${host}: gate restarted once more`);
  }
  const seen = await probeAll(['cas-001', 'cas-002'], [22, 7742, 13000, 12000, 7741, 7777, 7743]);
  for (const host of ['cas-001', 'cas-002']) t.deepEqual(seen[host], SCENARIO_A_VIEW, host);
});

serial('a host whose key differs from known_hosts fails and nothing changes on it', async (t) => {
  const lab = the();
  const knownHosts = readFileSync(lab.knownHostsPath, 'utf8');
  const victim = lab.host('cas-006').address;
  const other = lab.host('cas-005').address;
  const otherKey = knownHosts
    .split('\n')
    .find((line) => line.startsWith(`${other} `))!
    .split(' ')
    .slice(1)
    .join(' ');
  const forged = knownHosts
    .split('\n')
    .map((line) => (line.startsWith(`${victim} `) ? `${victim} ${otherKey}` : line))
    .join('\n');
  const forgedPath = join(lab.dir, 'known_hosts.forged');
  writeFileSync(forgedPath, forged);
  const rulesBefore = await hostFile('cas-006', '/etc/ufw/user.rules');

  const result = await apply('scenario-a', '-l', 'cas-005,cas-006', '-e', 'pairing=true', '--known-hosts', forgedPath);
  t.is(result.code, 2);
  const recap = recapOf(result.stdout);
  t.is(recap['cas-006']!.unreachable, 1);
  t.true(recap['cas-005']!.changed > 0, 'the other host still runs');
  const unreachable = jsonEvents(result.stdout).find((event) => event.type === 'unreachable');
  t.is(errorOf(unreachable)?.kind, 'host-key');
  t.regex(errorOf(unreachable)?.message ?? '', /HOST IDENTIFICATION HAS CHANGED|does not match/i);
  t.is(await hostFile('cas-006', '/etc/ufw/user.rules'), rulesBefore);
  t.deepEqual(await probeAll(['cas-005', 'cas-006'], [7741]), { 'cas-005': { 7741: 'open' }, 'cas-006': { 7741: 'filtered' } });

  const restore = await apply('scenario-a', '-l', 'cas-005');
  t.is(restore.code, 0, restore.stderr);
});

serial('a user playbook given by path runs with no change to src/', async (t) => {
  const playbook = new URL('../../templates/starter/playbooks/gate-slots.ts', import.meta.url).pathname;
  const before = (await gateCalls('cas-003')).length;
  const result = await apply(playbook, '-l', 'cas-003', '-e', 'slots=40');
  t.is(result.code, 0, result.stdout + result.stderr);
  t.regex(await hostFile('cas-003', '/batm/config/gate.properties'), /^batm\.processing-slots=40$/m);
  t.is((await gateCalls('cas-003')).length, before + 2, 'gate restarted once (stop + start)');
  const again = await apply(playbook, '-l', 'cas-003', '-e', 'slots=40');
  t.is(recapOf(again.stdout)['cas-003']?.changed, 0);
  t.is((await gateCalls('cas-003')).length, before + 2, 'no change, no restart');
});

serial('become runs everything through sudo -n with the same result', async (t) => {
  const result = await apply('scenario-a', '-l', 'cas-004', '-e', 'ansible_become=true');
  t.is(result.code, 0, result.stdout + result.stderr);
  t.is(recapOf(result.stdout)['cas-004']?.changed, 0);
});

serial('check mode shows what would change and changes nothing', async (t) => {
  const result = await runCli([
    'apply',
    'scenario-a',
    '-i',
    the().inventoryPath,
    '-l',
    'cas-004',
    '-e',
    'pairing=true',
    '--check',
    '--diff',
  ]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /would change: \[cas-004\]/);
  t.regex(result.stdout, /\+ .*7741/);
  t.deepEqual(await probeAll(['cas-004'], [7741]), { 'cas-004': { 7741: 'filtered' } });
});

serial('a bad inventory exits 1 with file:line:col and contacts no host', async (t) => {
  const lab = the();
  const sshdLog = join(lab.dir, 'hosts', 'h001', 'sshd.log');
  const logBefore = readFileSync(sshdLog, 'utf8');
  const bad = join(lab.dir, 'bad-inventory.yml');
  writeFileSync(
    bad,
    `all:\n  hosts:\n    cas-001:\n      ansible_host: ${lab.host('cas-001').address}\n      ansible_port: "twenty-two"\n`,
  );
  const result = await runCli(['apply', 'scenario-a', '-i', bad]);
  t.is(result.code, 1);
  t.true(result.stderr.includes(`${bad}:5:21: all.hosts.cas-001.ansible_port`), result.stderr);
  t.is(readFileSync(sshdLog, 'utf8'), logBefore, 'no connection reached the host');
});
