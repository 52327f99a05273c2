// The iptables backend (GB's Option 2) end to end on the lab, driven through the CLI: the same outside
// view as ufw for both scenarios (from the internet side and from the hardware-VPN router), no change
// on a re-run, the same view after `lab reboot` for both backends, a switch ufw -> iptables -> ufw that
// never opens 7741/7777 nor closes 22/7742 (probed all along), hand rules left where they are, and
// the dead-man putting an iptables host back as it was (boot files and unit included).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { VPN_ROUTER_ADDRESS, VPN_ROUTER_SUBNET } from '../../src/lab/lab-layout.ts';
import { probeFromController, watchFromController } from '../../src/lab/probe-from-controller.ts';
import { CAS_PROBE_PORTS } from '../../src/lab/probe-table.ts';
import { recapOf, runCli } from '../helpers/cli.ts';
import { transactionStateOn } from '../helpers/host-state.ts';
import { labForFile } from '../helpers/lab.ts';
import { pausedPid, startPaused, untilFired } from '../helpers/paused-cli.ts';

const { serial, the, apply } = labForFile({ hosts: 5, prefix: 'ipt' });
const B_SUBNET = ['-e', `hardwareVpnSubnets=${VPN_ROUTER_SUBNET}`];

/** host → port → state, every CAS port, from the internet side or from the hardware-VPN router. */
const view = async (hosts: readonly string[], sourceAddress?: string): Promise<Record<string, Record<number, string>>> => {
  const results = await probeFromController({
    name: the().name,
    address: hosts.map((host) => the().host(host).address),
    ports: CAS_PROBE_PORTS,
    ...(sourceAddress ? { sourceAddress } : {}),
  });
  return Object.fromEntries(
    hosts.map((host) => [
      host,
      Object.fromEntries(results.filter((r) => r.address === the().host(host).address).map((r) => [r.port, r.state])),
    ]),
  );
};

const sh = (host: string, script: string): Promise<string> => the().sh(host, script);

const changed = (stdout: string, host: string): number => recapOf(stdout)[host]?.changed ?? -1;

serial('Scenario A on iptables looks from outside exactly like Scenario A on ufw', async (t) => {
  const ufw = await apply('scenario-a', '-l', 'cas-001');
  t.is(ufw.code, 0, ufw.stdout + ufw.stderr);
  const ipt = await apply('scenario-a', '-l', 'cas-002', '-e', 'firewall=iptables');
  t.is(ipt.code, 0, ipt.stdout + ipt.stderr);
  const internet = await view(['cas-001', 'cas-002']);
  t.deepEqual(internet['cas-002'], internet['cas-001']);
  t.deepEqual(internet['cas-002'], {
    22: 'open',
    7741: 'filtered',
    7742: 'open',
    13000: 'open',
    13010: 'open',
    12000: 'open',
    12050: 'open',
    7777: 'filtered',
    7743: 'filtered',
    443: 'filtered',
  });
  const vpn = await view(['cas-001', 'cas-002'], VPN_ROUTER_ADDRESS);
  t.deepEqual(vpn['cas-002'], vpn['cas-001']);
  // CAS's terminal-VPN redirect is still there after the load (and re-applied, not duplicated).
  t.is((await sh('cas-002', 'iptables -t nat -S PREROUTING')).match(/batm-vpn-lb/g)?.length, 1);
});

serial('Scenario B on iptables looks from outside exactly like Scenario B on ufw, also from the hardware VPN', async (t) => {
  const ufw = await apply('scenario-b', '-l', 'cas-003', ...B_SUBNET);
  t.is(ufw.code, 0, ufw.stdout + ufw.stderr);
  const ipt = await apply('scenario-b', '-l', 'cas-004', '-e', 'firewall=iptables', ...B_SUBNET);
  t.is(ipt.code, 0, ipt.stdout + ipt.stderr);
  const internet = await view(['cas-003', 'cas-004']);
  t.deepEqual(internet['cas-004'], internet['cas-003']);
  t.is(internet['cas-004']?.[7741], 'filtered');
  t.is(internet['cas-004']?.[7742], 'filtered');
  const vpn = await view(['cas-003', 'cas-004'], VPN_ROUTER_ADDRESS);
  t.deepEqual(vpn['cas-004'], vpn['cas-003']);
  t.is(vpn['cas-004']?.[7741], 'open');
});

serial('a re-run on the iptables backend changes nothing; the boot files hold exactly the running chain', async (t) => {
  const a = await apply('scenario-a', '-l', 'cas-002', '-e', 'firewall=iptables');
  const b = await apply('scenario-b', '-l', 'cas-004', '-e', 'firewall=iptables', ...B_SUBNET);
  t.is(changed(a.stdout, 'cas-002'), 0, a.stdout);
  t.is(changed(b.stdout, 'cas-004'), 0, b.stdout);
  for (const [save, file] of [
    ['iptables-save', 'rules.v4'],
    ['ip6tables-save', 'rules.v6'],
  ]) {
    const running = (await sh('cas-002', `${save} -t filter`))
      .split('\n')
      .filter((line) => /^-A (INPUT .*-j CASFLEET-INPUT|CASFLEET-INPUT )/.test(line));
    const boot = (await sh('cas-002', `cat /etc/iptables/${file}`)).split('\n').filter((line) => line.startsWith('-A '));
    t.deepEqual(boot, running, file);
    t.true(running.length > 5);
  }
  t.regex(
    await sh('cas-002', 'readlink /etc/systemd/system/multi-user.target.wants/casfleet-iptables.service'),
    /^\/etc\/systemd\/system\/casfleet-iptables\.service$/m,
  );
});

serial('lab reboot: both backends come back with the same exposure; a firewall that is not persisted does not', async (t) => {
  // cas-005 only has a hand DROP for 7741: volatile, as GB warns.
  await sh('cas-005', 'iptables -I INPUT -p tcp --dport 7741 -j DROP');
  const hosts = ['cas-001', 'cas-002', 'cas-003', 'cas-004', 'cas-005'];
  const before = await view(hosts);
  const beforeVpn = await view(hosts, VPN_ROUTER_ADDRESS);
  t.is(before['cas-005']?.[7741], 'filtered');
  const reboot = await runCli(['lab', 'reboot', '--name', the().name, 'all'], { env: { CASFLEET_LAB_DIR: dirname(the().dir) } });
  t.is(reboot.code, 0, reboot.stdout + reboot.stderr);
  t.regex(reboot.stdout, /cas-002: ran casfleet-iptables\.service: \/usr\/sbin\/iptables-restore --noflush \/etc\/iptables\/rules\.v4/);
  t.regex(reboot.stdout, /cas-001: ran ufw\.service: \/lib\/ufw\/ufw-init start quiet/);
  t.notRegex(reboot.stdout, /cas-001: ran casfleet-iptables/);
  const after = await view(hosts);
  for (const host of hosts.slice(0, 4)) t.deepEqual(after[host], before[host], host);
  t.deepEqual(
    await view(hosts.slice(0, 4), VPN_ROUTER_ADDRESS),
    Object.fromEntries(hosts.slice(0, 4).map((host) => [host, beforeVpn[host]])),
  );
  t.is(after['cas-005']?.[7741], 'open', 'the hand rule was not persisted, so the reboot dropped it');
  // And casfleet finds the rebooted hosts as it left them.
  const again = await apply('scenario-a', '-l', 'cas-002', '-e', 'firewall=iptables');
  t.is(changed(again.stdout, 'cas-002'), 0, again.stdout);
});

const WATCHED = { mustAnswer: [22, 7742], mustNotAnswer: [7741, 7777] };

/** Runs `apply` while probing cas-001 all along; returns the probes that broke the rule (and how many ran). */
const switchWatched = async (...args: string[]) => {
  const watch = watchFromController({
    name: the().name,
    address: the().host('cas-001').address,
    ports: [...WATCHED.mustAnswer, ...WATCHED.mustNotAnswer],
    intervalMs: 40,
    timeoutMs: 3000,
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const result = await apply('scenario-a', '-l', 'cas-001', ...args);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const probes = await watch.stop();
  // A dropped SYN is retried after the kernel's initial 1 s timeout: an answer that slow means a gap.
  const broken = probes.filter((probe) =>
    WATCHED.mustAnswer.includes(probe.port) ? probe.state !== 'open' || probe.ms >= 1000 : probe.state !== 'filtered',
  );
  return { result, probes, broken };
};

serial('switching ufw -> iptables -> ufw never opens 7741/7777 and never closes 22/7742 (probed all along)', async (t) => {
  const toIptables = await switchWatched('-e', 'firewall=iptables');
  t.is(toIptables.result.code, 0, toIptables.result.stdout + toIptables.result.stderr);
  t.is(changed(toIptables.result.stdout, 'cas-001'), 2, 'firewall (iptables) and ufw disabled');
  t.deepEqual(toIptables.broken, []);
  t.true(toIptables.probes.length > 40, `only ${toIptables.probes.length} probes`);
  t.regex(await sh('cas-001', 'grep ^ENABLED= /etc/ufw/ufw.conf'), /ENABLED=no/);

  const toUfw = await switchWatched();
  t.is(toUfw.result.code, 0, toUfw.result.stdout + toUfw.result.stderr);
  t.is(changed(toUfw.result.stdout, 'cas-001'), 2, 'firewall (ufw) and iptables backend removed');
  t.deepEqual(toUfw.broken, []);
  t.true(toUfw.probes.length > 40, `only ${toUfw.probes.length} probes`);
  t.notRegex(await sh('cas-001', 'iptables-save -t filter; ip6tables-save -t filter'), /CASFLEET-INPUT/);
  t.false(
    (await the().exec('cas-001', ['test', '-e', '/etc/systemd/system/multi-user.target.wants/casfleet-iptables.service'])).code === 0,
    'boot unit disabled',
  );
  t.is(changed((await apply('scenario-a', '-l', 'cas-001')).stdout, 'cas-001'), 0);
});

serial('hand rules in INPUT keep their places through a change of the managed chain; nat is untouched', async (t) => {
  await sh(
    'cas-002',
    'iptables -I INPUT 1 -s 192.0.2.1/32 -p tcp --dport 8081 -j ACCEPT && iptables -A INPUT -s 192.0.2.2/32 -p tcp --dport 8082 -j ACCEPT',
  );
  const input = async () => (await sh('cas-002', 'iptables -S INPUT')).split('\n').filter((line) => line.startsWith('-A '));
  const nat = await sh('cas-002', 'iptables -t nat -S');
  const before = await input();
  const opened = await apply('scenario-a', '-l', 'cas-002', '-e', 'firewall=iptables', '-e', 'pairing=true');
  t.is(changed(opened.stdout, 'cas-002'), 1, opened.stdout);
  t.deepEqual(await input(), before);
  t.is((await view(['cas-002']))['cas-002']?.[7741], 'open');
  const closed = await apply('scenario-a', '-l', 'cas-002', '-e', 'firewall=iptables');
  t.is(changed(closed.stdout, 'cas-002'), 1, closed.stdout);
  t.deepEqual(await input(), before);
  t.deepEqual(
    before.map((line) => line.replace(/ -m comment .*/, '')),
    [
      '-A INPUT -s 192.0.2.1/32 -p tcp -m tcp --dport 8081 -j ACCEPT',
      '-A INPUT',
      '-A INPUT -s 192.0.2.2/32 -p tcp -m tcp --dport 8082 -j ACCEPT',
    ],
  );
  t.is(await sh('cas-002', 'iptables -t nat -S'), nat);
  t.is((await view(['cas-002']))['cas-002']?.[7741], 'filtered');
});

// ---------- the dead-man covers the iptables backend ----------

const BOOT_STATE = [
  '/etc/iptables/rules.v4',
  '/etc/iptables/rules.v6',
  '/etc/systemd/system/casfleet-iptables.service',
  '/etc/ufw/ufw.conf',
];
/** Everything a transaction must put back, comparable before and after: files, the enabling link, filter tables without counters. */
const hostState = async (host: string) => ({
  ...(await transactionStateOn(sh, host, BOOT_STATE)),
  link: await sh(host, 'readlink /etc/systemd/system/multi-user.target.wants/casfleet-iptables.service || echo absent'),
});

serial('the dead-man rolls a half-switched host back to ufw, boot files and unit included', async (t) => {
  const host = 'cas-003';
  const before = await hostState(host);
  const seenBefore = await view([host]);
  const stateDir = mkdtempSync(join(tmpdir(), 'casfleet-ipt-state-'));
  try {
    const run = startPaused(
      'before-confirm',
      [
        'apply',
        'scenario-b',
        ...B_SUBNET,
        '-l',
        host,
        '-e',
        'firewall=iptables',
        '--rollback-timeout',
        '10s',
        '-i',
        the().inventoryPath,
        '--json',
      ],
      stateDir,
    );
    const pid = await pausedPid(run, host);
    const during = await hostState(host);
    t.regex(during.link, /casfleet-iptables\.service/, 'the switch is in: the unit is enabled');
    t.regex(during.files, /ENABLED=no/);
    process.kill(pid, 'SIGKILL');
    await run.done;
    rmSync(run.marker, { force: true });
    const fired = await untilFired((argv) => the().exec(host, argv));
    t.is(fired.result?.exitCode, 0, fired.result?.log.join('\n'));
    t.true(
      fired.result!.log.includes('removed /etc/systemd/system/multi-user.target.wants/casfleet-iptables.service (it did not exist before)'),
      fired.result!.log.join('\n'),
    );
    t.deepEqual(await hostState(host), before);
    t.deepEqual(await view([host]), seenBefore);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

serial('a change on an iptables host whose new logins fail is rolled back: chain, rule files and the enabled unit as before', async (t) => {
  const host = 'cas-004';
  const before = await hostState(host);
  const seenBefore = await view([host]);
  t.is(seenBefore[host]?.[443], 'filtered');
  const stateDir = mkdtempSync(join(tmpdir(), 'casfleet-ipt-state-'));
  try {
    const run = startPaused(
      'before-confirm',
      [
        'apply',
        'scenario-b',
        ...B_SUBNET,
        '-l',
        host,
        '-e',
        'firewall=iptables',
        '-e',
        'proxy=true',
        '--rollback-timeout',
        '15s',
        '-i',
        the().inventoryPath,
        '--json',
      ],
      stateDir,
    );
    await pausedPid(run, host);
    t.not((await view([host]))[host]?.[443], 'filtered', 'the change is in (nothing listens on 443: closed)');
    // In front of the managed chain: the confirming login cannot get in.
    await sh(host, 'iptables -I INPUT 1 -p tcp --dport 22 -m conntrack --ctstate NEW -j DROP');
    rmSync(run.marker);
    const result = await run.done;
    t.is(result.code, 2, result.stdout + result.stderr);
    t.like(recapOf(result.stdout)[host], { rolledBack: 1 });
    t.deepEqual(await hostState(host), before, 'rule files, unit link and filter tables (the DROP gone too) as before');
    t.deepEqual(await view([host]), seenBefore);
    t.is((await the().ssh(host, 'true')).code, 0, 'SSH answers new logins again');
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});
