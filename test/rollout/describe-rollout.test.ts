import test from 'ava';
import {
  type ApprovalNumbers,
  approvalQuestion,
  approvalQuestionAfter,
  describeBudgets,
  describeRollout,
} from '../../src/rollout/describe-rollout.ts';
import { planRollout, type RolloutPlan } from '../../src/rollout/plan-rollout.ts';
import { mergeRolloutPolicy, type RolloutFlags } from '../../src/rollout/rollout-policy.ts';

const fleet = (count: number): string[] => Array.from({ length: count }, (_, index) => `cas-${String(index + 1).padStart(3, '0')}`);
const planFor = (hostCount: number, flags: RolloutFlags): RolloutPlan =>
  planRollout({
    hosts: fleet(hostCount),
    policy: mergeRolloutPolicy(undefined, flags),
    resolveCanaryPattern: () => ['cas-001', 'cas-002'],
  });

const describes = test.macro({
  exec(t, hostCount: number, flags: RolloutFlags, expected: string) {
    t.is(describeRollout(planFor(hostCount, flags)), expected);
  },
  title: (title, hostCount: number, flags: RolloutFlags, expected: string) =>
    `${title}: ${JSON.stringify(flags)} over ${hostCount} hosts reads '${expected}'`,
});

test(
  'A canary then growing batches, repeated sizes collapsed',
  describes,
  50,
  { canary: 'canary', batches: '1,5,20%' },
  'canary: 2 hosts, then 48 hosts in 7 batches (1, 5, 10 × 4, 2)',
);
test('Batches without a canary', describes, 10, { batches: '1,5,20%' }, '10 hosts in 4 batches (1, 5, 2 × 2)');
test('A canary then the rest in one batch', describes, 50, { canary: '2' }, 'canary: 2 hosts, then 48 hosts in 1 batch');
test('A canary of the whole selection', describes, 2, { canary: '5' }, 'canary: 2 hosts (the whole selection)');
test('No rollout', describes, 50, {}, '50 hosts in one stage');
test('No rollout on one host', describes, 1, {}, '1 host in one stage');

const budgets = test.macro({
  exec(t, hostCount: number, flags: RolloutFlags, expected: string) {
    t.is(describeBudgets(planFor(hostCount, flags)), expected);
  },
  title: (title, _hosts: number, flags: RolloutFlags, expected: string) => `${title}: ${JSON.stringify(flags)} reads '${expected}'`,
});

test('The default budget of a staged rollout', budgets, 10, { batches: '5' }, 'halt when a stage has more than 0 failed hosts');
test(
  'A percentage budget, a fleet budget and a soak',
  budgets,
  50,
  { batches: '10', maxFail: '20%', fleetMaxFail: '5%', soak: '5m' },
  'halt when a stage has more than 20% failed hosts, or when the run has more than 2 failed hosts; soak 5m after each stage',
);
test(
  'Batches that go on past their budget',
  budgets,
  10,
  { canary: '1', continueOnBatchFailure: true, fleetMaxFail: '1' },
  'halt when the canary has more than 0 failed hosts (batches go on past theirs), or when the run has more than 1 failed host',
);
test('Only a fleet budget', budgets, 10, { fleetMaxFail: '3' }, 'halt when the run has more than 3 failed hosts');
test('No budget at all', budgets, 10, {}, 'no failure budget: every host runs');

const asks = test.macro({
  exec(t, numbers: ApprovalNumbers, expected: string) {
    t.is(approvalQuestion(numbers), expected);
  },
  title: (title, _numbers: ApprovalNumbers, expected: string) => `${title}: '${expected}'`,
});

test(
  'The question after a good canary',
  asks,
  { label: 'canary', passed: 2, total: 2, remainingHosts: 48, remainingStages: 4 },
  'canary ok on 2/2 hosts: continue with 48 hosts in 4 batches? [y/N]',
);
test(
  'The question after a canary within its budget',
  asks,
  { label: 'canary', passed: 9, total: 10, remainingHosts: 90, remainingStages: 3 },
  'canary ok on 9/10 hosts: continue with 90 hosts in 3 batches? [y/N]',
);
test(
  'The question in the singular',
  asks,
  { label: 'canary', passed: 1, total: 1, remainingHosts: 1, remainingStages: 1 },
  'canary ok on 1/1 host: continue with 1 host in 1 batch? [y/N]',
);

test('The question after a stage of a plan counts what is left of the plan', (t) => {
  const plan = planFor(50, { canary: 'canary', batches: '1,5,20%' });
  t.is(approvalQuestionAfter(plan, 0, 2), 'canary ok on 2/2 hosts: continue with 48 hosts in 7 batches? [y/N]');
  t.is(approvalQuestionAfter(plan, 2, 5), 'batch 2/7 ok on 5/5 hosts: continue with 42 hosts in 5 batches? [y/N]');
});
