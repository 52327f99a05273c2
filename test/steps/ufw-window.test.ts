import test from 'ava';
import type { UfwFamily, UfwRule } from '../../src/facts/ufw-tuple.ts';
import { encodeUfwComment } from '../../src/facts/ufw-tuple.ts';
import type { HostTimer } from '../../src/host-timer/host-timers.ts';
import {
  closeWindowScript,
  isWindowTimerFor,
  keepArmedWindows,
  replaceInPlace,
  windowComment,
  windowTimerId,
  windowUntil,
  withAction,
} from '../../src/steps/ufw-window.ts';
import { ufwRule } from '../helpers/ufw-rule.ts';

const UNTIL = Date.parse('2026-11-30T15:05:12Z') / 1000;

const rule = (family: UfwFamily, action: UfwRule['action'], comment: string, dport = '7741'): UfwRule =>
  ufwRule(family, action, comment, { dport });

const CLOSED = 'casfleet: gate pairing closed';
const WINDOW = windowComment('gate pairing window', UNTIL);
const ANY = (): boolean => true;
const timer = (id: string, state: HostTimer['state']): HostTimer => ({ id, due: UNTIL, armedAt: UNTIL - 900, mechanism: 'process', state });

test('a window comment carries its close time, and only a managed allow with one is a window', (t) => {
  t.is(WINDOW, 'casfleet: gate pairing window until 2026-11-30T15:05:12Z');
  t.is(windowUntil(rule('v4', 'allow', WINDOW)), UNTIL);
  t.is(windowUntil(rule('v4', 'deny', WINDOW)), undefined, 'a deny is never a window');
  t.is(windowUntil(rule('v4', 'allow', 'gate pairing window until 2026-11-30T15:05:12Z')), undefined, 'not managed');
  t.is(
    windowUntil(rule('v4', 'allow', 'casfleet: gate pairing window (close after pairing)')),
    undefined,
    "scenario-a's pairing=true rule",
  );
  t.is(windowUntil(rule('v4', 'allow', 'casfleet: x until 2026-13-45T99:00:00Z')), undefined, 'not a time');
});

test('window timers are named after the port and the close time', (t) => {
  const open = rule('v4', 'allow', WINDOW);
  t.is(windowTimerId(open, UNTIL), `ufw-window-7741-${UNTIL}`);
  t.is(windowTimerId(rule('v4', 'allow', WINDOW, '13000:13010'), UNTIL), `ufw-window-13000-13010-${UNTIL}`);
  t.true(isWindowTimerFor(open, `ufw-window-7741-${UNTIL + 60}`));
  t.false(isWindowTimerFor(open, `ufw-window-77410-${UNTIL}`));
  t.false(isWindowTimerFor(open, 'txn-cas-001'));
});

test('twins ufw stores in both files are replaced with one operation, a single family with its own addresses', (t) => {
  const both = withAction({ v4: rule('v4', 'deny', CLOSED), v6: rule('v6', 'deny', CLOSED) }, 'allow', WINDOW);
  t.deepEqual(replaceInPlace(both), [['allow', 'from', 'any', 'to', 'any', 'port', '7741', 'proto', 'tcp', 'comment', WINDOW]]);
  t.deepEqual(replaceInPlace({ v4: rule('v4', 'allow', WINDOW) }), [
    ['allow', 'from', '0.0.0.0/0', 'to', '0.0.0.0/0', 'port', '7741', 'proto', 'tcp', 'comment', WINDOW],
  ]);
});

test('the closing script writes the closed rule back only where this very window is still in place', (t) => {
  const window = { v4: rule('v4', 'allow', WINDOW), v6: rule('v6', 'allow', WINDOW) };
  const closed = withAction(window, 'deny', CLOSED);
  const script = closeWindowScript(window, closed);
  const hex = encodeUfwComment(WINDOW);
  t.true(
    script.includes(
      `grep -qs -- ' comment=${hex}$' /etc/ufw/user.rules; then ufw deny from 0.0.0.0/0 to 0.0.0.0/0 port 7741 proto tcp comment 'casfleet: gate pairing closed'`,
    ),
    script,
  );
  t.true(
    script.includes(
      `grep -qs -- ' comment=${hex}$' /etc/ufw/user6.rules; then ufw deny from ::/0 to ::/0 port 7741 proto tcp comment 'casfleet: gate pairing closed'`,
    ),
    script,
  );
  t.regex(script, /exit \$rc$/);
  t.false(closeWindowScript({ v4: window.v4 }, closed).includes('user6.rules'), 'no v6 rule, no v6 command');
});

test('an armed window stands in for the closed rule it replaced; without its timer it does not', (t) => {
  const current = { v4: [rule('v4', 'allow', 'casfleet: SSH', '22'), rule('v4', 'allow', WINDOW)], v6: [rule('v6', 'allow', WINDOW)] };
  const desired = [{ v4: rule('v4', 'allow', 'casfleet: SSH', '22') }, { v4: rule('v4', 'deny', CLOSED), v6: rule('v6', 'deny', CLOSED) }];
  const id = `ufw-window-7741-${UNTIL}`;

  const armed = keepArmedWindows(current, desired, [timer(id, 'armed')], ANY);
  t.deepEqual(armed.desired[1], { v4: current.v4[1], v6: current.v6[0] });
  t.deepEqual(armed.open, [
    { rule: 'allow 7741/tcp (gate pairing window until 2026-11-30T15:05:12Z)', ports: [[7741, 7741]], until: UNTIL },
  ]);
  t.deepEqual(armed.desired[0], desired[0]);

  t.deepEqual(keepArmedWindows(current, desired, [timer(id, 'firing')], ANY).open.length, 1, 'a firing timer is closing it right now');
  for (const [why, timers] of [
    ['lost timer (host rebooted)', [timer(id, 'lost')]],
    ['fired timer', [timer(id, 'fired')]],
    ['no timer', []],
    ['the timer of another close time', [timer(`ufw-window-7741-${UNTIL + 1}`, 'armed')]],
  ] as const) {
    const kept = keepArmedWindows(current, desired, timers, ANY);
    t.deepEqual(kept.desired, desired, why);
    t.deepEqual(kept.open, [], why);
  }
});

test('only a closed rule that allows windows is held by one: any other policy closes the window', (t) => {
  const current = { v4: [rule('v4', 'allow', WINDOW)], v6: [rule('v6', 'allow', WINDOW)] };
  const desired = [
    {
      v4: rule('v4', 'deny', 'casfleet: gate/master via hardware VPN: everyone else'),
      v6: rule('v6', 'deny', 'casfleet: gate/master via hardware VPN: everyone else'),
    },
  ];
  const kept = keepArmedWindows(current, desired, [timer(`ufw-window-7741-${UNTIL}`, 'armed')], () => false);
  t.deepEqual(kept.desired, desired);
  t.deepEqual(kept.open, []);
});

test('a policy that opens the port itself replaces the window with its permanent rule', (t) => {
  const current = { v4: [rule('v4', 'allow', WINDOW)], v6: [] };
  const desired = [{ v4: rule('v4', 'allow', 'casfleet: gate pairing window (close after pairing)') }];
  const kept = keepArmedWindows(current, desired, [timer(`ufw-window-7741-${UNTIL}`, 'armed')], ANY);
  t.deepEqual(kept.desired, desired);
  t.deepEqual(kept.open, []);
});
