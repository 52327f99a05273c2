import test from 'ava';
import { type BudgetVerdict, evaluateStage, isOverBudget } from '../../src/rollout/budget.ts';
import { planRollout, type RolloutPlan } from '../../src/rollout/plan-rollout.ts';
import { mergeRolloutPolicy, type RolloutFlags } from '../../src/rollout/rollout-policy.ts';

const fleet = (count: number): string[] => Array.from({ length: count }, (_, index) => `cas-${String(index + 1).padStart(3, '0')}`);
const planFor = (hostCount: number, flags: RolloutFlags): RolloutPlan =>
  planRollout({ hosts: fleet(hostCount), policy: mergeRolloutPolicy(undefined, flags) });

const verdict = test.macro({
  exec(t, hostCount: number, flags: RolloutFlags, stageIndex: number, failedInStage: number, failedSoFar: number, expected: BudgetVerdict) {
    const plan = planFor(hostCount, flags);
    const counts = { stage: plan.stages[stageIndex]!, failedInStage, failedSoFar, plan };
    t.deepEqual(evaluateStage(counts), expected);
    t.is(isOverBudget(counts), expected.halt);
  },
  title: (
    title,
    _hosts: number,
    flags: RolloutFlags,
    stageIndex: number,
    failedInStage: number,
    failedSoFar: number,
    expected: BudgetVerdict,
  ) =>
    `${title}: ${JSON.stringify(flags)}, stage ${stageIndex} with ${failedInStage} failed (${failedSoFar} in the run) ${expected.halt ? 'halts' : 'goes on'}`,
});

test('Failures equal to a count budget do not halt', verdict, 10, { batches: '5', maxFail: '1' }, 0, 1, 1, { halt: false });
test('Failures over a count budget halt and say where and why', verdict, 20, { batches: '5', maxFail: '0' }, 1, 1, 1, {
  halt: true,
  reason: 'batch 2/4: 1 failed, budget 0 (--max-fail 0)',
});
test('Failures equal to a percentage budget do not halt', verdict, 10, { batches: '10', maxFail: '20%' }, 0, 2, 2, { halt: false });
test(
  'Failures over a percentage budget halt and show the percentage of the stage',
  verdict,
  10,
  { batches: '10', maxFail: '20%' },
  0,
  3,
  3,
  {
    halt: true,
    reason: 'batch 1/1: 3 failed, budget 2 (--max-fail 20% of 10 hosts)',
  },
);
test('Half of three hosts allows one failure', verdict, 3, { batches: '3', maxFail: '50%' }, 0, 1, 1, { halt: false });
test('Half of three hosts halts at two failures', verdict, 3, { batches: '3', maxFail: '50%' }, 0, 2, 2, {
  halt: true,
  reason: 'batch 1/1: 2 failed, budget 1 (--max-fail 50% of 3 hosts)',
});
test('A staged rollout without --max-fail halts at the first failure', verdict, 10, { canary: '2', batches: '4' }, 0, 1, 1, {
  halt: true,
  reason: 'canary: 1 failed, budget 0 (default --max-fail 0)',
});
test('A stage with no failures goes on', verdict, 10, { canary: '2', batches: '4' }, 1, 0, 0, { halt: false });
test('A run without a policy never halts', verdict, 10, {}, 0, 10, 10, { halt: false });
test('Failures equal to the fleet budget do not halt', verdict, 50, { batches: '10', maxFail: '100%', fleetMaxFail: '2' }, 2, 1, 2, {
  halt: false,
});
test(
  'Failures over the fleet budget halt even when the stage is within its own',
  verdict,
  50,
  { batches: '10', maxFail: '100%', fleetMaxFail: '2' },
  2,
  1,
  3,
  {
    halt: true,
    reason: '3 failed across the run, fleet budget 2 (--fleet-max-fail 2)',
  },
);
test('A fleet percentage is of the whole selection', verdict, 50, { batches: '10', maxFail: '100%', fleetMaxFail: '5%' }, 3, 2, 3, {
  halt: true,
  reason: '3 failed across the run, fleet budget 2 (--fleet-max-fail 5% of 50 hosts)',
});
test('A stage over both budgets gives both reasons', verdict, 10, { batches: '5', fleetMaxFail: '0' }, 0, 1, 1, {
  halt: true,
  reason: 'batch 1/2: 1 failed, budget 0 (default --max-fail 0); 1 failed across the run, fleet budget 0 (--fleet-max-fail 0)',
});
test(
  'With --continue-on-batch-failure a batch over its budget goes on with a warning',
  verdict,
  10,
  { batches: '5', continueOnBatchFailure: true },
  0,
  2,
  2,
  {
    halt: false,
    warning: 'batch 1/2: 2 failed, budget 0 (default --max-fail 0); continuing (--continue-on-batch-failure)',
  },
);
test(
  'With --continue-on-batch-failure the fleet budget still halts',
  verdict,
  10,
  { batches: '5', fleetMaxFail: '1', continueOnBatchFailure: true },
  1,
  1,
  2,
  {
    halt: true,
    reason: '2 failed across the run, fleet budget 1 (--fleet-max-fail 1)',
    warning: 'batch 2/2: 1 failed, budget 0 (default --max-fail 0); continuing (--continue-on-batch-failure)',
  },
);
test('With --continue-on-batch-failure a failed canary still halts', verdict, 10, { canary: '2', continueOnBatchFailure: true }, 0, 1, 1, {
  halt: true,
  reason: 'canary: 1 failed, budget 0 (default --max-fail 0)',
});

test('The live check turns true with the failure that exceeds the budget, not before', (t) => {
  const plan = planFor(10, { batches: '10', maxFail: '20%' });
  const stage = plan.stages[0]!;
  const over = [0, 1, 2, 3, 4].map((failed) => isOverBudget({ stage, failedInStage: failed, failedSoFar: failed, plan }));
  t.deepEqual(over, [false, false, false, true, true]);
});
