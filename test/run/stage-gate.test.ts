import test from 'ava';
import type { PortProbeResult } from '../../src/net/probe.ts';
import { describeProbe, exposureProblems } from '../../src/run/stage-gate.ts';

const seen = (states: Record<number, PortProbeResult['state']>): PortProbeResult[] =>
  Object.entries(states).map(([port, state]) => ({ address: '192.0.2.10', port: Number(port), state }));

const EXPOSURE = { reachable: [22, 7742], blocked: [7741, 7777] };

test('ports that must answer and ports that must be filtered are both checked', (t) => {
  t.deepEqual(exposureProblems(EXPOSURE, seen({ 22: 'open', 7742: 'closed', 7741: 'filtered', 7777: 'filtered' })), []);
  t.deepEqual(exposureProblems(EXPOSURE, seen({ 22: 'filtered', 7742: 'open', 7741: 'open', 7777: 'filtered' })), [
    'port 22 does not answer from here (expected reachable)',
    'port 7741 is open from here (expected filtered)',
  ]);
});

const WINDOW = {
  rule: 'allow 7741/tcp (gate pairing window until 2026-11-30T15:05:12Z)',
  ports: [[7741, 7741]] as const,
  until: 1796050512,
};

test('a port an open pairing window holds is not exposed while the window lasts; others still are', (t) => {
  const window = WINDOW;
  t.deepEqual(exposureProblems(EXPOSURE, seen({ 22: 'open', 7742: 'open', 7741: 'open', 7777: 'open' }), [window]), [
    'port 7777 is open from here (expected filtered)',
  ]);
});

test('the probe line states what the probe saw: answered, filtered, refused and proven by the login', (t) => {
  t.is(
    describeProbe(EXPOSURE, seen({ 7742: 'closed', 7741: 'filtered', 7777: 'filtered' }), [22], []),
    "answer: 22, 7742 (refused) (22: this run's SSH login); filtered: 7741, 7777",
  );
  t.is(
    describeProbe(EXPOSURE, seen({ 22: 'open', 7742: 'open', 7741: 'filtered', 7777: 'filtered' }), [], []),
    'answer: 22, 7742; filtered: 7741, 7777',
  );
});

test('a port open because of a pairing window is said to be, with the window, not listed as filtered', (t) => {
  t.is(
    describeProbe(EXPOSURE, seen({ 7742: 'open', 7741: 'open', 7777: 'filtered' }), [22], [WINDOW]),
    "answer: 22, 7742 (22: this run's SSH login); filtered: 7777; open while a window lasts: 7741 (allow 7741/tcp (gate pairing window until 2026-11-30T15:05:12Z), closed by its on-host timer)",
  );
});
