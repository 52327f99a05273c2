// The timers fact's script run for real (dash and bash) on a timer directory built here: an armed
// timer whose sleeper runs, one whose PID now belongs to another process, a fired one (its log's
// last line without a newline), one being disarmed, a systemd one whose units are gone, and one
// with an unreadable PID. The lab test (test/lab/host-timer.test.ts) reads timers the real
// commands made; this one covers the states that are hard to reach there.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { Fact } from '../../src/facts/fact.ts';
import { buildGatherScript, parseGatherOutput } from '../../src/facts/gather-script.ts';
import { type HostTimer, hostTimers } from '../../src/host-timer/host-timers.ts';
import { TIMER_PARENT, TIMER_PROCESS_TAG, TIMER_SLEEPER_FUNCTION } from '../../src/host-timer/timer-commands.ts';

const SHELLS = ['/bin/sh', 'bash'].filter((shell) => spawnSync(shell, ['-c', 'true']).status === 0);

const root = mkdtempSync(join(tmpdir(), 'casfleet-timers-'));
const dir = join(root, 'timers');
const sleepers: ChildProcess[] = [];

/** A process whose arguments are `args` (and that sleeps until the test ends). */
const sleeper = (...args: string[]): number => {
  const child = spawn('/bin/sh', ['-c', 'sleep 60; :', ...args], { stdio: 'ignore' });
  sleepers.push(child);
  return child.pid!;
};

/** Run `script` as the host would, with a bare PATH. */
const runScript = (shell: string, script: string) =>
  // stdin not a socket (node's pipes are): bash would take itself for an rsh/ssh session and read ~/.bashrc.
  spawnSync(shell, ['-c', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

const pids = new Map<string, number>();
const due = (mechanism: string) => `due 1796050900\narmed 1796050000\nmechanism ${mechanism}\n`;
const write = (name: string, content: string) => writeFileSync(join(dir, name), content);

test.before(() => {
  spawnSync('mkdir', ['-m', '700', dir]);
  write('armed.due', due('process'));
  pids.set('armed', sleeper(TIMER_PROCESS_TAG, 'armed', dir, '600'));
  write('armed.pid', `${pids.get('armed')}\n`);
  // The PID of a process that names the tag and the id, but not as arguments of their own.
  write('reused.due', due('process'));
  pids.set('reused', sleeper(`${TIMER_PROCESS_TAG} reused `, 'x'));
  write('reused.pid', `${pids.get('reused')}\n`);
  write('fired.due', due('process'));
  write('fired.pid', '1\n');
  symlinkSync('fire', join(dir, 'fired.claim'));
  write('fired.result', 'exit 2\nstarted 1796050473\nended 1796050475\n');
  write('fired.log', 'restored /etc/ufw/user.rules\n\n  a \\n backslash\nno newline');
  write('going.due', due('process'));
  // As the fire script it became: the id is its last argument.
  pids.set('going', sleeper(TIMER_PROCESS_TAG, 'going'));
  write('going.pid', `${pids.get('going')}\n`);
  symlinkSync('disarm', join(dir, 'going.claim'));
  write('unit.due', due('systemd'));
  write('garbled.due', due('process'));
  write('garbled.pid', '12x\n');
});

test.after.always(() => {
  for (const child of sleepers) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const timer = (id: string, mechanism: 'process' | 'systemd', state: HostTimer['state']): HostTimer => ({
  id,
  due: 1796050900,
  armedAt: 1796050000,
  mechanism,
  state,
});

for (const shell of SHELLS) {
  test(`${shell}: each timer's state and result, as the parser reads them`, (t) => {
    const script = hostTimers.script.replaceAll(TIMER_PARENT, root);
    const result = runScript(shell, script);
    t.is(result.status, 0, result.stderr);
    t.is(result.stderr, '');
    t.true(result.stdout.includes('\n  | no newline\ntimer garbled\n'), result.stdout);
    t.deepEqual(hostTimers.parse(result.stdout), [
      timer('armed', 'process', 'armed'),
      {
        ...timer('fired', 'process', 'fired'),
        result: {
          exitCode: 2,
          startedAt: 1796050473,
          endedAt: 1796050475,
          log: ['restored /etc/ufw/user.rules', '', '  a \\n backslash', 'no newline'],
        },
      },
      timer('garbled', 'process', 'lost'),
      timer('going', 'process', 'disarming'),
      timer('reused', 'process', 'lost'),
      timer('unit', 'systemd', 'lost'),
    ]);
  });
}

// The sleeper is known without a process (the disarm and the re-read run on every changed host):
// with no grep to be found, the armed timer's sleeper is still recognised, and no other PID is.
for (const shell of SHELLS) {
  test(`${shell}: a timer's sleeper is recognised by its arguments without a process`, (t) => {
    const sleeperOf = (pid: number | undefined, id: string, path: string): string => {
      const script = `${TIMER_SLEEPER_FUNCTION}\nif timer_sleeper ${pid} ${id}; then echo yes; else echo no; fi`;
      // The shell found by its path: the child's own PATH may have nothing on it.
      const result = spawnSync(shell.includes('/') ? shell : `/bin/${shell}`, ['-c', script], {
        encoding: 'utf8',
        env: { PATH: path },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return result.stdout.trim();
    };
    const noTools = join(root, 'no-tools');
    t.is(sleeperOf(pids.get('armed'), 'armed', noTools), 'yes');
    // An id that begins another's is not that timer's.
    t.is(sleeperOf(pids.get('armed'), 'arme', noTools), 'no');
    t.is(sleeperOf(pids.get('going'), 'goin', noTools), 'no');
    t.is(sleeperOf(pids.get('going'), 'going', noTools), 'yes');
    t.is(sleeperOf(pids.get('armed'), 'other', process.env.PATH ?? '/usr/bin:/bin'), 'no');
    t.is(sleeperOf(pids.get('reused'), 'reused', process.env.PATH ?? '/usr/bin:/bin'), 'no');
  });
}

// The fact is a function of the gathering shell itself, not a subshell: a refusal must end the fact
// (exit status 3, nothing listed) and nothing else, so the facts after it are still read.
const after: Fact<string> = { id: 'test.after', script: 'echo "still here"', inline: true, parse: (output) => output.trim() };

for (const shell of SHELLS) {
  test(`${shell}: a symlinked timer directory is refused (exit 3) and the gather goes on`, (t) => {
    const elsewhere = mkdtempSync(join(root, 'elsewhere-'));
    const parent = join(root, `linked-${shell.replaceAll('/', '')}`);
    mkdirSync(join(elsewhere, 'timers'), { mode: 0o700 });
    symlinkSync(elsewhere, parent);
    const script = buildGatherScript([hostTimers, after]).replaceAll(TIMER_PARENT, parent);
    const result = runScript(shell, script);
    t.is(result.status, 0, result.stderr);
    t.regex(result.stderr, /is a symlink; refusing to use it/);
    const outcomes = parseGatherOutput(result.stdout, [hostTimers, after], result.stderr);
    const timers = outcomes.get(hostTimers.id);
    t.false(timers?.ok);
    t.regex(timers && !timers.ok ? timers.error.message : '', /its script exited 3/);
    t.deepEqual(outcomes.get(after.id), { ok: true, value: 'still here' });
  });
}
