import test from 'ava';
import { errorInfo, errorInfoSchema, internalError } from '../../src/report/error-info.ts';
import { emptyCounts, type HostCounts, type RunEvent } from '../../src/report/events.ts';
import { formatStepEvent, PLAIN } from '../../src/report/format-event.ts';
import { createJsonReporter } from '../../src/report/json-reporter.ts';
import { createLineReporter } from '../../src/report/line-reporter.ts';
import { formatRecap } from '../../src/report/recap.ts';
import { diffLines } from '../../src/report/text-diff.ts';

const counts = (over: Partial<HostCounts> = {}): HostCounts => ({ ...emptyCounts(), ...over });

const events: RunEvent[] = [
  { type: 'run-start', playbook: 'scenario-a', hosts: ['cas-001', 'cas-002'], check: false },
  { type: 'host-stage', host: 'cas-001', stage: 'applying' },
  {
    type: 'step',
    host: 'cas-001',
    step: 'firewall (ufw)',
    kind: 'step',
    status: 'changed',
    changes: ['+ allow 22/tcp'],
    check: false,
    durationMs: 5,
  },
  { type: 'unreachable', host: 'cas-002', error: errorInfo('connect', 'connection refused') },
  { type: 'recap', hosts: { 'cas-001': counts({ ok: 1, changed: 1 }), 'cas-002': counts({ unreachable: 1 }) } },
];

test('--json prints one line per step result and unreachable host, and the recap last', async (t) => {
  let out = '';
  const reporter = createJsonReporter((text) => (out += text));
  for (const event of events) reporter.emit(event);
  await reporter.finish();
  const lines = out
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string });
  t.deepEqual(
    lines.map((line) => line.type),
    ['step', 'unreachable', 'recap'],
  );
  t.deepEqual(lines.at(-1), {
    type: 'recap',
    hosts: { 'cas-001': counts({ ok: 1, changed: 1 }), 'cas-002': counts({ unreachable: 1 }) },
  });
  t.deepEqual((lines[1] as unknown as { error: unknown }).error, { kind: 'connect', message: 'connection refused' });
});

const bug = internalError(new TypeError("Cannot read properties of undefined (reading 'rules')"), "the planner of 'firewall'");
const failed: RunEvent = {
  type: 'step',
  host: 'cas-001',
  step: 'firewall',
  kind: 'step',
  status: 'failed',
  changes: [],
  error: bug,
  check: false,
  durationMs: 1,
};

test('--json failure events carry error { kind, message } from the one schema, a bug with its stack', async (t) => {
  let out = '';
  const reporter = createJsonReporter((text) => (out += text));
  reporter.emit(failed);
  reporter.emit({ ...failed, error: errorInfo('plan', 'no SSH allow rule') });
  const [internal, refusal] = out
    .trimEnd()
    .split('\n')
    .map((line) => (JSON.parse(line) as { error: unknown }).error);
  t.deepEqual(errorInfoSchema.strict().parse(refusal), { kind: 'plan', message: 'no SSH allow rule' });
  const parsed = errorInfoSchema.strict().parse(internal);
  t.is(parsed.kind, 'internal');
  t.regex(parsed.message, /^internal error in the planner of 'firewall': TypeError: Cannot read properties .*not a refusal/);
  t.regex(parsed.stack ?? '', /^TypeError: [^\n]+\n\s+at /);
});

test("text output names the kind of an error and prints a bug's stack only with -v", (t) => {
  const quiet = formatStepEvent(failed, PLAIN);
  t.true(
    quiet.some((line) => line.startsWith('    error [internal]: internal error in the planner')),
    quiet.join('\n'),
  );
  t.false(quiet.some((line) => /^\s+at /.test(line)));
  t.true(formatStepEvent(failed, PLAIN, true).some((line) => /^\s+at /.test(line)));
});

test("--json prints each host's end with its duration, and no progress events", async (t) => {
  let out = '';
  const reporter = createJsonReporter((text) => (out += text));
  reporter.emit({ type: 'host-stage', host: 'cas-001', stage: 'changing' });
  reporter.emit({ type: 'host-end', host: 'cas-001', counts: counts({ changed: 1 }), durationMs: 1234 });
  await reporter.finish();
  t.deepEqual(JSON.parse(out), { type: 'host-end', host: 'cas-001', counts: counts({ changed: 1 }), durationMs: 1234 });
});

test('line output names the host and step, lists the changes, and ends with the recap', async (t) => {
  let out = '';
  const reporter = createLineReporter((text) => (out += text), { style: PLAIN, verbose: false });
  for (const event of events) reporter.emit(event);
  t.true(out.includes('PLAY [scenario-a] on 2 hosts'));
  t.true(out.includes('changed: [cas-001] firewall (ufw)\n    + allow 22/tcp'));
  t.true(out.includes('unreachable: [cas-002] connect: connection refused'));
  t.regex(out, /cas-002 : ok=0 +changed=0 +unreachable=1 +failed=0 +skipped=0 +untouched=0/);
});

test('the recap totals hosts and counters', (t) => {
  const lines = formatRecap({ a: counts({ ok: 3, changed: 1 }), b: counts({ ok: 2, failed: 1, skipped: 1 }) }, PLAIN);
  t.is(
    lines.at(-1),
    'TOTAL 2 hosts: 1 changed, 1 failed or unreachable · ok=5 changed=1 unreachable=0 failed=1 skipped=1 untouched=0 rolled_back=0',
  );
});

test('a rolled-back host has its own column and its own count in the totals', (t) => {
  const lines = formatRecap({ a: counts({ ok: 3, changed: 1 }), b: counts({ ok: 2, changed: 1, failed: 1, rolledBack: 1 }) }, PLAIN);
  t.regex(lines.find((line) => line.startsWith('b '))!, /failed=1 +skipped=0 +untouched=0 +rolled_back=1$/);
  t.is(
    lines.at(-1),
    'TOTAL 2 hosts: 1 changed, 0 failed or unreachable, 1 rolled back · ok=5 changed=2 unreachable=0 failed=1 skipped=0 untouched=0 rolled_back=1',
  );
  const large = Object.fromEntries(
    Array.from({ length: 30 }, (_, i) => [
      `cas-${String(i + 1).padStart(3, '0')}`,
      i === 4 ? counts({ rolledBack: 1 }) : counts({ ok: 1 }),
    ]),
  );
  t.true(formatRecap(large, PLAIN).some((line) => /^rolled back +1 host +cas-005$/.test(line)));
});

test('the line diff keeps common lines and marks removals and additions', (t) => {
  t.deepEqual(diffLines('a\nb\nc\n', 'a\nc\nd\n'), ['  a', '- b', '  c', '+ d']);
  t.deepEqual(diffLines('', 'x'), ['+ x']);
});

test('a large fleet recap fits one screen: failing hosts listed, the rest summarized by outcome', (t) => {
  const recap: Record<string, HostCounts> = {};
  for (let i = 1; i <= 200; i += 1) {
    const name = `cas-${String(i).padStart(3, '0')}`;
    recap[name] = i === 7 ? counts({ unreachable: 1 }) : i > 150 ? counts({ untouched: 1 }) : counts({ ok: 3, changed: 1 });
  }
  const lines = formatRecap(recap, PLAIN);
  t.true(lines.length < 15, lines.join('\n'));
  t.true(lines.some((line) => line.startsWith('cas-007 : ok=0')));
  t.true(lines.some((line) => /^untouched +50 hosts +cas-151…cas-200$/.test(line)));
  t.true(lines.some((line) => /^changed +149 hosts +cas-001…cas-006, cas-008…cas-150$/.test(line)));
  t.is(formatRecap(recap, PLAIN, { all: true }).length, 200 + 4);
});
