// The arm script run for real (bash, as over SSH, and dash) in a directory of this test instead of
// /var/lib/casfleet, with systemd out of the way (process mechanism): on a first arm mkdir makes the
// directories 0700 itself, an existing directory of another mode is made 0700, and bash's clock
// replaces `date` (a `date` earlier on PATH records each call). Each timer is disarmed again.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { armTimerCommand, disarmTimerCommand, TIMER_PARENT } from '../../src/host-timer/timer-commands.ts';

const root = mkdtempSync(join(tmpdir(), 'casfleet-arm-'));
const parent = join(root, 'casfleet');
const shim = join(root, 'bin');
const dateCalls = join(root, 'date-calls');

test.before(() => {
  mkdirSync(shim);
  writeFileSync(join(shim, 'date'), `#!/bin/sh\necho "$*" >>${dateCalls}\nexec /bin/date "$@"\n`, { mode: 0o755 });
});

test.after.always(() => {
  // A timer left armed (its disarm failed): its sleeper leads a process group of its own.
  for (const id of ['first', 'again']) {
    const pidFile = join(parent, 'timers', `${id}.pid`);
    if (existsSync(pidFile)) process.kill(-Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
});

const run = (shell: string, script: string) =>
  spawnSync(shell, ['-c', script.replaceAll(TIMER_PARENT, parent).replaceAll('/run/systemd/system', join(root, 'no-systemd'))], {
    encoding: 'utf8',
    env: { PATH: `${shim}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    // stdin not a socket (node's pipes are): bash would take itself for an rsh/ssh session and read ~/.bashrc.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);
const dateCallCount = (): number => (existsSync(dateCalls) ? readFileSync(dateCalls, 'utf8').split('\n').filter(Boolean).length : 0);

test.serial('a first arm under bash makes both directories 0700 and reads the clock without date', (t) => {
  const armed = run('bash', armTimerCommand({ id: 'first', delaySeconds: 600, script: 'true' }).script);
  t.teardown(() => void run('bash', disarmTimerCommand('first').script));
  t.is(armed.status, 0, armed.stderr);
  t.is(armed.stderr, '');
  const [, due] = /^armed first (\d+) process$/m.exec(armed.stdout) ?? [];
  t.true(Math.abs(Number(due) - 600 - Date.now() / 1000) < 30, armed.stdout);
  t.is(mode(parent), '700');
  t.is(mode(join(parent, 'timers')), '700');
  t.is(dateCallCount(), 0);
  t.regex(run('bash', disarmTimerCommand('first').script).stdout, /^timer first disarmed$/m);
});

test.serial('an arm under dash makes an existing directory 0700 and takes the time from date', (t) => {
  chmodSync(join(parent, 'timers'), 0o755);
  const armed = run('/bin/sh', armTimerCommand({ id: 'again', delaySeconds: 600, script: 'true' }).script);
  t.teardown(() => void run('/bin/sh', disarmTimerCommand('again').script));
  t.is(armed.status, 0, armed.stderr);
  t.regex(armed.stdout, /^armed again \d+ process$/m);
  t.is(mode(join(parent, 'timers')), '700');
  t.is(dateCallCount(), spawnSync('/bin/sh', ['-c', '[ -n "$EPOCHSECONDS" ]']).status === 0 ? 0 : 1);
  t.regex(run('/bin/sh', disarmTimerCommand('again').script).stdout, /^timer again disarmed$/m);
});
