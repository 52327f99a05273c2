// The rollout runner's decisions (stages, budgets, halts, untouched hosts, approval, gates, soak) on
// hosts reached through the local shell; the lab tests cover the same paths over real SSH.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { sh } from '../../src/command/shell.ts';
import { ConnectError } from '../../src/errors.ts';
import type { Fact } from '../../src/facts/fact.ts';
import type { RunEvent } from '../../src/report/events.ts';
import { planRollout } from '../../src/rollout/plan-rollout.ts';
import type { RolloutPolicy } from '../../src/rollout/rollout-policy.ts';
import { type HostTarget, runPlaybook } from '../../src/run/run-playbook.ts';
import { defineHandler, defineStep, type Handler, noChange } from '../../src/steps/step.ts';
import { createLocalConnection } from '../helpers/local-connection.ts';

const exists = (path: string): Fact<boolean> => ({
  id: `exists:${path}`,
  script: sh`test -e ${path} && echo yes || echo no`.script,
  parse: (out) => out.trim() === 'yes',
});

const touchStep = (path: string, notify: string[] = []) =>
  defineStep({
    name: 'touch',
    facts: { present: exists(path) },
    notify,
    plan: ({ present }) => (present ? noChange('present') : { changes: [{ summary: `touch ${path}`, command: sh`touch ${path}` }] }),
  });

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);

const setup = (count: number, options: { undoByHandler?: string[] } = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-rollout-'));
  const file = (host: string) => join(dir, host);
  const targets: HostTarget[] = hosts(count).map((name) => {
    const undo = options.undoByHandler?.includes(name);
    return {
      name,
      connect: { name, host: '127.0.0.1', port: 22, username: 'test', knownHostsPaths: [] },
      become: { enabled: false },
      items: [touchStep(file(name), undo ? ['undo'] : [])],
      // A handler that silently reverts the change: only the gate's fresh read can notice.
      handlers: (undo
        ? { undo: defineHandler({ name: 'undo', command: sh`rm -f ${file(name)}`, facts: {}, check: () => undefined }) }
        : {}) as Record<string, Handler>,
    };
  });
  return { dir, file, targets, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
};

const run = async (
  targets: HostTarget[],
  policy: RolloutPolicy | undefined,
  extra: { unreachable?: string[]; approve?: boolean; gates?: boolean; lockedOutAfterFirstLogin?: string[] } = {},
) => {
  const events: RunEvent[] = [];
  const logins = new Set<string>();
  const plan = planRollout({ hosts: targets.map((t) => t.name), ...(policy ? { policy } : {}) });
  const recap = await runPlaybook({
    playbook: 'test',
    targets,
    rollout: {
      plan,
      gates: extra.gates ?? false,
      approveAfterCanary: async () => ((extra.approve ?? true) ? 'continue' : 'needs-approval'),
    },
    options: { check: false, diff: false, forks: 1, gatherTimeoutMs: 10_000, applyTimeoutMs: 10_000 },
    connect: async (options) => {
      if (extra.unreachable?.includes(options.name)) throw new ConnectError(`cannot connect to ${options.name}`);
      if (extra.lockedOutAfterFirstLogin?.includes(options.name) && logins.has(options.name))
        throw new ConnectError('connection timed out');
      logins.add(options.name);
      return createLocalConnection(options.name);
    },
    emit: (event) => events.push(event),
  });
  return { recap, events };
};

const count = (value: number) => ({ kind: 'count' as const, value });

test('a failure over the batch budget halts: later batches stay untouched and are never contacted', async (t) => {
  const { targets, file, cleanup } = setup(5);
  const { recap, events } = await run(targets, { canary: count(1), batches: [count(2)], maxFail: count(0) }, { unreachable: ['h3'] });
  t.is(recap.h3?.unreachable, 1);
  t.deepEqual(
    hosts(5).map((h) => recap[h]?.untouched),
    [0, 0, 0, 1, 1],
  );
  t.false(existsSync(file('h4')));
  const halt = events.find((e) => e.type === 'halt');
  t.like(halt, { kind: 'budget', untouched: ['h4', 'h5'] });
  cleanup();
});

test('hosts queued in the failing stage do not start once its budget is exceeded', async (t) => {
  const { targets, file, cleanup } = setup(4);
  const { recap } = await run(targets, { batches: [count(4)], maxFail: count(0) }, { unreachable: ['h1'] });
  t.deepEqual(
    hosts(4).map((h) => recap[h]?.untouched),
    [0, 1, 1, 1],
  );
  t.false(existsSync(file('h2')));
  cleanup();
});

test('no approval after the canary stops the run there', async (t) => {
  const { targets, cleanup } = setup(3);
  const { recap, events } = await run(targets, { canary: count(1), batches: [count(1)] }, { approve: false });
  t.deepEqual(
    hosts(3).map((h) => recap[h]?.changed),
    [1, 0, 0],
  );
  t.like(
    events.find((e) => e.type === 'halt'),
    { kind: 'approval', untouched: ['h2', 'h3'] },
  );
  cleanup();
});

test('the gate catches a change that did not stick and counts it against the budget', async (t) => {
  const { targets, cleanup } = setup(3, { undoByHandler: ['h1'] });
  const { recap, events } = await run(targets, { canary: count(1), batches: [count(1)] }, { gates: true });
  const gate = events.find((e) => e.type === 'step' && e.kind === 'gate' && e.host === 'h1');
  t.like(gate, { status: 'failed' });
  t.like(gate, { error: { kind: 'verify' } });
  t.regex(gate?.type === 'step' ? (gate.error?.message ?? '') : '', /still pending: touch: touch /);
  t.is(recap.h1?.failed, 1);
  t.deepEqual([recap.h2?.untouched, recap.h3?.untouched], [1, 1], 'a failed canary halts');
  cleanup();
});

test('a fleet budget halts across batches even when batches may exceed their own', async (t) => {
  const { targets, cleanup } = setup(6);
  const policy: RolloutPolicy = { batches: [count(2)], maxFail: count(0), fleetMaxFail: count(1), continueOnBatchFailure: true };
  const { recap, events } = await run(targets, policy, { unreachable: ['h1', 'h3'] });
  // h1 fails in batch 1 (allowed by --continue-on-batch-failure); h3 is the second failure of the run,
  // so h4, queued behind it in the same batch, never starts.
  t.deepEqual(
    hosts(6).map((h) => recap[h]?.untouched),
    [0, 0, 0, 1, 1, 1],
  );
  const halt = events.find((e) => e.type === 'halt');
  t.regex(halt?.type === 'halt' ? halt.reason : '', /fleet budget 1/);
  cleanup();
});

test('soak waits between stages and says so', async (t) => {
  const { targets, cleanup } = setup(2);
  const started = Date.now();
  const { events } = await run(targets, { batches: [count(1)], soakMs: 300 });
  t.true(Date.now() - started >= 300);
  t.true(events.some((e) => e.type === 'stage' && e.status === 'soak' && e.soakMs === 300));
  cleanup();
});

test('without a rollout every host runs in one stage with no budget', async (t) => {
  const { targets, cleanup } = setup(3);
  const { recap, events } = await run(targets, undefined, { unreachable: ['h1'] });
  t.deepEqual(
    hosts(3).map((h) => recap[h]?.untouched),
    [0, 0, 0],
  );
  t.false(events.some((e) => e.type === 'halt'));
  cleanup();
});

test('the gate logs in again over a new connection and fails a host that now refuses new logins', async (t) => {
  const { targets, cleanup } = setup(2);
  const { recap, events } = await run(
    targets,
    { canary: count(1), batches: [count(1)] },
    { gates: true, lockedOutAfterFirstLogin: ['h1'] },
  );
  const gate = events.find((e) => e.type === 'step' && e.kind === 'gate' && e.host === 'h1');
  t.like(gate, { error: { kind: 'verify' } });
  t.regex(gate?.type === 'step' ? (gate.error?.message ?? '') : '', /a new SSH connection fails after the change: connection timed out/);
  t.is(recap.h2?.untouched, 1, 'the locked-out canary stops the rollout');
  cleanup();
});

// The outside probe of a host that changes nothing starts with its run; a changed host is probed
// again once done. Seen from a loopback listener standing for a port the playbook declares reachable.
const probedRun = async (alreadyThere: boolean) => {
  const { targets, file, cleanup } = setup(1);
  if (alreadyThere) writeFileSync(file('h1'), '');
  const log: string[] = [];
  let probeSeen: () => void = () => undefined;
  const firstProbe = new Promise<void>((resolve) => (probeSeen = resolve));
  const server = createServer((socket) => {
    log.push('probe');
    probeSeen();
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const [target] = targets as [HostTarget];
  const recap = await runPlaybook({
    playbook: 'test',
    targets: [{ ...target, exposure: { reachable: [port], blocked: [] } }],
    rollout: { plan: planRollout({ hosts: ['h1'] }), gates: false, approveAfterCanary: async () => 'continue' },
    options: { check: false, diff: false, forks: 1, gatherTimeoutMs: 10_000, applyTimeoutMs: 10_000, probe: true },
    connect: async (options) => {
      const local = createLocalConnection(options.name);
      return {
        ...local,
        exec: async (script, execOptions) => {
          // An unchanged host's read waits for its probe: it hangs if the probe only starts afterwards.
          if (alreadyThere) await firstProbe;
          const result = await local.exec(script, execOptions);
          log.push('exec');
          return result;
        },
      };
    },
    emit: () => undefined,
  });
  server.close();
  cleanup();
  return { recap, log };
};

test('a host that changes nothing is probed while it is read, once', async (t) => {
  const { recap, log } = await probedRun(true);
  t.like(recap.h1, { changed: 0, failed: 0 });
  t.deepEqual(log, ['probe', 'exec']);
});

test('a host that changed is probed again once done', async (t) => {
  const { recap, log } = await probedRun(false);
  t.like(recap.h1, { changed: 1, failed: 0 });
  t.is(log.at(-1), 'probe');
  t.is(log.filter((entry) => entry === 'probe').length, 2);
});
