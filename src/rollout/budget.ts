// Failure budgets, judged from counts alone. After a stage (evaluateStage) and while it runs
// (isOverBudget: the runner asks after each host finishes, and starts no new host once it is true;
// hosts in flight finish). A budget halts when failures EXCEED it, never when they equal it
// (Ansible's max_fail_percentage rule).
//
// Counting is the caller's job: an unreachable host counts as failed, and so does a host that fails
// its gate after the stage. `failedSoFar` is the whole run's count INCLUDING this stage's failures.
//
// `continueOnBatchFailure` lets batches run past their own budget (only the fleet budget halts), but
// not the canary: a canary over its budget always halts, because going on to the fleet after a failed
// canary (e.g. with --yes, where nobody reads the approval question) is what a canary exists to stop.

import { formatCount } from './count.ts';
import type { RolloutPlan, Stage } from './plan-rollout.ts';

export interface StageCounts {
  readonly stage: Stage;
  /** Failed or unreachable hosts of this stage so far. */
  readonly failedInStage: number;
  /** Failed or unreachable hosts of the whole run so far, this stage included. */
  readonly failedSoFar: number;
  readonly plan: RolloutPlan;
}

export interface BudgetVerdict {
  readonly halt: boolean;
  /** Why the rollout halts: `batch 2/4: 1 failed, budget 0 (--max-fail 0)`. */
  readonly reason?: string;
  /** A stage over its budget that does not halt (--continue-on-batch-failure). */
  readonly warning?: string;
}

const hosts = (count: number) => `${count} host${count === 1 ? '' : 's'}`;

const stageRule = (plan: RolloutPlan, stage: Stage): string => {
  const setting = plan.maxFailSetting;
  if (!setting) return 'default --max-fail 0';
  return `--max-fail ${formatCount(setting)}${setting.kind === 'percent' ? ` of ${hosts(stage.hosts.length)}` : ''}`;
};

const fleetRule = (plan: RolloutPlan): string => {
  const setting = plan.fleetMaxFailSetting;
  if (!setting) return '';
  return ` (--fleet-max-fail ${formatCount(setting)}${setting.kind === 'percent' ? ` of ${hosts(plan.total)}` : ''})`;
};

/** Whether the rollout halts after (or, with running counts, during) a stage, and why. */
export const evaluateStage = ({ stage, failedInStage, failedSoFar, plan }: StageCounts): BudgetVerdict => {
  const reasons: string[] = [];
  let warning: string | undefined;
  if (failedInStage > stage.maxFail) {
    const text = `${stage.label}: ${failedInStage} failed, budget ${stage.maxFail} (${stageRule(plan, stage)})`;
    if (plan.continueOnBatchFailure && stage.kind !== 'canary') warning = `${text}; continuing (--continue-on-batch-failure)`;
    else reasons.push(text);
  }
  if (failedSoFar > plan.fleetMaxFail) {
    reasons.push(`${failedSoFar} failed across the run, fleet budget ${plan.fleetMaxFail}${fleetRule(plan)}`);
  }
  return {
    halt: reasons.length > 0,
    ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
    ...(warning ? { warning } : {}),
  };
};

/** True once no new host should start: the stage or the fleet is over a budget that halts. */
export const isOverBudget = (counts: StageCounts): boolean => evaluateStage(counts).halt;
