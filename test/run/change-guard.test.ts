// Once a transaction is open, every change first marks itself busy and checks on the host that the
// transaction's dead-man has not been claimed: a command that arrives only after the host restored
// its snapshot (a connection that stalled past the deadline, then recovered) must not change the
// restored host, and a dead-man that fires while a change runs restores only after it. Run with the
// local shell on a timer directory of this test; the timer is armed and fired by its real scripts
// (process mechanism, /bin/sh as on a host).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { sh } from '../../src/command/shell.ts';
import {
  armTimerCommand,
  disarmTimerCommand,
  TIMER_DIR,
  TIMER_PARENT,
  TIMER_PROCESS_TAG,
  transactionChangeGuard,
} from '../../src/host-timer/timer-commands.ts';
import { HostSession } from '../../src/run/host-session.ts';
import { createLocalConnection } from '../helpers/local-connection.ts';

const root = mkdtempSync(join(tmpdir(), 'casfleet-guard-'));
const parent = join(root, 'casfleet');
const dir = join(parent, 'timers');
// The sleepers of the timers fired by hand sleep on: each leads a process group of its own, killed
// only while its command line still names its timer (the PID alone may have been reused).
test.after.always(() => {
  for (const id of ['txn-race', 'txn-stale']) {
    const pidFile = join(dir, `${id}.pid`);
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : Number.NaN;
    if (!Number.isInteger(pid) || pid <= 1) continue;
    const cmdline = join('/proc', String(pid), 'cmdline');
    const args = existsSync(cmdline) ? readFileSync(cmdline, 'utf8').split('\0') : [];
    if (args.includes(TIMER_PROCESS_TAG) && args.includes(id)) process.kill(-pid, 'SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
});

const local = (script: string): string =>
  script.replaceAll(TIMER_PARENT, parent).replaceAll('/run/systemd/system', join(root, 'no-systemd'));
const runSh = (script: string) => spawnSync('/bin/sh', ['-c', local(script)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const guardOf = (id: string) => {
  const { enter, leave } = transactionChangeGuard(id);
  return { enter: enter.replaceAll(TIMER_DIR, dir), leave: leave.replaceAll(TIMER_DIR, dir) };
};

const session = (guardId?: string): HostSession => {
  const hostSession = new HostSession(createLocalConnection(), {
    become: { enabled: false },
    gatherTimeoutMs: 20_000,
    applyTimeoutMs: 20_000,
  });
  if (guardId) hostSession.guardChanges(guardOf(guardId));
  return hostSession;
};

const ID = 'txn-20261201t120000z-abcd';

test.serial('a change runs while the dead-man is armed and unclaimed, and is refused once it fired or is gone', async (t) => {
  mkdirSync(dir, { recursive: true });
  const changeOn = (guarded: boolean, marker: string) =>
    session(guarded ? ID : undefined).apply(sh`: >${join(dir, marker)}`, undefined, []);
  writeFileSync(join(dir, `${ID}.due`), 'due 1796050900\narmed 1796050000\nmechanism process\n');
  const armed = await changeOn(true, 'armed');
  t.is(armed.status, 0, armed.output);
  t.true(existsSync(join(dir, 'armed')));
  t.is(readFileSync(join(dir, `${ID}.busy`), 'utf8'), '', 'no longer busy once the change ended');

  symlinkSync('fire', join(dir, `${ID}.claim`));
  const fired = await changeOn(true, 'fired');
  t.is(fired.status, 3);
  t.regex(fired.output, /the rollback of transaction txn-20261201t120000z-abcd has begun on the host .*this change was not made/);
  t.false(existsSync(join(dir, 'fired')), 'the command did not run');
  t.is(readFileSync(join(dir, `${ID}.busy`), 'utf8'), '', 'a refused change leaves no busy mark');

  unlinkSync(join(dir, `${ID}.claim`));
  unlinkSync(join(dir, `${ID}.due`));
  unlinkSync(join(dir, `${ID}.busy`));
  const gone = await changeOn(true, 'gone');
  t.is(gone.status, 3);
  t.false(existsSync(join(dir, 'gone')));
  t.false(existsSync(join(dir, `${ID}.busy`)), 'a timer that is gone gets no busy mark');

  // Without a transaction nothing is checked.
  const plain = await changeOn(false, 'plain');
  t.is(plain.status, 0, plain.output);
  t.true(existsSync(join(dir, 'plain')));
});

const waitFor = async (path: string, text: string): Promise<void> => {
  for (let i = 0; i < 200; i++) {
    if (existsSync(path) && readFileSync(path, 'utf8').includes(text)) return;
    await sleep(25);
  }
  throw new Error(`${path} never showed "${text}"`);
};

/** The dead-man firing on its own: the sleeper's exec of the fire script. */
const fireAsTheSleeper = (id: string) => spawn('/bin/sh', [join(dir, `${id}.fire`), TIMER_PROCESS_TAG, id], { stdio: 'ignore' });

test.serial('a dead-man that fires while a change runs restores after the change, not in the middle of it', async (t) => {
  mkdirSync(dir, { recursive: true });
  const log = join(root, 'order');
  const id = 'txn-race';
  const armed = runSh(armTimerCommand({ id, delaySeconds: 600, script: `echo restore >>${log}` }).script);
  t.is(armed.status, 0, armed.stderr);
  const change = session(id).apply(sh`echo change-start >>${log}; sleep 1.5; echo change-end >>${log}`, undefined, []);
  await waitFor(log, 'change-start');
  const fire = fireAsTheSleeper(id);
  const fired = new Promise<number | null>((resolve) => fire.on('exit', resolve));
  const result = await change;
  t.is(result.status, 0, result.output);
  t.is(await fired, 0);
  t.deepEqual(readFileSync(log, 'utf8').split('\n').filter(Boolean), ['change-start', 'change-end', 'restore']);
  t.regex(readFileSync(join(dir, `${id}.result`), 'utf8'), /^exit 0$/m);

  // And a change that comes after the claim is refused without running.
  const late = await session(id).apply(sh`echo late-change >>${log}`, undefined, []);
  t.is(late.status, 3);
  t.notRegex(readFileSync(log, 'utf8'), /late-change/);
});

test.serial('a busy mark whose shell is gone (the change was killed) does not hold the restore', async (t) => {
  const id = 'txn-stale';
  const log = join(root, 'stale');
  t.is(runSh(armTimerCommand({ id, delaySeconds: 600, script: `echo restore >>${log}` }).script).status, 0);
  const gone = spawnSync('/bin/sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(join(dir, `${id}.busy`), `busy ${gone}\n`);
  const started = Date.now();
  const fire = fireAsTheSleeper(id);
  t.is(await new Promise<number | null>((resolve) => fire.on('exit', resolve)), 0);
  t.true(Date.now() - started < 5000, 'no wait for a dead shell');
  t.is(readFileSync(log, 'utf8'), 'restore\n');
  t.regex(runSh(disarmTimerCommand(id).script).stdout, /timer txn-stale fired/);
});

test('the guard takes only a timer id', (t) => {
  t.throws(() => transactionChangeGuard('x; rm -rf /'));
});
