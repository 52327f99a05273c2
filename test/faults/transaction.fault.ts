// Faults inside a host's transaction, each on its own lab host and all at once: the new ufw rule
// files not received (ufw and python3 missing too, which rule changes no longer need), the connection
// blackholed both ways (at the controller, so the host's own restore cannot lift it) between two
// changes and during the confirmation, the gate failing to start after its restart, /batm full or
// read-only during the gate.properties write, the backup directory full before the snapshot, the
// dead-man firing while the firewall load still runs. The
// host must end in its old state with the right status in casfleet's report (its new state,
// reported ok, where the fault no longer stops the change), lose nothing, and converge once the
// fault is gone.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionContext } from 'ava';
import { BACKUP_ROOT } from '../../src/facts/backup-name.ts';
import { run as exec } from '../../src/lab/lab-exec.ts';
import { recapOf } from '../helpers/cli.ts';
import { assertRow, faultLab, KEEPALIVE_BOUND_MS, reportedOutcome, SCENARIO_B, startCasfleet } from './fault-kit.ts';

const { run, the, kit } = faultLab({ hosts: 10, prefix: 'ftxn' });

/** Every packet between the controller and the host dropped, both ways, until lifted. */
const blackhole = async (host: string) => {
  const address = the().host(host).address;
  const rules = [
    ['OUTPUT', '-d', address],
    ['INPUT', '-s', address],
  ];
  const iptables = (action: string, [chain, flag, value]: string[]) =>
    exec(['ip', 'netns', 'exec', the().controllerNetns, 'iptables', action, chain!, flag!, value!, '-j', 'DROP']);
  for (const rule of rules) await iptables('-I', rule);
  return async () => {
    for (const rule of rules) await iptables('-D', rule);
  };
};

/** What casfleet must report: undone (the host back in its old state) or, for `ok`, done (the new state). */
type Status = 'rolled-back' | 'failed' | 'ok';

interface Outcome {
  readonly fault: string;
  readonly phase: string;
  readonly host: string;
  readonly start: Awaited<ReturnType<typeof kit.prepare>>;
  readonly stdout: string;
  readonly detectionMs: number | undefined;
  /** Undoes the fault on the host before the converging re-run. */
  readonly clear?: () => Promise<unknown>;
}

/** Judge the host, check casfleet reported `status` for it, clear the fault, re-run, record the row. */
const finish = async (t: ExecutionContext, outcome: Outcome, status: Status) => {
  const verdict = await kit.judge(outcome.host, outcome.start);
  const reported = reportedOutcome(verdict.ending, recapOf(outcome.stdout)[outcome.host]);
  await outcome.clear?.();
  const converged = await kit.converges(outcome.host);
  const details = `${outcome.stdout}\n${verdict.now.files}`;
  assertRow(
    t,
    {
      fault: outcome.fault,
      phase: outcome.phase,
      hosts: 1,
      consistent: reported.ok && reported.said === status,
      dataLost: verdict.dataLost,
      converged,
      detectionMs: outcome.detectionMs,
      ending: `${verdict.ending}, reported ${reported.said}`,
    },
    details,
  );
  t.is(reported.said, status, `${outcome.host} should be reported ${status}:\n${details}`);
};

const apply = (host: string, rollback: string) => ['apply', ...SCENARIO_B, '-l', host, '--rollback-timeout', rollback];

/** casfleet paused at `phase`, the connection cut there, casfleet resumed into the blackhole. */
const cutAtPhase = async (host: string, phase: string) => {
  const start = await kit.prepare(host);
  const casfleet = startCasfleet(kit, the(), apply(host, '10s'), phase);
  await casfleet.paused(host);
  const lift = await blackhole(host);
  const cutAt = Date.now();
  casfleet.resume();
  return { start, casfleet, lift, cutAt };
};

run('connection blackholed between two changes', async (t) => {
  const host = 'cas-001';
  const { start, casfleet, lift, cutAt } = await cutAtPhase(host, 'between-changes');
  // Lifted once casfleet saw it (the run's connection is gone by then), so its later logins work.
  while (casfleet.reportedAt(host, cutAt) === undefined && Date.now() - cutAt < 120_000) await sleep(200);
  const detectionMs = (casfleet.reportedAt(host, cutAt) ?? Date.now()) - cutAt;
  await lift();
  const ended = await casfleet.done;
  t.true(detectionMs <= KEEPALIVE_BOUND_MS, `a hung connection is detected within the keepalive bound (took ${detectionMs} ms)`);
  await finish(
    t,
    { fault: 'connection blackholed', phase: 'between-changes', host, start, stdout: ended.stdout, detectionMs },
    'rolled-back',
  );
});

run('connection blackholed during the confirmation', async (t) => {
  const host = 'cas-002';
  const { start, casfleet, lift, cutAt } = await cutAtPhase(host, 'before-confirm');
  // Longer than the rollback timeout: the host restores itself while nobody can reach it.
  await sleep(15_000);
  await lift();
  const ended = await casfleet.done;
  const detectionMs = (casfleet.reportedAt(host, cutAt) ?? Date.now()) - cutAt;
  await finish(t, { fault: 'connection blackholed', phase: 'confirmation', host, start, stdout: ended.stdout, detectionMs }, 'rolled-back');
});

/** A fault set up on the host before an unpaused run, and what casfleet must report. */
interface OnHostFault {
  /** The test's title. */
  readonly title: string;
  readonly fault: string;
  readonly phase: string;
  readonly host: string;
  /** Shell run on the host (in its own namespaces) before the run; `undo` clears it before the re-run. */
  readonly inject: string;
  readonly undo?: string;
  readonly status: Status;
}

/** Detection: the failing command's own duration. */
const onHostFault = async (t: ExecutionContext, spec: OnHostFault) => {
  const start = await kit.prepare(spec.host);
  await kit.onHost(spec.host, spec.inject);
  const casfleet = startCasfleet(kit, the(), apply(spec.host, '30s'));
  const ended = await casfleet.done;
  const detectionMs = casfleet.failedWithinMs(spec.host);
  const { undo } = spec;
  await finish(
    t,
    { ...spec, start, stdout: ended.stdout, detectionMs, ...(undo ? { clear: () => kit.onHost(spec.host, undo) } : {}) },
    spec.status,
  );
};

// A private tmpfs over the directory, in the host's own mount namespace, holding a copy of it and
// filled to the last byte.
const fillUp = (dir: string) =>
  `mkdir -p ${dir} && rm -rf /tmp/fault-copy && cp -a ${dir} /tmp/fault-copy && mount -t tmpfs -o size=512k fault-full ${dir} && ` +
  `cp -a /tmp/fault-copy/. ${dir}/ && chmod --reference=/tmp/fault-copy ${dir} && { dd if=/dev/zero of=${dir}/.fill bs=4k 2>/dev/null; dd if=/dev/zero of=${dir}/.fill2 bs=1 2>/dev/null; true; }`;

// A tool hidden in the host's own mount namespace (/dev/null bound over it: present, not runnable).
const hide = (path: string) => `mount --bind /dev/null ${path}`;

// The first iptables-restore on the host (the firewall load of the switch to B) sleeps past the
// rollback deadline before it loads: the dead-man fires in the middle of the change, which would
// then load B's rules over the restored ones. The fire waits for the change (its busy mark) and
// restores after it. iptables' tools are one binary that acts by the name it is called under, so
// the stand-in bound over it (in the host's own mount namespace) delays only that one call and runs
// the real binary under the same name.
const slowFirstRestore = (host: string) => {
  const [copy, slept, standIn] = ['xtables', 'slept', 'stand-in'].map((name) => `/tmp/fault-${name}-${host}`);
  const script = [
    '#!/bin/bash',
    `if [ "\${0##*/}" = iptables-restore ] && [ ! -e ${slept} ]; then : >${slept}; sleep 40; fi`,
    `exec -a "$0" ${copy} "$@"`,
  ];
  return (
    `real=$(readlink -f /usr/sbin/iptables-restore) && cp "$real" ${copy} && ` +
    `printf '%s\\n' ${script.map((line) => `'${line}'`).join(' ')} >${standIn} && chmod 755 ${standIn} && mount --bind ${standIn} "$real"`
  );
};

const ON_HOST: readonly OnHostFault[] = [
  {
    title: 'gate failing to start after its restart',
    fault: 'gate fails to start',
    phase: 'handler',
    host: 'cas-003',
    inject: 'echo 1 > /batm/run-state/gate.fail-starts',
    status: 'rolled-back',
  },
  {
    title: '/batm full during the gate.properties write',
    fault: '/batm full',
    phase: 'properties write',
    host: 'cas-004',
    inject: fillUp('/batm/config'),
    undo: 'rm -f /batm/config/.fill /batm/config/.fill2',
    status: 'rolled-back',
  },
  {
    title: '/batm read-only during the gate.properties write',
    fault: '/batm read-only',
    phase: 'properties write',
    host: 'cas-005',
    inject: 'mount --bind /batm/config /batm/config && mount -o remount,bind,ro /batm/config',
    undo: 'umount /batm/config',
    status: 'rolled-back',
  },
  // The transaction's snapshot is kept under the same directory, so it is the first write to fail:
  // the transaction cannot begin and the host fails with nothing changed.
  {
    title: 'backup directory full before the snapshot',
    fault: 'backup directory full',
    phase: 'snapshot',
    host: 'cas-006',
    inject: fillUp(BACKUP_ROOT),
    undo: `rm -f ${BACKUP_ROOT}/.fill ${BACKUP_ROOT}/.fill2`,
    status: 'failed',
  },
  // Rule changes need neither ufw's command nor python any more (ufw-file-write.ts): the switch to B
  // completes without them.
  {
    title: 'ufw missing',
    fault: 'ufw missing',
    phase: 'firewall load',
    host: 'cas-007',
    inject: hide('/usr/sbin/ufw'),
    undo: 'umount /usr/sbin/ufw',
    status: 'ok',
  },
  {
    title: 'python3 missing',
    fault: 'python3 missing',
    phase: 'firewall load',
    host: 'cas-008',
    inject: hide('$(readlink -f /usr/bin/python3)'),
    undo: 'umount $(readlink -f /usr/bin/python3)',
    status: 'ok',
  },
  // ufw's directory full: the new rule files cannot be written next to the old ones (ufw-file-write.ts
  // copies each old file to a temporary one, then writes the new content into it), so the write stops
  // after its checks, replaces nothing, and the host returns to its old state. (A transfer cut short
  // is refused the same way; test/steps/ufw-file-receive.test.ts cuts one in bash and dash.)
  {
    title: 'rule files cannot be written',
    fault: 'rule files not written (/etc/ufw full)',
    phase: 'firewall load',
    host: 'cas-009',
    inject: fillUp('/etc/ufw'),
    undo: 'rm -f /etc/ufw/.fill /etc/ufw/.fill2',
    status: 'rolled-back',
  },
  {
    title: 'dead-man firing while the firewall load runs',
    fault: 'dead-man fires mid-change (load 40 s, rollback 30 s)',
    phase: 'firewall load',
    host: 'cas-010',
    inject: slowFirstRestore('cas-010'),
    undo: 'umount "$(readlink -f /usr/sbin/iptables-restore)"',
    status: 'rolled-back',
  },
];

for (const spec of ON_HOST) run(spec.title, (t) => onHostFault(t, spec));
