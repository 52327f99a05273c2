import test from 'ava';
import { errorInfo } from '../../src/report/error-info.ts';
import type { RunEvent } from '../../src/report/events.ts';
import { PLAIN } from '../../src/report/format-event.ts';
import { createPairingCollector, formatPairing, pairingJsonLines } from '../../src/report/pairing-report.ts';

const STEP = 'pairing window (7741/tcp)';
const step = (host: string, over: Partial<Extract<RunEvent, { type: 'step' }>>): RunEvent => ({
  type: 'step',
  host,
  step: STEP,
  kind: 'step',
  status: 'ok',
  changes: [],
  check: false,
  durationMs: 3,
  ...over,
});

const OPEN = { window: 'open', until: '2026-11-30T15:15:00Z', remainingSeconds: 899, closing: 'timer' };

const events: RunEvent[] = [
  { type: 'run-start', playbook: 'pair', hosts: ['cas-001', 'cas-002', 'cas-003', 'cas-004', 'cas-005'], check: false },
  step('cas-002', {
    reason: 'nothing to open: 7741 is reachable from the hardware VPN (10.8.0.0/24): scenario B',
    state: { window: 'scenario-b' },
  }),
  step('cas-001', { status: 'changed', changes: ['+ timer ufw-window-7741-1796051700: …', '~ allow 7741/tcp (…)'], state: OPEN }),
  { type: 'unreachable', host: 'cas-003', error: errorInfo('connect', 'connection refused') },
  step('cas-004', {
    status: 'failed',
    error: errorInfo(
      'plan',
      'no casfleet-managed rule for 7741/tcp on this host: apply scenario-a first (nothing was changed on this host)',
    ),
  }),
  step('cas-005', { step: 'gather facts', status: 'failed', error: errorInfo('fact', 'fact host.timers: its script exited 3') }),
  step('cas-005', { status: 'skipped', reason: 'facts could not be gathered' }),
];

const collect = () => {
  const collector = createPairingCollector(STEP);
  for (const event of events) collector.emit(event);
  return collector.results(['cas-001', 'cas-002', 'cas-003', 'cas-004', 'cas-005']);
};

test('one line per host in inventory order: opened until T, nothing to open, unreachable, failed: why', (t) => {
  t.is(
    formatPairing('open', collect(), PLAIN, false),
    [
      'cas-001  opened until 2026-11-30T15:15:00Z (14m59s left)',
      'cas-002  nothing to open: 7741 is reachable from the hardware VPN (10.8.0.0/24): scenario B',
      'cas-003  unreachable: connection refused',
      'cas-004  failed: no casfleet-managed rule for 7741/tcp on this host: apply scenario-a first (nothing was changed on this host)',
      'cas-005  failed: fact host.timers: its script exited 3',
      '',
      '5 hosts: 1 opened, 1 unchanged, 1 unreachable, 2 failed',
      '',
    ].join('\n'),
  );
});

test('-v lists the changes under each host', (t) => {
  const text = formatPairing('open', collect().slice(0, 1), PLAIN, true);
  t.true(
    text.startsWith(
      'cas-001  opened until 2026-11-30T15:15:00Z (14m59s left)\n    + timer ufw-window-7741-1796051700: …\n    ~ allow 7741/tcp (…)\n',
    ),
    text,
  );
});

test('--json: one object per host with the window as data', (t) => {
  const lines = pairingJsonLines('open', collect())
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  t.deepEqual(lines[0], {
    type: 'pairing',
    host: 'cas-001',
    action: 'open',
    outcome: 'opened',
    ...OPEN,
    changes: ['+ timer ufw-window-7741-1796051700: …', '~ allow 7741/tcp (…)'],
  });
  t.like(lines[1], { host: 'cas-002', outcome: 'unchanged', window: 'scenario-b' });
  t.like(lines[2], { host: 'cas-003', outcome: 'unreachable', error: { kind: 'connect', message: 'connection refused' } });
  t.like(lines[4], { host: 'cas-005', outcome: 'failed', error: { kind: 'fact', message: 'fact host.timers: its script exited 3' } });
});

test('a close that changed the host reads "closed"', (t) => {
  const collector = createPairingCollector(STEP);
  collector.emit(
    step('cas-001', { status: 'changed', changes: ['~ deny 7741/tcp (gate pairing closed) (was: …)'], state: { window: 'closed' } }),
  );
  t.is(formatPairing('close', collector.results(['cas-001']), PLAIN, false), 'cas-001  closed\n\n1 host: 1 closed\n');
});

test('--status counts windows, not outcomes', (t) => {
  const collector = createPairingCollector(STEP);
  collector.emit(
    step('cas-001', { reason: 'pairing window open until 2026-11-30T15:15:00Z (14m59s left; an on-host timer closes it)', state: OPEN }),
  );
  collector.emit(step('cas-002', { reason: 'pairing window closed', state: { window: 'closed' } }));
  collector.emit(step('cas-003', { reason: 'pairing window closed', state: { window: 'closed' } }));
  t.regex(formatPairing('status', collector.results(['cas-001', 'cas-002', 'cas-003']), PLAIN, false), /\n3 hosts: 1 open, 2 closed\n$/);
});
