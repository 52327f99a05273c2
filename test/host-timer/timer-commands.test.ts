// The on-host timer's scripts and parsers without a host: ids are checked before any script is
// built, every script is valid sh, and what the scripts print parses back (samples as printed on
// lab hosts). The lab test (test/lab/host-timer.test.ts) runs the same scripts for real.
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { PlaybookError } from '../../src/errors.ts';
import { hostTimers, parseHostTimers } from '../../src/host-timer/host-timers.ts';
import {
  armTimerCommand,
  disarmTimerCommand,
  fireTimerNowCommand,
  forgetTimerCommand,
  TIMER_PROCESS_TAG,
} from '../../src/host-timer/timer-commands.ts';
import { parseTimerOutcome } from '../../src/host-timer/timer-outcome.ts';

const syntaxError = (script: string): string => {
  const result = spawnSync('/bin/sh', ['-n', '-c', script], { encoding: 'utf8' });
  return result.status === 0 ? '' : result.stderr;
};

test('every timer script is valid POSIX sh', (t) => {
  const script = 'echo \'quoted\' "$x"\ncp /a /b';
  for (const command of [
    armTimerCommand({ id: 'txn-1', delaySeconds: 120, script }),
    disarmTimerCommand('txn-1'),
    fireTimerNowCommand('txn-1', 5),
    forgetTimerCommand('txn-1'),
    { script: hostTimers.script },
  ]) {
    t.is(syntaxError(command.script), '');
  }
});

test("ids that could reach another timer's files, and bad delays, are refused before any script is built", (t) => {
  for (const id of ['a.b', 'A', '', '-x', 'a/b', 'x'.repeat(65)]) {
    t.throws(() => disarmTimerCommand(id), { instanceOf: PlaybookError }, id);
  }
  t.throws(() => armTimerCommand({ id: 'ok', delaySeconds: 0, script: 'true' }), { instanceOf: PlaybookError });
  t.throws(() => armTimerCommand({ id: 'ok', delaySeconds: 1.5, script: 'true' }), { instanceOf: PlaybookError });
});

test('the armed process names the timer in its command line, and the payload travels quoted', (t) => {
  const { script } = armTimerCommand({ id: 'pair-7741', delaySeconds: 900, script: "ufw delete allow 7741/tcp; echo 'closed'" });
  t.true(script.includes(`${TIMER_PROCESS_TAG} "$id" "$d" 900`));
  t.true(script.includes(`'ufw delete allow 7741/tcp; echo '\\''closed'\\'''`));
  t.true(script.includes('--on-active=900s'));
});

test('outcomes parse, a fired one with its result and log', (t) => {
  t.deepEqual(parseTimerOutcome('timer txn-1 disarmed\nend\n'), { id: 'txn-1', state: 'disarmed' });
  t.deepEqual(parseTimerOutcome('timer txn-1 absent\nend\n'), { id: 'txn-1', state: 'absent' });
  t.deepEqual(parseTimerOutcome('timer txn-1 firing\nend\n'), { id: 'txn-1', state: 'firing' });
  t.deepEqual(
    parseTimerOutcome('timer txn-1 fired\nexit 2\nstarted 1796050473\nended 1796050475\n| restored /etc/ufw/user.rules\n| \nend\n'),
    {
      id: 'txn-1',
      state: 'fired',
      result: { exitCode: 2, startedAt: 1796050473, endedAt: 1796050475, log: ['restored /etc/ufw/user.rules', ''] },
    },
  );
});

test('outcomes that are cut short or unknown are errors, not guesses', (t) => {
  t.throws(() => parseTimerOutcome('timer txn-1 disarmed\n'), { message: /end/ });
  t.throws(() => parseTimerOutcome('timer txn-1 gone\nend\n'), { message: /expected "timer <id>/ });
  t.throws(() => parseTimerOutcome('timer txn-1 fired\nexit 0\nend\n'), { message: /no "started" line/ });
  t.throws(() => parseTimerOutcome('timer txn-1 disarmed\nexit 0\nend\n'), { message: /unexpected output/ });
});

// As printed on a lab host: one armed timer, one fired (with its log), one whose process is gone.
const LISTING = `timer pair-7741
  due 1796050900
  armed 1796050000
  mechanism process
  claim none
  alive yes
timer txn-1
  due 1796050473
  armed 1796050468
  mechanism process
  claim fire
  alive no
  exit 0
  started 1796050473
  ended 1796050474
  | restored /batm/config/gate.properties
timer txn-2
  due 1796050473
  armed 1796050468
  mechanism systemd
  claim none
  alive no
end
`;

test('the timers fact tells armed, fired and lost timers apart', (t) => {
  t.deepEqual(parseHostTimers(LISTING), [
    { id: 'pair-7741', due: 1796050900, armedAt: 1796050000, mechanism: 'process', state: 'armed' },
    {
      id: 'txn-1',
      due: 1796050473,
      armedAt: 1796050468,
      mechanism: 'process',
      state: 'fired',
      result: { exitCode: 0, startedAt: 1796050473, endedAt: 1796050474, log: ['restored /batm/config/gate.properties'] },
    },
    { id: 'txn-2', due: 1796050473, armedAt: 1796050468, mechanism: 'systemd', state: 'lost' },
  ]);
  t.deepEqual(parseHostTimers('end\n'), []);
  t.like(parseHostTimers(LISTING.replace('claim fire', 'claim disarm').replace(/ {2}exit[\s\S]*?gate.properties\n/, ''))[1], {
    state: 'disarming',
  });
  t.like(parseHostTimers(LISTING.replace(/ {2}exit[\s\S]*?gate.properties\n/, ''))[1], { state: 'firing' });
});

test('a timers listing with a broken record is an error', (t) => {
  t.throws(() => parseHostTimers('  due 1\nend\n'), { message: /unexpected line/ });
  t.throws(() => parseHostTimers(LISTING.replace('mechanism systemd', 'mechanism cron')), { message: /unknown mechanism "cron"/ });
  t.throws(() => parseHostTimers(LISTING.replace('due 1796050900', 'due soon')), { message: /expected "due <epoch seconds>"/ });
});
