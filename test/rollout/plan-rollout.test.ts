import test from 'ava';
import { UsageError } from '../../src/errors.ts';
import { hostsAfter, planRollout } from '../../src/rollout/plan-rollout.ts';
import { mergeRolloutPolicy, type RolloutFlags } from '../../src/rollout/rollout-policy.ts';

/** cas-001 … cas-NNN, in inventory order. */
const fleet = (count: number): string[] => Array.from({ length: count }, (_, index) => `cas-${String(index + 1).padStart(3, '0')}`);

// The inventory's `canary` group, as selectHosts would resolve it (not in selection order on purpose).
const resolveCanaryPattern = (pattern: string): string[] => (pattern === 'canary' ? ['cas-005', 'cas-002', 'bastion'] : []);

const planFor = (hostCount: number, flags: RolloutFlags) =>
  planRollout({ hosts: fleet(hostCount), policy: mergeRolloutPolicy(undefined, flags), resolveCanaryPattern });

const stageSizes = test.macro({
  exec(t, hostCount: number, flags: RolloutFlags, expected: readonly number[]) {
    const plan = planFor(hostCount, flags);
    t.deepEqual(
      plan.stages.map((stage) => stage.hosts.length),
      expected,
    );
    // Every selected host is in exactly one stage, in selection order within each stage.
    t.deepEqual(plan.stages.flatMap((stage) => stage.hosts).sort(), fleet(hostCount));
  },
  title: (title, hostCount: number, flags: RolloutFlags, expected: readonly number[]) =>
    `${title}: ${JSON.stringify(flags)} over ${hostCount} hosts gives stages of ${expected.join(', ')} hosts`,
});

test('Batches 1,5,20% over 3 hosts never make a batch of 0 hosts', stageSizes, 3, { batches: '1,5,20%' }, [1, 2]);
test('Batches 1,5,20% over 10 hosts repeat the last size', stageSizes, 10, { batches: '1,5,20%' }, [1, 5, 2, 2]);
test(
  'Batches 1,5,20% over 101 hosts round the percentage down and end with a smaller batch',
  stageSizes,
  101,
  { batches: '1,5,20%' },
  [1, 5, 20, 20, 20, 20, 15],
);
test('A percentage below one host still makes batches of one host', stageSizes, 3, { batches: '20%' }, [1, 1, 1]);
test('A percentage is exact where Ansible rounds in floating point', stageSizes, 100, { batches: '29%' }, [29, 29, 29, 13]);
test('A batch size larger than the rest takes the rest', stageSizes, 10, { batches: '100' }, [10]);
test('Batch percentages are of the whole selection, canary included', stageSizes, 10, { canary: '2', batches: '1,5,20%' }, [2, 1, 5, 2]);
test('A canary without batches leaves the rest as one batch', stageSizes, 10, { canary: '2' }, [2, 8]);
test('A canary of N% rounds up', stageSizes, 101, { canary: '10%' }, [11, 90]);
test('A canary of a tiny percentage is still one host', stageSizes, 10, { canary: '1%' }, [1, 9]);
test('A canary of more hosts than selected takes them all', stageSizes, 3, { canary: '5' }, [3]);
test('No rollout policy gives one stage of every host', stageSizes, 5, {}, [5]);

test('A canary of N hosts takes the first N of the selection', (t) => {
  const plan = planFor(5, { canary: '2' });
  t.deepEqual(plan.stages[0], { index: 0, kind: 'canary', label: 'canary', hosts: ['cas-001', 'cas-002'], maxFail: 0 });
  t.deepEqual(plan.stages[1]?.hosts, ['cas-003', 'cas-004', 'cas-005']);
});

test('A canary pattern keeps only selected hosts, in selection order', (t) => {
  const plan = planFor(6, { canary: 'canary', batches: '2' });
  t.deepEqual(
    plan.stages.map((stage) => [stage.label, stage.hosts]),
    [
      ['canary', ['cas-002', 'cas-005']],
      ['batch 1/2', ['cas-001', 'cas-003']],
      ['batch 2/2', ['cas-004', 'cas-006']],
    ],
  );
});

test('A canary pattern that matches none of the selection is a usage error naming it', (t) => {
  const error = t.throws(
    () =>
      planRollout({ hosts: fleet(4), policy: { canary: { kind: 'pattern', pattern: 'canary' } }, resolveCanaryPattern: () => ['cas-009'] }),
    {
      instanceOf: UsageError,
    },
  );
  t.is(error?.message, "canary pattern 'canary' matches none of the 4 selected hosts");
});

test('A canary pattern without a resolver is a usage error rather than an empty canary', (t) => {
  t.throws(() => planRollout({ hosts: fleet(4), policy: { canary: { kind: 'pattern', pattern: 'canary' } } }), { instanceOf: UsageError });
});

test('Stages are numbered from 0 and batches are labelled with their position and count', (t) => {
  const plan = planFor(10, { canary: '2', batches: '1,5,20%' });
  t.deepEqual(
    plan.stages.map((stage) => `${stage.index}:${stage.kind}:${stage.label}`),
    ['0:canary:canary', '1:batch:batch 1/3', '2:batch:batch 2/3', '3:batch:batch 3/3'],
  );
});

test('Without any policy the single stage has no budget, so nothing ever halts', (t) => {
  const plan = planRollout({ hosts: fleet(3) });
  t.deepEqual(plan, {
    stages: [{ index: 0, kind: 'all', label: 'all hosts', hosts: fleet(3), maxFail: Number.POSITIVE_INFINITY }],
    total: 3,
    fleetMaxFail: Number.POSITIVE_INFINITY,
    continueOnBatchFailure: false,
    soakMs: 0,
  });
});

test('A staged rollout without --max-fail allows no failures per stage', (t) => {
  t.deepEqual(
    planFor(10, { batches: '5' }).stages.map((stage) => stage.maxFail),
    [0, 0],
  );
});

test('A budget without canary or batches applies to the single stage of every host', (t) => {
  const plan = planFor(10, { maxFail: '20%' });
  t.deepEqual(
    plan.stages.map((stage) => [stage.kind, stage.maxFail]),
    [['all', 2]],
  );
});

const stageBudget = test.macro({
  exec(t, stageSize: number, maxFail: string, expected: number) {
    const plan = planFor(stageSize, { batches: String(stageSize), maxFail });
    t.is(plan.stages[0]?.maxFail, expected);
  },
  title: (title, stageSize: number, maxFail: string, expected: number) =>
    `${title}: --max-fail ${maxFail} on a stage of ${stageSize} allows ${expected}`,
});

test('A percentage budget allows the failures that do not exceed it', stageBudget, 10, '20%', 2);
test('A percentage budget rounds down', stageBudget, 3, '50%', 1);
test('A percentage budget below one host allows none', stageBudget, 1, '99%', 0);
test('A 100% budget allows every host to fail', stageBudget, 4, '100%', 4);
test('A 0% budget allows none', stageBudget, 50, '0%', 0);
test('A count budget is taken as is', stageBudget, 10, '3', 3);

test('Percentage budgets are of each stage, so a small batch gets a small budget', (t) => {
  t.deepEqual(
    planFor(10, { batches: '1,5,20%', maxFail: '40%' }).stages.map((stage) => stage.maxFail),
    [0, 2, 0, 0],
  );
});

test('The fleet budget is of the whole selection, rounded down', (t) => {
  t.is(planFor(50, { batches: '10', fleetMaxFail: '5%' }).fleetMaxFail, 2);
  t.is(planFor(50, { batches: '10', fleetMaxFail: '3' }).fleetMaxFail, 3);
});

test('The plan keeps the soak, the continue flag and the budgets as given', (t) => {
  const plan = planFor(10, { batches: '5', maxFail: '20%', fleetMaxFail: '1', soak: '5m', continueOnBatchFailure: true });
  t.is(plan.soakMs, 300_000);
  t.true(plan.continueOnBatchFailure);
  t.deepEqual(plan.maxFailSetting, { kind: 'percent', value: 20 });
  t.deepEqual(plan.fleetMaxFailSetting, { kind: 'count', value: 1 });
});

test('An empty selection plans no stages', (t) => {
  t.deepEqual(planRollout({ hosts: [], policy: { batches: [{ kind: 'count', value: 1 }] } }).stages, []);
});

test('The hosts after a stage are the ones a halt there leaves untouched', (t) => {
  const plan = planFor(5, { canary: '1', batches: '2' });
  t.deepEqual(hostsAfter(plan, 0), ['cas-002', 'cas-003', 'cas-004', 'cas-005']);
  t.deepEqual(hostsAfter(plan, 2), []);
});
