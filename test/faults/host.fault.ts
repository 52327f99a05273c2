// Faults of the host itself, each on its own lab host and all at once: its sshd killed (the listener
// and the session's) between two changes, `batm-manage` missing (Scenario B's gate restart could
// not run: refused before any change), the iptables lock held by another process for 20 s while the
// firewall loads, and the whole host frozen (every process SIGSTOPped, its dead-man timer included)
// for 60 s between two changes. The host must end old or new with casfleet's report saying which,
// lose nothing, and converge once the fault is gone.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TIMER_PROCESS_TAG } from '../../src/host-timer/timer-commands.ts';
import { accountHost } from '../../src/lab/lab-cgroups.ts';
import { hostRelativePaths, labPaths } from '../../src/lab/lab-layout.ts';
import { spawnDetached } from '../../src/lab/lab-processes.ts';
import { readLabState, writeLabState } from '../../src/lab/lab-state.ts';
import { errorOf, jsonEvents, recapOf } from '../helpers/cli.ts';
import {
  assertRow,
  assertSettledRow,
  faultLab,
  freezeHost,
  hostProcesses,
  KEEPALIVE_BOUND_MS,
  reportedOutcome,
  SCENARIO_B,
  signalAll,
  startCasfleet,
} from './fault-kit.ts';

const { run, the, kit } = faultLab({ hosts: 4, prefix: 'fhost' });

const apply = (host: string, rollback: string) => ['apply', ...SCENARIO_B, '-l', host, '--rollback-timeout', rollback];

run('batm-manage missing: refused at pre-flight, the host untouched', async (t) => {
  const host = 'cas-001';
  const start = await kit.prepare(host);
  const timersBefore = (await kit.timersOn(host)).length;
  await kit.onHost(host, 'mount --bind /dev/null /batm/batm-manage');
  const casfleet = startCasfleet(kit, the(), apply(host, '30s'));
  const result = await casfleet.done;
  const detectionMs = casfleet.failedWithinMs(host);
  const armed = (await kit.timersOn(host)).length - timersBefore;
  await kit.onHost(host, 'umount /batm/batm-manage');
  const verdict = await kit.judge(host, start);
  const counts = recapOf(result.stdout)[host];
  const events = jsonEvents(result.stdout).filter((event) => event.host === host && event.type === 'step');
  const refusal = events.find((event) => event.status === 'failed');
  // Untouched: refused before the transaction, so no dead-man was armed and nothing ran to change the host.
  const untouched =
    verdict.ending === 'old' &&
    counts?.failed === 1 &&
    counts.rolledBack === 0 &&
    counts.changed === 0 &&
    armed === 0 &&
    !events.some((event) => event.kind === 'transaction') &&
    /batm-manage is missing.*nothing was changed on this host/.test(errorOf(refusal)?.message ?? '');
  const converged = await kit.converges(host);
  assertRow(
    t,
    {
      fault: 'batm-manage missing',
      phase: 'pre-flight',
      hosts: 1,
      consistent: untouched,
      dataLost: verdict.dataLost,
      converged,
      detectionMs,
      ending: `${verdict.ending}, reported ${counts?.rolledBack ? 'rolled-back' : counts?.failed ? 'failed' : 'ok'}, ${armed} dead-man armed`,
    },
    `${result.stdout}${result.stderr}\n${verdict.now.files}`,
  );
  t.true(untouched, `refused before any change, naming batm-manage: ${errorOf(refusal)?.message}`);
});

run('the iptables lock held by another process for 20 s while the firewall loads', async (t) => {
  const host = 'cas-002';
  const start = await kit.prepare(host);
  const casfleet = startCasfleet(kit, the(), apply(host, '60s'), 'after-facts');
  await casfleet.paused(host);
  // Held from just before the first change until 20 s later, across the firewall load.
  const lock = (
    await kit.onHost(
      host,
      'flock /run/xtables.lock sleep 20 >/dev/null 2>&1 </dev/null & sleep 0.5; flock -n /run/xtables.lock true && echo free || echo held',
    )
  ).trim();
  // The lab's iptables is the nf_tables backend unless the machine's is legacy: only the legacy one takes this lock.
  const backend = (await kit.onHost(host, 'iptables -V')).includes('nf_tables') ? 'nf_tables: takes no xtables lock' : 'legacy';
  const heldAt = Date.now();
  casfleet.resume();
  const result = await casfleet.done;
  const detectionMs = Date.now() - heldAt;
  await kit.untilSettled(host, 120_000);
  const verdict = await kit.judge(host, start);
  const outcome = reportedOutcome(verdict.ending, recapOf(result.stdout)[host]);
  const converged = await kit.converges(host);
  assertRow(
    t,
    {
      fault: 'iptables lock held 20 s',
      phase: 'firewall load',
      hosts: 1,
      consistent: outcome.ok && lock === 'held',
      dataLost: verdict.dataLost,
      converged,
      detectionMs,
      ending: `${verdict.ending}, reported ${outcome.said} (${backend})`,
    },
    `${result.stdout}${result.stderr}\n${verdict.now.files}`,
  );
});

run('the host frozen (all its processes SIGSTOPped) for 60 s between two changes', async (t) => {
  const host = 'cas-003';
  const start = await kit.prepare(host);
  const casfleet = startCasfleet(kit, the(), apply(host, '20s'), 'between-changes');
  await casfleet.paused(host);
  const frozen = freezeHost(the(), host);
  const frozenAt = Date.now();
  casfleet.resume();
  await sleep(60_000);
  signalAll(frozen, 'SIGCONT');
  const result = await casfleet.done;
  const detectionMs = (casfleet.reportedAt(host, frozenAt) ?? Date.now()) - frozenAt;
  t.true(detectionMs <= KEEPALIVE_BOUND_MS, `the frozen host is given up within the keepalive bound (took ${detectionMs} ms)`);
  // After SIGCONT the dead-man's deadline is long past: it must fire (or have been disarmed) now.
  await assertSettledRow(
    t,
    kit,
    host,
    start,
    result,
    { fault: 'host frozen 60 s (SIGSTOP)', phase: 'between-changes', detectionMs },
    `${frozen.length} processes frozen\n`,
  );
});

const procText = (pid: number, file: 'comm' | 'cmdline'): string => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8').trim();
  } catch {
    return '';
  }
};
const commOf = (pid: number): string => procText(pid, 'comm');

/**
 * sshd started again inside the host's namespaces, entered through a process that outlived the old
 * one (the dead-man timer holds the mount namespace): the same config, the same cgroup, and the
 * lab's records pointing at it so `lab down` and in-host commands find it.
 */
const restartSshd = async (host: string, anchor: number): Promise<void> => {
  const layout = the().host(host);
  const paths = labPaths(the().name, the().dir);
  const rel = hostRelativePaths(layout.id);
  const child = spawnDetached(
    [
      'nsenter',
      '-t',
      String(anchor),
      '-m',
      '-n',
      '--',
      '/usr/sbin/sshd',
      '-D',
      '-f',
      `${paths.mountRoot}/${rel.sshdConfig}`,
      '-E',
      `${paths.mountRoot}/${rel.sshdLog}`,
    ],
    join(paths.dir, rel.setupLog),
  );
  if (child.pid === undefined) throw new Error(`cannot restart ${host}'s sshd`);
  accountHost(the().name, layout.id, child.pid);
  writeFileSync(join(paths.dir, rel.sshdPid), `${child.pid}\n`);
  const state = readLabState(paths.state);
  if (!state) throw new Error('the lab has no state file');
  writeLabState(paths.state, {
    ...state,
    hosts: state.hosts.map((entry) => (entry.id === layout.id ? { ...entry, sshdPid: child.pid! } : entry)),
  });
  for (let tries = 0; tries < 200; tries++) {
    if ((await the().probe(host, [22]))[0]?.state === 'open') return;
    await sleep(100);
  }
  throw new Error(`${host}'s sshd did not listen again`);
};

run('sshd killed on the host (the listener and the session) between two changes', async (t) => {
  const host = 'cas-004';
  const start = await kit.prepare(host);
  const casfleet = startCasfleet(kit, the(), apply(host, '30s'), 'between-changes');
  await casfleet.paused(host);
  const sshds = hostProcesses(the(), host).filter((pid) => commOf(pid).startsWith('sshd'));
  signalAll(sshds, 'SIGKILL');
  const killedAt = Date.now();
  casfleet.resume();
  // The dead-man's sleeper: the exec that waited for the next change ends with its sshd.
  const anchor = hostProcesses(the(), host).find((pid) => !sshds.includes(pid) && procText(pid, 'cmdline').includes(TIMER_PROCESS_TAG));
  // Restarted once casfleet has noticed (or after 15 s), well before the 30 s dead-man fires and
  // its process, the last one holding the host's namespaces, exits.
  while (casfleet.reportedAt(host, killedAt) === undefined && Date.now() - killedAt < 15_000 && casfleet.child.exitCode === null)
    await sleep(200);
  const detectionMs = (casfleet.reportedAt(host, killedAt) ?? Date.now()) - killedAt;
  if (anchor === undefined) throw new Error(`nothing of ${host} outlived its sshd: no dead-man was running`);
  await restartSshd(host, anchor);
  const result = await casfleet.done;
  await assertSettledRow(
    t,
    kit,
    host,
    start,
    result,
    { fault: 'sshd killed (listener and session)', phase: 'between-changes', detectionMs },
    `${sshds.length} sshd processes killed\n`,
  );
});
