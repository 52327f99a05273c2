// The on-host timer on real lab hosts, driven over OpenSSH (each command its own connection, so
// nothing of the arming session is left when the timer is due): a disarmed timer never runs its
// script; an armed one runs it on time after the arming client was killed with SIGKILL; firing and
// disarming racing each other end with exactly one winner; `lab down` removes leftover timers.
import { spawn } from 'node:child_process';
import test from 'ava';
import type { RemoteCommand } from '../../src/command/shell.ts';
import { hostTimers } from '../../src/host-timer/host-timers.ts';
import { armTimerCommand, disarmTimerCommand, fireTimerNowCommand, forgetTimerCommand } from '../../src/host-timer/timer-commands.ts';
import { parseTimerOutcome, type TimerOutcome } from '../../src/host-timer/timer-outcome.ts';
import { sleep } from '../../src/lab/lab-exec.ts';
import { listNetns } from '../../src/lab/lab-network.ts';
import { isProcessAlive } from '../../src/lab/lab-processes.ts';
import { labSshArgv } from '../../src/lab/lab-ssh-client.ts';
import { timerProcessesIn } from '../../src/lab/lab-timer-processes.ts';
import { labForFile, startLab, stopLab } from '../helpers/lab.ts';

const { unavailable, serial, the } = labForFile({ hosts: 2, prefix: 'tmr' });

const remote = async (host: number, command: RemoteCommand): Promise<string> => {
  const result = await the().ssh(host, command.script);
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr}`);
  return result.stdout;
};
const outcome = async (host: number, command: RemoteCommand): Promise<TimerOutcome> => parseTimerOutcome(await remote(host, command));
const timersOn = async (host: number) => hostTimers.parse(await remote(host, { script: hostTimers.script, display: 'timers' }));
/** The epoch seconds at which each run of the timer's script started (one line per run). */
const runsOf = async (host: number, id: string): Promise<number[]> => {
  const result = await the().ssh(host, `cat /root/ran-${id} 2>/dev/null || :`);
  return result.stdout.split('\n').filter(Boolean).map(Number);
};
const recordingScript = (id: string) => `date +%s >> /root/ran-${id}\necho "ran ${id}"`;
const timerPids = (host: number) => timerProcessesIn([the().host(host).netns]);

serial('a timer disarmed before it is due never runs its script and leaves nothing behind', async (t) => {
  // Due in 15 s: three OpenSSH logins on a busy machine fit well before that.
  const armed = await remote(1, armTimerCommand({ id: 'early', delaySeconds: 15, script: recordingScript('early') }));
  t.regex(armed, /^armed early \d+ process$/m);
  const [timer] = await timersOn(1);
  t.like(timer, { id: 'early', mechanism: 'process', state: 'armed' });
  t.is(timer!.due - timer!.armedAt, 15);
  t.true(timerPids(1).length > 0, 'a timer process runs in the host');

  t.deepEqual(await outcome(1, disarmTimerCommand('early')), { id: 'early', state: 'disarmed' });
  t.deepEqual(timerPids(1), []);
  t.deepEqual(await timersOn(1), []);
  await sleep(Math.max(0, (timer!.due + 2) * 1000 - Date.now()));
  t.deepEqual(await runsOf(1, 'early'), []);
  t.deepEqual(await outcome(1, disarmTimerCommand('early')), { id: 'early', state: 'absent' });
});

serial('an armed timer runs on time although the arming SSH client was killed with SIGKILL', async (t) => {
  const lab = the();
  // One ssh client arms, then keeps its session open until it is killed, as a crashing casfleet would.
  const arm = armTimerCommand({ id: 'orphan', delaySeconds: 10, script: recordingScript('orphan') });
  const client = spawn(
    'ip',
    ['netns', 'exec', lab.controllerNetns, ...labSshArgv(lab, lab.host(2).address, `${arm.script}\necho ARMED; sleep 60`)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise((resolve) => client.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    client.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('ARMED')) resolve();
    });
    client.on('close', () => reject(new Error(`the arming client ended early: ${out}`)));
  });
  client.kill('SIGKILL');
  await exited;

  const [timer] = await timersOn(2);
  t.like(timer, { id: 'orphan', state: 'armed' });
  await sleep(Math.max(0, (timer!.due + 2) * 1000 - Date.now()));
  let timers = await timersOn(2);
  for (let tries = 0; tries < 20 && timers[0]?.state !== 'fired'; tries++) {
    await sleep(250);
    timers = await timersOn(2);
  }
  t.like(timers[0], { id: 'orphan', state: 'fired', result: { exitCode: 0, log: ['ran orphan'] } });
  const runs = await runsOf(2, 'orphan');
  t.is(runs.length, 1);
  t.true(runs[0]! >= timer!.due, 'never before it is due');

  // A late disarm learns that it fired and what the script did; forget then removes the records.
  t.like(await outcome(2, disarmTimerCommand('orphan')), { state: 'fired', result: { exitCode: 0, log: ['ran orphan'] } });
  t.like(await outcome(2, forgetTimerCommand('orphan')), { state: 'absent' });
  t.deepEqual(await timersOn(2), []);
});

serial('an armed timer cannot be forgotten, and an id in use cannot be armed twice', async (t) => {
  await remote(1, armTimerCommand({ id: 'busy', delaySeconds: 60, script: 'true' }));
  const twice = await the().ssh(1, armTimerCommand({ id: 'busy', delaySeconds: 60, script: 'true' }).script);
  t.is(twice.code, 3);
  t.regex(twice.stderr, /timer busy exists already/);
  const forget = await the().ssh(1, forgetTimerCommand('busy').script);
  t.is(forget.code, 3);
  t.regex(forget.stderr, /has not fired; disarm it instead/);
  t.like(await outcome(1, disarmTimerCommand('busy')), { state: 'disarmed' });
});

serial(
  'one transaction at a time: a second exclusive arm is refused while the first is armed, and allowed once it is claimed',
  async (t) => {
    const arm = (id: string) => armTimerCommand({ id, delaySeconds: 60, script: 'true', exclusivePrefix: 'txn-' });
    // Another kind of timer (a pairing window's) does not count.
    await remote(1, armTimerCommand({ id: 'window', delaySeconds: 60, script: 'true' }));
    await remote(1, arm('txn-first'));
    const second = await the().ssh(1, arm('txn-second').script);
    t.is(second.code, 3);
    t.regex(second.stderr, /another casfleet transaction \(txn-first\) is in progress on this host/);
    t.deepEqual((await timersOn(1)).map((timer) => timer.id).sort(), ['txn-first', 'window'], 'the refused arm left nothing');
    t.like(await outcome(1, disarmTimerCommand('txn-first')), { state: 'disarmed' });
    await remote(1, arm('txn-second'));
    t.like(await outcome(1, disarmTimerCommand('txn-second')), { state: 'disarmed' });
    t.like(await outcome(1, disarmTimerCommand('window')), { state: 'disarmed' });
  },
);

serial('disarming while the timer fires: exactly one of them wins, every time', async (t) => {
  // The disarm lands at different moments around the due time (an OpenSSH login takes a few hundred
  // ms here); whoever claims first decides.
  const seen = new Set<string>();
  for (const [round, offsetMs] of [0, 200, 350, 500, 600, 700, 850].entries()) {
    const id = `race${round}`;
    await remote(1, armTimerCommand({ id, delaySeconds: 1, script: recordingScript(id) }));
    await sleep(offsetMs);
    const result = await outcome(1, disarmTimerCommand(id));
    seen.add(result.state);
    await sleep(1200);
    const runs = await runsOf(1, id);
    if (result.state === 'fired') t.is(runs.length, 1, `${id}: fired once`);
    else t.deepEqual([result.state, runs], ['disarmed', []], `${id}: disarmed and never ran`);
    if (result.state === 'fired') await remote(1, forgetTimerCommand(id));
  }
  t.log(`outcomes seen: ${[...seen].join(', ')}`);
  t.deepEqual(
    (await timersOn(1)).filter((timer) => timer.id.startsWith('race')),
    [],
  );
});

serial('fire-now and disarm sent together: the script runs at most once and every caller agrees', async (t) => {
  for (let round = 0; round < 8; round++) {
    const id = `both${round}`;
    await remote(1, armTimerCommand({ id, delaySeconds: 60, script: recordingScript(id) }));
    const commands = [fireTimerNowCommand(id), disarmTimerCommand(id), fireTimerNowCommand(id), disarmTimerCommand(id)];
    const outcomes = await Promise.all((round % 2 ? commands.reverse() : commands).map((command) => outcome(1, command)));
    const states = outcomes.map((o) => o.state);
    const runs = await runsOf(1, id);
    if (runs.length === 1) t.deepEqual(states, ['fired', 'fired', 'fired', 'fired'], id);
    else {
      t.deepEqual(runs, [], id);
      t.true(states.includes('disarmed') && states.every((s) => s === 'disarmed' || s === 'absent'), `${id}: ${states.join(',')}`);
    }
    if (runs.length === 1) await remote(1, forgetTimerCommand(id));
    t.deepEqual(timerPids(1), [], `${id}: no timer process left`);
  }
  t.deepEqual(
    (await timersOn(1)).filter((timer) => timer.id.startsWith('both')),
    [],
  );
});

serial('the timer directory is refused when it is a symlink', async (t) => {
  const lab = the();
  await lab.exec(2, ['sh', '-c', 'rm -rf /var/lib/casfleet && mkdir -p /root/elsewhere && ln -s /root/elsewhere /var/lib/casfleet']);
  try {
    const armed = await lab.ssh(2, armTimerCommand({ id: 'sym', delaySeconds: 60, script: 'true' }).script);
    t.is(armed.code, 3);
    t.regex(armed.stderr, /\/var\/lib\/casfleet is a symlink; refusing to use it/);
    const fact = await lab.ssh(2, hostTimers.script);
    t.regex(fact.stderr, /symlink; refusing/);
  } finally {
    await lab.exec(2, ['rm', '-f', '/var/lib/casfleet']);
  }
});

(unavailable ? test.skip : test)('lab down kills timer processes left in its hosts', async (t) => {
  const own = await startLab({ hosts: 1, prefix: 'tmrd' });
  try {
    const armed = await own.ssh(1, armTimerCommand({ id: 'left', delaySeconds: 600, script: 'true' }).script);
    t.is(armed.code, 0, armed.stderr);
    const pids = timerProcessesIn([own.host(1).netns]);
    t.true(pids.length > 0);
    const report = await stopLab(own);
    for (const pid of pids) t.false(isProcessAlive(pid), `timer process ${pid} still runs`);
    t.true(pids.every((pid) => report?.killed.includes(pid)));
    t.false((await listNetns()).some((name) => name.startsWith(`cfl-${own.name}-`)));
  } finally {
    await stopLab(own);
  }
});
