// What every fault of `npm run faults` shares: a lab host's transaction-covered state read on the
// host and from outside, casfleet started paused at a named phase (CASFLEET_TEST_PAUSE) with its
// JSON events timestamped as they arrive, and the verdict written as one row of the fault table.
//
// A host is consistent when it ends in its complete old state (files, owners, modes, filter tables,
// gate, ports seen from outside: exactly as before) or its complete new state (a check run of the
// playbook plans nothing). No data is lost when an unmanaged sentinel key of gate.properties is still
// there and the VPN file, if gone, sits in casfleet's backups byte for byte.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { BACKUP_ROOT } from '../../src/facts/backup-name.ts';
import { type HostTimer, hostTimers } from '../../src/host-timer/host-timers.ts';
import { cpuHierarchy, labCgroupDir } from '../../src/lab/lab-cgroups.ts';
import type { RunRecord } from '../../src/run-records/run-record.ts';
import { readRunRecord, runsDir } from '../../src/run-records/run-store.ts';
import { DEFAULT_KEEPALIVE_BOUND_MS } from '../../src/ssh/handshake.ts';
import { CLI, type CliResult, jsonEvents, recapOf, runCli } from '../helpers/cli.ts';
import { transactionStateOn } from '../helpers/host-state.ts';
import { labUnavailableReason, type StartLabOptions, startLab, stopLab, type TestLab } from '../helpers/lab.ts';

export const SCENARIO_B = ['scenario-b', '-e', 'hardwareVpnSubnets=10.8.0.0/24'];
const PORTS = [22, 7741, 7742, 13000, 7777];
const FILES = [
  '/batm/config/gate.properties',
  '/batm/config/vpn',
  '/etc/ufw/user.rules',
  '/etc/ufw/user6.rules',
  '/etc/ufw/ufw.conf',
  '/etc/default/ufw',
];
const SENTINEL = 'fault.sentinel=kept-by-every-fault';
const VPN_FILE = '/batm/config/vpn';

/** A hung connection is given up within the keepalive bound; the slack is scheduling on a loaded machine. */
export const KEEPALIVE_BOUND_MS = DEFAULT_KEEPALIVE_BOUND_MS + 5_000;

export interface FaultRow {
  readonly fault: string;
  readonly phase: string;
  readonly hosts: number;
  readonly consistent: boolean;
  readonly dataLost: boolean;
  readonly converged: boolean;
  /** From the fault to the first moment it is known: casfleet's report, or the host settled by itself. */
  readonly detectionMs: number | undefined;
  readonly ending: string;
}

/** One JSON line per fault; `npm run faults` points this at its table file. */
export const recordRow = (row: FaultRow): void => {
  const file = process.env.CASFLEET_FAULT_ROWS ?? join(tmpdir(), 'casfleet-fault-rows.jsonl');
  appendFileSync(file, `${JSON.stringify(row)}\n`);
};

export const faultKit = (the: () => TestLab) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'casfleet-fault-state-'));
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ CASFLEET_STATE_DIR: stateDir, ...extra });
  const casfleet = (args: readonly string[], options: { timeoutMs?: number } = {}): Promise<CliResult> =>
    runCli([...args, '-i', the().inventoryPath, '--json'], { env: env(), ...options });

  const onHost = (host: string, script: string): Promise<string> => the().sh(host, script);
  const outside = async (host: string) => Object.fromEntries((await the().probe(host, PORTS)).map((r) => [r.port, r.state]));
  const timersOn = async (host: string): Promise<readonly HostTimer[]> => hostTimers.parse(await onHost(host, hostTimers.script));

  const hostState = async (host: string) => ({
    ...(await transactionStateOn(onHost, host, FILES)),
    gate: (await onHost(host, '/batm/batm-manage info')).split('\n').find((line) => line.startsWith('Gate:')),
    outside: await outside(host),
  });
  type HostState = Awaited<ReturnType<typeof hostState>>;

  /** The host as a fault starts from: Scenario A, a sentinel key nobody manages, nothing armed. */
  const prepare = async (host: string): Promise<{ before: HostState; vpnSum: string }> => {
    await onHost(host, `grep -qx '${SENTINEL}' /batm/config/gate.properties || echo '${SENTINEL}' >> /batm/config/gate.properties`);
    const vpnSum = (await onHost(host, `sha256sum < ${VPN_FILE}`)).split(' ')[0]!;
    return { before: await hostState(host), vpnSum };
  };

  /** Until no dead-man is armed (or firing) on the host, i.e. it has settled by itself. */
  const untilSettled = async (host: string, withinMs = 60_000): Promise<void> => {
    const giveUpAt = Date.now() + withinMs;
    while (Date.now() < giveUpAt) {
      if (!(await timersOn(host)).some((timer) => timer.state === 'armed' || timer.state === 'firing' || timer.state === 'disarming'))
        return;
      await sleep(250);
    }
    throw new Error(`${host}: the dead-man neither fired nor was disarmed within ${withinMs} ms`);
  };

  /** Old, new or in between; whether data was lost. */
  const judge = async (host: string, start: { before: HostState; vpnSum: string }) => {
    const now = await hostState(host);
    const check = await casfleet(['apply', ...SCENARIO_B, '-l', host, '--check']);
    const planned = jsonEvents(check.stdout).filter((event) => event.type === 'step' && event.host === host && event.status === 'changed');
    const ending = isDeepStrictEqual(now, start.before) ? 'old' : check.code === 0 && planned.length === 0 ? 'new' : 'in between';
    const sentinelKept = (await onHost(host, `grep -cx '${SENTINEL}' /batm/config/gate.properties || :`)).trim() === '1';
    const vpnKept =
      (await onHost(host, `sha256sum < ${VPN_FILE} 2>/dev/null || :`)).startsWith(start.vpnSum) ||
      (await onHost(host, `find ${BACKUP_ROOT} -type f -exec sha256sum {} + 2>/dev/null || :`)).includes(start.vpnSum);
    return { ending, consistent: ending !== 'in between', dataLost: !sentinelKept || !vpnKept, now };
  };

  /** A later plain run brings the host to the new state. */
  const converges = async (host: string): Promise<boolean> => (await casfleet(['apply', ...SCENARIO_B, '-l', host])).code === 0;

  /**
   * The newest run record whose --limit was exactly `limit`, as `casfleet runs` reads it: with its
   * journal applied (the hosts that ended after the record's last write).
   */
  const runRecordFor = async (limit: string): Promise<RunRecord | undefined> => {
    const dir = runsDir(env() as NodeJS.ProcessEnv);
    const records = existsSync(dir)
      ? readdirSync(dir)
          .filter((name) => name.endsWith('.json'))
          .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as RunRecord)
      : [];
    const newest = records
      .filter((record) => record.limit === limit)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .at(-1);
    return newest && readRunRecord(newest.id, dir);
  };

  return { stateDir, env, casfleet, runRecordFor, onHost, outside, timersOn, hostState, prepare, untilSettled, judge, converges };
};

export type FaultKit = ReturnType<typeof faultKit>;

interface TimedEvent {
  readonly at: number;
  readonly event: Record<string, unknown> & { type: string };
}

/** casfleet as a child process, paused at `phase` (or not at all), its JSON events timestamped on arrival. */
export const startCasfleet = (kit: FaultKit, lab: TestLab, args: readonly string[], phase?: string) => {
  const marker = join(kit.stateDir, `pause-${phase ?? 'none'}-${process.hrtime.bigint()}`);
  const child = spawn(process.execPath, [CLI, ...args, '-i', lab.inventoryPath, '--json'], {
    env: { ...process.env, NO_COLOR: '1', ...kit.env(phase ? { CASFLEET_TEST_PAUSE: `${phase}:${marker}` } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: TimedEvent[] = [];
  let pending = '';
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{')) events.push({ at: Date.now(), event: JSON.parse(line) as TimedEvent['event'] });
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));

  /** The pid of the process holding the host's connection, once it paused there. */
  const paused = async (host: string): Promise<number> => {
    for (let tries = 0; tries < 2400; tries++) {
      if (existsSync(marker)) {
        const line = readFileSync(marker, 'utf8')
          .split('\n')
          .find((entry) => entry.startsWith(`${host} `));
        if (line) return Number(line.split(' ')[1]);
      }
      if (child.exitCode !== null) throw new Error(`casfleet ended before it paused at ${phase}:\n${stdout}${stderr}`);
      await sleep(50);
    }
    throw new Error(`casfleet never paused at ${phase}`);
  };
  const resume = (): void => rmSync(marker, { force: true });
  /** When casfleet first reported the host failed, rolled back or unreachable (after `since`). */
  const reportedAt = (host: string, since: number): number | undefined =>
    events.find(
      ({ at, event }) =>
        at >= since &&
        event.host === host &&
        (event.type === 'unreachable' || (event.type === 'step' && (event.status === 'failed' || event.status === 'rolled-back'))),
    )?.at;
  /** How long the host's first failing step or handler ran until casfleet knew it failed. */
  const failedWithinMs = (host: string): number | undefined =>
    events.find(({ event }) => event.host === host && event.type === 'step' && event.status === 'failed')?.event.durationMs as
      | number
      | undefined;
  return { child, done, paused, resume, events, reportedAt, failedWithinMs };
};

/**
 * Whether casfleet's report matches what the host ended in: old and reported undone (rolled back,
 * failed or unreachable), or new and reported done; and what it said.
 */
export const reportedOutcome = (
  ending: string,
  counts: ReturnType<typeof recapOf>[string] | undefined,
): { readonly ok: boolean; readonly said: string } => {
  const undone = (counts?.rolledBack ?? 0) + (counts?.failed ?? 0) + (counts?.unreachable ?? 0) > 0;
  const said =
    counts === undefined
      ? 'not reported'
      : undone
        ? counts.rolledBack
          ? 'rolled-back'
          : counts.unreachable
            ? 'unreachable'
            : 'failed'
        : 'ok';
  return { ok: (ending === 'old' && undone) || (ending === 'new' && !undone), said };
};

/** The row's booleans as assertions, so a failing fault fails its test as well as the table. */
export const assertRow = (t: ExecutionContext, row: FaultRow, details: string): void => {
  recordRow(row);
  t.true(row.consistent, `${row.fault} @ ${row.phase}: the host ended in between\n${details}`);
  t.false(row.dataLost, `${row.fault} @ ${row.phase}: data lost\n${details}`);
  t.true(row.converged, `${row.fault} @ ${row.phase}: a re-run did not converge\n${details}`);
};

/**
 * The row of a fault casfleet met while applying to `host`: waits until the host settled by itself
 * (its dead-man fired or was disarmed), judges it against `start`, checks a re-run converges and
 * asserts the row; `details` goes in front of casfleet's output in a failure's message.
 */
export const assertSettledRow = async (
  t: ExecutionContext,
  kit: FaultKit,
  host: string,
  start: Parameters<FaultKit['judge']>[1],
  result: { readonly stdout: string; readonly stderr: string },
  row: { readonly fault: string; readonly phase: string; readonly detectionMs: number },
  details = '',
): Promise<void> => {
  await kit.untilSettled(host, 120_000);
  const verdict = await kit.judge(host, start);
  const outcome = reportedOutcome(verdict.ending, recapOf(result.stdout)[host]);
  const converged = await kit.converges(host);
  assertRow(
    t,
    {
      ...row,
      hosts: 1,
      consistent: outcome.ok,
      dataLost: verdict.dataLost,
      converged,
      ending: `${verdict.ending}, reported ${outcome.said}`,
    },
    `${details}${result.stdout}${result.stderr}\n${verdict.now.files}`,
  );
};

/**
 * One lab for a fault file, brought to Scenario A once; its faults (`run`, concurrent, one host each)
 * start after that.
 */
export const faultLab = (options: StartLabOptions) => {
  const unavailable = labUnavailableReason();
  let lab: TestLab | undefined;
  const the = (): TestLab => {
    if (!lab) throw new Error('lab not started');
    return lab;
  };
  const kit = faultKit(the);
  test.before(async () => {
    if (unavailable) return;
    lab = await startLab(options);
    const baseline = await kit.casfleet(['apply', 'scenario-a']);
    if (baseline.code !== 0) throw new Error(`the Scenario A baseline failed:\n${baseline.stdout}${baseline.stderr}`);
  });
  test.after.always(async () => {
    await stopLab(lab);
    rmSync(kit.stateDir, { recursive: true, force: true });
  });
  return { run: unavailable ? test.skip : test, the, kit };
};

/** Every process charged to the host's cgroup: its sshd, the sessions, the dead-man timer. */
export const hostProcesses = (lab: TestLab, host: string): number[] => {
  const hierarchy = cpuHierarchy();
  if (!hierarchy) throw new Error("no cgroup hierarchy: the host's processes cannot be found");
  const dir = join(labCgroupDir(hierarchy, lab.name), lab.host(host).id);
  return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
};

export const signalAll = (pids: readonly number[], signal: NodeJS.Signals): void => {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
};

/**
 * The whole host SIGSTOPped, until no new process appears (a fork racing one pass is stopped on
 * the next); returns the frozen pids, for `signalAll(pids, 'SIGCONT')`.
 */
export const freezeHost = (lab: TestLab, host: string): readonly number[] => {
  const frozen = new Set<number>();
  for (let pass = 0; pass < 5; pass++) {
    const pids = hostProcesses(lab, host).filter((pid) => !frozen.has(pid));
    if (pids.length === 0 && pass > 0) break;
    signalAll(pids, 'SIGSTOP');
    for (const pid of pids) frozen.add(pid);
  }
  return [...frozen];
};
