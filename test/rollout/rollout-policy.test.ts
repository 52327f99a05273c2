import test from 'ava';
import { PlaybookError, UsageError } from '../../src/errors.ts';
import {
  mergeRolloutPolicy,
  parseBatchSizes,
  parseCanary,
  parseCount,
  parseDuration,
  parseRolloutPolicy,
  type RolloutPolicy,
  type RolloutPolicyInput,
  rolloutPolicySchema,
} from '../../src/rollout/rollout-policy.ts';

const count = (value: number) => ({ kind: 'count', value }) as const;
const percent = (value: number) => ({ kind: 'percent', value }) as const;

const parses = test.macro({
  exec(t, parse: (text: string) => unknown, text: string, expected: unknown) {
    t.deepEqual(parse(text), expected);
  },
  title: (title, _parse: unknown, text: string, expected: unknown) => `${title}: '${text}' is ${JSON.stringify(expected)}`,
});

test('Batch sizes mix counts and percentages', parses, parseBatchSizes, '1,5,20%', [count(1), count(5), percent(20)]);
test('Batch sizes may have spaces', parses, parseBatchSizes, ' 1, 5 ,20 %', [count(1), count(5), percent(20)]);
test('A single batch size is a list of one', parses, parseBatchSizes, '100%', [percent(100)]);
test('A failure budget may be 0', parses, parseCount, '0', count(0));
test('A failure budget may be a percentage', parses, parseCount, '10%', percent(10));
test('A failure budget may be 100%', parses, parseCount, '100%', percent(100));
test('A canary of digits is a number of hosts', parses, parseCanary, '2', count(2));
test('A canary with % is a percentage', parses, parseCanary, '5%', percent(5));
test('A canary of anything else is a host pattern', parses, parseCanary, 'canary', { kind: 'pattern', pattern: 'canary' });
test('A canary pattern may use the full pattern grammar', parses, parseCanary, 'eu:&canary:!cas-001', {
  kind: 'pattern',
  pattern: 'eu:&canary:!cas-001',
});
test('A canary that is an IP address is a host pattern', parses, parseCanary, '10.0.0.5', { kind: 'pattern', pattern: '10.0.0.5' });
test('A soak in seconds', parses, parseDuration, '30s', 30_000);
test('A soak in minutes', parses, parseDuration, '5m', 300_000);
test('A soak in hours', parses, parseDuration, '1h', 3_600_000);
test('A soak in several units', parses, parseDuration, '1m30s', 90_000);
test('A soak in milliseconds', parses, parseDuration, '500ms', 500);
test('A soak with a fraction', parses, parseDuration, '1.5s', 1500);
test('A soak without a unit is in seconds', parses, parseDuration, '45', 45_000);

const refuses = test.macro({
  exec(t, parse: (text: string) => unknown, text: string, message: string) {
    t.throws(() => parse(text), { instanceOf: UsageError, message });
  },
  title: (title, _parse: unknown, text: string) => `${title}: '${text}' is a usage error`,
});

test('A batch of 0 hosts', refuses, parseBatchSizes, '0', "--batches takes sizes like 1,5,20%; got '0'");
test('A batch size that is not a number', refuses, parseBatchSizes, '1,x', "--batches takes sizes like 1,5,20%; got 'x' in '1,x'");
test('An empty batch size', refuses, parseBatchSizes, '1,,5', "--batches takes sizes like 1,5,20%; got '' in '1,,5'");
test('A batch of 0%', refuses, parseBatchSizes, '0%', "--batches takes sizes like 1,5,20%; got '0%'");
test('A batch over 100%', refuses, parseBatchSizes, '1,150%', "--batches takes sizes like 1,5,20%; got '150%' in '1,150%'");
test('A batch with a fraction', refuses, parseBatchSizes, '1.5', "--batches takes sizes like 1,5,20%; got '1.5'");
test(
  'A failure budget over 100%',
  refuses,
  parseCount,
  '120%',
  "--max-fail takes a number of hosts or a percentage up to 100% like 0, 2 or 10%; got '120%'",
);
test(
  'A negative failure budget',
  refuses,
  parseCount,
  '-1',
  "--max-fail takes a number of hosts or a percentage up to 100% like 0, 2 or 10%; got '-1'",
);
test(
  'A failure budget with a fractional percentage',
  refuses,
  parseCount,
  '12.5%',
  "--max-fail takes a number of hosts or a percentage up to 100% like 0, 2 or 10%; got '12.5%'",
);
test(
  'A canary of 0 hosts',
  refuses,
  parseCanary,
  '0',
  "--canary takes a host pattern, a number of hosts or a percentage like canary, 2 or 5%; got '0'",
);
test(
  'A canary over 100%',
  refuses,
  parseCanary,
  '150%',
  "--canary takes a host pattern, a number of hosts or a percentage like canary, 2 or 5%; got '150%'",
);
test(
  'An empty canary',
  refuses,
  parseCanary,
  ' ',
  "--canary takes a host pattern, a number of hosts or a percentage like canary, 2 or 5%; got ' '",
);
test('A soak with an unknown unit', refuses, parseDuration, '5x', "--soak takes a duration like 30s, 5m or 1h; got '5x'");
test('A soak that is negative', refuses, parseDuration, '-5s', "--soak takes a duration like 30s, 5m or 1h; got '-5s'");

test('A budget error names the flag it came from', (t) => {
  t.throws(() => parseCount('x', '--fleet-max-fail'), { instanceOf: UsageError, message: /^--fleet-max-fail takes / });
});

test('A playbook declares the rollout with typed sizes and gets the typed policy back', (t) => {
  const declared = {
    canary: 'canary',
    batches: [1, 5, '20%'],
    maxFail: '10%',
    fleetMaxFail: 3,
    soak: '5m',
    continueOnBatchFailure: false,
  } satisfies RolloutPolicyInput;
  const expected: RolloutPolicy = {
    canary: { kind: 'pattern', pattern: 'canary' },
    batches: [count(1), count(5), percent(20)],
    maxFail: percent(10),
    fleetMaxFail: count(3),
    soakMs: 300_000,
    continueOnBatchFailure: false,
  };
  t.deepEqual(rolloutPolicySchema.parse(declared), expected);
});

test('A playbook may give a canary as a number, a single batch size and a soak in seconds', (t) => {
  t.deepEqual(rolloutPolicySchema.parse({ canary: 2, batches: '25%', soak: 30 }), {
    canary: count(2),
    batches: [percent(25)],
    soakMs: 30_000,
  });
});

test('An empty rollout declares nothing', (t) => {
  t.deepEqual(rolloutPolicySchema.parse({}), {});
});

test('A bad playbook rollout is a PlaybookError listing every problem at its key', (t) => {
  const error = t.throws(() => parseRolloutPolicy({ canary: 0, batches: [1, 0], maxFail: '120%', soak: '5x', maxFial: 1 }, 'scenario-a'), {
    instanceOf: PlaybookError,
  });
  t.deepEqual(error?.issues, [
    { path: 'rollout.canary', message: "expected a host pattern, a number of hosts or a percentage like 'canary', 2 or '5%'; got 0" },
    { path: 'rollout.batches', message: "expected sizes of at least 1 host like [1, 5, '20%']; got 0" },
    { path: 'rollout.maxFail', message: `expected a number of hosts or a percentage up to 100% like 0, 2 or '10%'; got "120%"` },
    { path: 'rollout.soak', message: `expected a duration like '30s', '5m' or '1h', or a number of seconds; got "5x"` },
    { path: 'rollout.maxFial', message: 'Unrecognized key: "maxFial"' },
  ]);
  t.regex(error?.message ?? '', /^invalid rollout for playbook scenario-a\n {2}rollout\.canary: /);
});

test('An empty list of batches is refused', (t) => {
  const error = t.throws(() => parseRolloutPolicy({ batches: [] }, 'scenario-a'), { instanceOf: PlaybookError });
  t.deepEqual(error?.issues, [{ path: 'rollout.batches', message: "expected sizes of at least 1 host like [1, 5, '20%']; got []" }]);
});

test('A playbook without a rollout has no policy', (t) => {
  t.is(parseRolloutPolicy(undefined, 'scenario-a'), undefined);
});

test('CLI flags win over the playbook field by field', (t) => {
  const playbook: RolloutPolicy = { canary: count(1), batches: [count(10)], maxFail: count(2), soakMs: 1000 };
  t.deepEqual(mergeRolloutPolicy(playbook, { batches: '1,5,20%', maxFail: '0', fleetMaxFail: '5%' }), {
    canary: count(1),
    batches: [count(1), count(5), percent(20)],
    maxFail: count(0),
    fleetMaxFail: percent(5),
    soakMs: 1000,
  });
});

test('Without flags the playbook policy is kept as it is', (t) => {
  const playbook: RolloutPolicy = { canary: { kind: 'pattern', pattern: 'canary' }, continueOnBatchFailure: true };
  t.deepEqual(mergeRolloutPolicy(playbook, { continueOnBatchFailure: false }), playbook);
});

test('The continue flag opts in over a playbook that did not', (t) => {
  t.deepEqual(mergeRolloutPolicy({ batches: [count(1)] }, { continueOnBatchFailure: true }), {
    batches: [count(1)],
    continueOnBatchFailure: true,
  });
});

test('Neither playbook nor flags give an empty policy', (t) => {
  t.deepEqual(mergeRolloutPolicy(undefined, {}), {});
});

test('A bad flag is a usage error even when the playbook sets the same field', (t) => {
  t.throws(() => mergeRolloutPolicy({ batches: [count(1)] }, { batches: '0' }), {
    instanceOf: UsageError,
    message: "--batches takes sizes like 1,5,20%; got '0'",
  });
});
