// Transactions end to end on a real lab, through the CLI: a change confirmed over a new connection
// leaves nothing armed; a host whose new logins are dropped after the change, or whose casfleet is
// killed before confirming, restores its snapshot by itself (and one killed while the host waits
// for its plan leaves it untouched); a failing gate restart in a Scenario B switch brings the host
// back to Scenario A as a whole; and the probe after every apply fails a host that exposes a port
// it must not, and starts while the confirmation logs in. The pause hook (CASFLEET_TEST_PAUSE)
// makes each moment exact.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import type { PausePhase } from '../../src/run/test-pause.ts';
import { TRANSACTIONS_DIR } from '../../src/transaction/transaction-command.ts';
import { errorOf, jsonEvents, recapOf, runCli } from '../helpers/cli.ts';
import { transactionStateOn } from '../helpers/host-state.ts';
import { labForFile } from '../helpers/lab.ts';
import { pausedPid, startPaused, timersOn, untilFired } from '../helpers/paused-cli.ts';

const { serial, the } = labForFile({ hosts: 5, prefix: 'txn' });
// Run records of these runs stay out of everyone's history.
const stateDir = mkdtempSync(join(tmpdir(), 'casfleet-txn-state-'));
test.after.always(() => rmSync(stateDir, { recursive: true, force: true }));

const env = (extra: NodeJS.ProcessEnv = {}) => ({ CASFLEET_STATE_DIR: stateDir, ...extra });
const casfleet = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  runCli([...args, '-i', the().inventoryPath, '--json'], { env: env(extra) });
const SCENARIO_B = ['scenario-b', '-e', 'hardwareVpnSubnets=10.8.0.0/24'];

const PORTS = [22, 7741, 7742, 13000, 7777];
const outside = async (host: string) => Object.fromEntries((await the().probe(host, PORTS)).map((r) => [r.port, r.state]));

const onHost = (host: string, script: string): Promise<string> => the().sh(host, script);
const timersOnHost = (host: string) => timersOn((argv) => the().exec(host, argv));
const snapshotsOn = async (host: string): Promise<string[]> =>
  (await onHost(host, `ls ${TRANSACTIONS_DIR} 2>/dev/null || :`)).split('\n').filter(Boolean);

const FILES = [
  '/batm/config/gate.properties',
  '/batm/config/vpn',
  '/etc/ufw/user.rules',
  '/etc/ufw/user6.rules',
  '/etc/ufw/ufw.conf',
  '/etc/default/ufw',
];
/** What a transaction covers on the host, comparable before and after: files (with owner and mode), filter tables (packet counters left out). */
const hostState = async (host: string) => ({
  ...(await transactionStateOn(onHost, host, FILES)),
  gate: (await onHost(host, '/batm/batm-manage info')).split('\n').find((line) => line.startsWith('Gate:')),
});

const paused = (phase: PausePhase | readonly PausePhase[], args: string[]) =>
  startPaused(phase, [...args, '-i', the().inventoryPath, '--json'], stateDir);
const firedOn = (host: string) => untilFired((argv) => the().exec(host, argv));

serial('a change is confirmed over a new connection; nothing stays armed, and a re-run arms nothing', async (t) => {
  const first = await casfleet(['apply', 'scenario-a']);
  t.is(first.code, 0, first.stdout + first.stderr);
  const confirmations = jsonEvents(first.stdout).filter((event) => event.type === 'step' && event.kind === 'transaction');
  t.is(confirmations.length, 5);
  t.true(confirmations.every((event) => event.status === 'ok' && /confirmed over a new SSH connection/.test(String(event.reason))));
  const probes = jsonEvents(first.stdout).filter((event) => event.type === 'step' && event.kind === 'probe');
  t.true(probes.length === 5 && probes.every((event) => event.status === 'ok'));
  t.deepEqual(await timersOnHost('cas-001'), []);
  const snapshots = await snapshotsOn('cas-001');
  t.is(snapshots.length, 1);
  t.regex(await onHost('cas-001', `cat ${TRANSACTIONS_DIR}/${snapshots[0]}/restore.sh`), /restore_file \/etc\/ufw\/user.rules/);

  const again = await casfleet(['apply', 'scenario-a']);
  t.is(again.code, 0, again.stdout + again.stderr);
  t.false(
    jsonEvents(again.stdout).some((event) => event.type === 'step' && event.kind === 'transaction'),
    'no change, no transaction',
  );
  t.deepEqual(await snapshotsOn('cas-001'), snapshots);
  t.deepEqual(await timersOnHost('cas-001'), []);
});

serial('new logins dropped right after the change: the host rolls back by itself and is reachable again', async (t) => {
  const host = 'cas-002';
  const before = await hostState(host);
  const seenBefore = await outside(host);
  const run = paused('before-confirm', ['apply', ...SCENARIO_B, '-l', host, '--rollback-timeout', '15s']);
  await pausedPid(run, host);
  // The change is in (Scenario B); from now on the host answers no new SSH connection.
  t.is((await outside(host))[7742], 'filtered');
  await onHost(host, 'iptables -I INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j DROP');
  rmSync(run.marker);
  const result = await run.done;

  t.is(result.code, 2, result.stdout + result.stderr);
  t.like(recapOf(result.stdout)[host], { rolledBack: 1, failed: 0, unreachable: 0 });
  const rollback = jsonEvents(result.stdout).find((event) => event.type === 'step' && event.status === 'rolled-back');
  t.is(errorOf(rollback)?.kind, 'connect', 'rolled back because no new login worked');
  t.regex(
    errorOf(rollback)?.message ?? '',
    /a new SSH login failed after the change .*; the host restored its snapshot by itself \(dead-man after 15s\)/,
  );
  t.true(((rollback?.changes ?? []) as string[]).includes('restored /etc/ufw/user.rules'));
  t.deepEqual(await outside(host), seenBefore);
  t.deepEqual(await hostState(host), before, 'files and filter tables as before the change (the DROP rule is gone too)');
  const ssh = await the().ssh(host, 'true');
  t.is(ssh.code, 0, 'SSH answers new logins again');
  t.like((await timersOnHost(host))[0], { state: 'fired', result: { exitCode: 0 } });
});

serial('casfleet killed with SIGKILL before confirming: the host rolls back on its own to its snapshot', async (t) => {
  const host = 'cas-003';
  const before = await hostState(host);
  const seenBefore = await outside(host);
  const run = paused('before-confirm', ['apply', ...SCENARIO_B, '-l', host, '--rollback-timeout', '10s']);
  const pid = await pausedPid(run, host);
  t.not((await hostState(host)).files, before.files, 'the change is in');
  process.kill(pid, 'SIGKILL');
  await run.done;
  rmSync(run.marker, { force: true });

  const fired = await firedOn(host);
  t.is(fired.result?.exitCode, 0, fired.result?.log.join('\n'));
  t.true(fired.result!.startedAt >= fired.due, 'not before it was due');
  t.deepEqual(await hostState(host), before);
  t.deepEqual(await outside(host), seenBefore);
  t.true(fired.result!.log.includes('ran: /batm/batm-manage stop gate && /batm/batm-manage start gate'), fired.result!.log.join('\n'));
});

serial('a Scenario B switch whose gate restart fails comes back to Scenario A entirely, at once', async (t) => {
  const host = 'cas-004';
  const before = await hostState(host);
  const seenBefore = await outside(host);
  await onHost(host, 'echo 1 > /batm/run-state/gate.fail-starts');
  const result = await casfleet(['apply', ...SCENARIO_B, '-l', host]);

  t.is(result.code, 2, result.stdout + result.stderr);
  t.like(recapOf(result.stdout)[host], { rolledBack: 1 });
  const events = jsonEvents(result.stdout).filter((event) => event.type === 'step');
  // The two firewall steps (ufw, then the iptables backend's removal) never start.
  t.deepEqual(
    events.map((event) => `${event.kind}:${event.status}`),
    ['step:changed', 'step:changed', 'handler:failed', 'step:skipped', 'step:skipped', 'transaction:rolled-back'],
  );
  const rollback = events.at(-1)!;
  t.is(errorOf(events.find((event) => event.status === 'failed'))?.kind, 'apply', 'the gate restart failed');
  t.is(errorOf(rollback)?.kind, 'apply', 'the rollback names the kind of failure that caused it');
  t.regex(
    errorOf(rollback)?.message ?? '',
    /^'restart gate' failed: exit 1: Gate stopped \| Gate failed to start; the snapshot was restored at once$/,
  );
  t.deepEqual(rollback.changes, [
    'restored /batm/config/gate.properties',
    'restored /batm/config/vpn',
    'restored the IPv4 filter table',
    'restored the IPv6 filter table',
    're-applied /batm/vpngen/firewall.rules',
    'ran: /batm/batm-manage stop gate && /batm/batm-manage start gate',
  ]);
  t.deepEqual(await hostState(host), before, 'gate.properties, the VPN file and the firewall as in Scenario A; gate running');
  t.deepEqual(await outside(host), seenBefore);
  const calls = (await onHost(host, 'cat /batm/logs/batm-manage.log')).split('\n').filter((line) => / (stop|start) gate$/.test(line));
  t.deepEqual(
    calls.slice(-4).map((line) => line.split(' ').slice(1).join(' ')),
    ['stop gate', 'start gate', 'stop gate', 'start gate'],
  );
});

serial('a port open that must be filtered fails that host after the apply, without a rollback', async (t) => {
  const host = 'cas-005';
  // Something casfleet cannot foresee: the kernel-truth check would catch an INPUT accept of 7777,
  // but not a redirect of 7777 to the SSH port in the nat table. Only the probe from outside sees it.
  await onHost(host, 'iptables -t nat -I PREROUTING -p tcp --dport 7777 -j REDIRECT --to-ports 22');
  try {
    const result = await casfleet(['apply', 'scenario-a']);
    t.is(result.code, 2, result.stdout + result.stderr);
    const recap = recapOf(result.stdout);
    t.like(recap[host], { failed: 1, rolledBack: 0 });
    for (const other of ['cas-001', 'cas-002', 'cas-003', 'cas-004']) t.like(recap[other], { failed: 0, rolledBack: 0 }, other);
    const probe = jsonEvents(result.stdout).find((event) => event.type === 'step' && event.kind === 'probe' && event.host === host);
    t.is(probe?.status, 'failed');
    t.is(errorOf(probe)?.kind, 'probe');
    t.regex(errorOf(probe)?.message ?? '', /port 7777 is open from here \(expected filtered\)/);
    t.is((await outside(host))[7777], 'open', 'nothing was rolled back or touched');

    const skipped = await casfleet(['apply', 'scenario-a', '-l', host, '--no-probe']);
    t.is(skipped.code, 0, skipped.stdout + skipped.stderr);
    t.false(jsonEvents(skipped.stdout).some((event) => event.type === 'step' && event.kind === 'probe'));
  } finally {
    await onHost(host, 'iptables -t nat -D PREROUTING -p tcp --dport 7777 -j REDIRECT --to-ports 22');
  }
});

serial('--no-rollback changes the host without snapshot, dead-man or confirmation', async (t) => {
  const host = 'cas-001';
  const snapshots = await snapshotsOn(host);
  const result = await casfleet(['apply', ...SCENARIO_B, '-l', host, '--no-rollback']);
  t.is(result.code, 0, result.stdout + result.stderr);
  t.false(jsonEvents(result.stdout).some((event) => event.type === 'step' && event.kind === 'transaction'));
  t.deepEqual(await snapshotsOn(host), snapshots);
  t.deepEqual(await timersOnHost(host), []);
});

serial('the live tables read over the new connection no longer as planned: the rollback fires at once', async (t) => {
  const host = 'cas-001';
  const before = await hostState(host);
  const run = paused('before-confirm', ['apply', 'scenario-a', '-l', host]);
  await pausedPid(run, host);
  // After the steps verified their state, something opens the admin GUI in the kernel only.
  await onHost(host, 'iptables -I INPUT -p tcp --dport 7777 -j ACCEPT');
  rmSync(run.marker);
  const result = await run.done;

  t.is(result.code, 2, result.stdout + result.stderr);
  t.like(recapOf(result.stdout)[host], { rolledBack: 1, unreachable: 0 });
  const rollback = jsonEvents(result.stdout).find((event) => event.type === 'step' && event.status === 'rolled-back');
  t.is(errorOf(rollback)?.kind, 'verify');
  t.regex(errorOf(rollback)?.message ?? '', /^a fresh read over a new connection still plans changes \(.*7777/);
  t.true(((rollback?.changes ?? []) as string[]).includes('restored the IPv4 filter table'));
  t.deepEqual(await hostState(host), before, 'back to Scenario B; the foreign rule went with the restored filter table');
  t.like((await timersOnHost(host)).at(-1), { state: 'fired', result: { exitCode: 0 } });
});

serial('a transaction removes snapshots older than the kept days and older day stamps, once a day, and keeps the rest', async (t) => {
  const host = 'cas-002';
  const old = 'txn-20000101t000000z-0000';
  await onHost(host, `cd ${TRANSACTIONS_DIR} && mkdir ${old} && touch -d '40 days ago' ${old} && rm -f .pruned-* && : >.pruned-20000101`);
  const kept = (await snapshotsOn(host)).filter((name) => name !== old);
  t.true(kept.length > 0, 'snapshots of earlier runs are there');
  const result = await casfleet(['apply', ...SCENARIO_B, '-l', host, '--no-probe']);
  t.is(result.code, 0, result.stdout + result.stderr);
  const after = await snapshotsOn(host);
  t.false(after.includes(old));
  t.deepEqual(after.slice(0, kept.length), kept);
  t.is(after.length, kept.length + 1, 'the new snapshot');
  const stamps = (await onHost(host, `cd ${TRANSACTIONS_DIR} && ls -d .pruned-*`)).split('\n').filter(Boolean);
  t.is(stamps.length, 1);
  t.not(stamps[0], '.pruned-20000101');
});

serial('casfleet killed while the exec that read the host waits for the plan: no snapshot, nothing armed, nothing changed', async (t) => {
  const host = 'cas-004';
  const before = await hostState(host);
  const snapshots = await snapshotsOn(host);
  const timers = await timersOnHost(host);
  // The gather has printed the facts and reads casfleet's answer: it would begin the transaction.
  const run = paused('after-facts', ['apply', ...SCENARIO_B, '-l', host]);
  process.kill(await pausedPid(run, host), 'SIGKILL');
  await run.done;
  rmSync(run.marker, { force: true });

  t.deepEqual(await snapshotsOn(host), snapshots, 'no snapshot taken');
  t.deepEqual(await timersOnHost(host), timers, 'no dead-man armed');
  t.deepEqual(await hostState(host), before);
  const again = await casfleet(['apply', ...SCENARIO_B, '-l', host, '--no-probe']);
  t.is(again.code, 0, again.stdout + again.stderr);
  t.is((await snapshotsOn(host)).length, snapshots.length + 1, 'the next run begins its transaction as usual');
});

serial('a changed host is probed from outside while its confirmation logs in, not after it', async (t) => {
  const host = 'cas-005';
  // A rule without a target only counts. In the raw table, which neither ufw nor a transaction
  // touches, it sees the SYNs to 7777, a port the playbook declares filtered.
  const rule = 'PREROUTING -p tcp --dport 7777 --syn';
  const probeSyns = async () =>
    Number(/^\[(\d+):\d+\] -A PREROUTING .*--dport 7777/m.exec(await onHost(host, 'iptables-save -c -t raw'))?.[1]);
  const run = paused(['after-change', 'before-confirm'], ['apply', ...SCENARIO_B, '-l', host]);
  try {
    await pausedPid(run, host);
    // Every run starts a probe in case the host changes nothing; it gives up on 7777 after 1.5 s.
    // The rule counts from after that, so it sees only the probe of the changed host.
    await sleep(2000);
    await onHost(host, `iptables -t raw -I ${rule}`);
    rmSync(run.marker);
    await pausedPid(run, host);
    let syns = await probeSyns();
    for (let tries = 0; syns === 0 && tries < 50; tries++) {
      await sleep(100);
      syns = await probeSyns();
    }
    t.true(syns > 0, 'the probe reached the host while casfleet waited to open the confirming login');
    rmSync(run.marker);
    const result = await run.done;
    t.is(result.code, 0, result.stdout + result.stderr);
    const events = jsonEvents(result.stdout).filter((event) => event.type === 'step' && event.host === host);
    t.deepEqual(
      events.filter((event) => event.kind === 'transaction' || event.kind === 'probe').map((event) => `${event.kind}:${event.status}`),
      ['transaction:ok', 'probe:ok'],
    );
    t.regex(String(events.at(-1)?.reason), /\(22: this run's SSH login\)/, 'the confirming login stands for the SSH port');
  } finally {
    rmSync(run.marker, { force: true });
    await run.done;
    await onHost(host, `iptables -t raw -D ${rule} 2>/dev/null || :`);
  }
});
