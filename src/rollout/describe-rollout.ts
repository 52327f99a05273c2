// The rollout plan in words: the one-line shape shown before a run, the budgets, and the question
// asked after the canary. Pure functions of the plan (or of plain numbers).

import { formatCount } from './count.ts';
import { formatDuration } from './duration.ts';
import type { RolloutPlan } from './plan-rollout.ts';

const plural = (count: number, word: string, many = `${word}s`) => `${count} ${count === 1 ? word : many}`;

/** `1, 5, 10 × 4, 2`: repeated sizes collapsed so a long rollout still fits on one line. */
const formatSizes = (sizes: readonly number[]): string => {
  const runs: Array<{ size: number; times: number }> = [];
  for (const size of sizes) {
    const last = runs.at(-1);
    if (last?.size === size) last.times += 1;
    else runs.push({ size, times: 1 });
  }
  return runs.map(({ size, times }) => (times === 1 ? String(size) : `${size} × ${times}`)).join(', ');
};

const describeBatches = (sizes: readonly number[]): string => {
  const hosts = sizes.reduce((sum, size) => sum + size, 0);
  const shape = sizes.length > 1 ? ` (${formatSizes(sizes)})` : '';
  return `${plural(hosts, 'host')} in ${plural(sizes.length, 'batch', 'batches')}${shape}`;
};

/** `canary: 2 hosts, then 48 hosts in 7 batches (1, 5, 10 × 4, 2)`. */
export const describeRollout = (plan: RolloutPlan): string => {
  const canary = plan.stages.find((stage) => stage.kind === 'canary');
  const batches = plan.stages.filter((stage) => stage.kind === 'batch').map((stage) => stage.hosts.length);
  if (plan.stages.length === 0) return 'no hosts';
  if (!canary && batches.length === 0) return `${plural(plan.total, 'host')} in one stage`;
  if (!canary) return describeBatches(batches);
  const first = `canary: ${plural(canary.hosts.length, 'host')}`;
  return batches.length === 0 ? `${first} (the whole selection)` : `${first}, then ${describeBatches(batches)}`;
};

/** `halt when a stage has more than 0 failed hosts, or when the run has more than 2 failed hosts; soak 5m after each stage`. */
export const describeBudgets = (plan: RolloutPlan): string => {
  const clauses: string[] = [];
  const limited = plan.stages.some((stage) => Number.isFinite(stage.maxFail));
  if (limited) {
    const setting = plan.maxFailSetting;
    const amount = setting?.kind === 'percent' ? `${formatCount(setting)} failed hosts` : plural(setting?.value ?? 0, 'failed host');
    const hasCanary = plan.stages.some((stage) => stage.kind === 'canary');
    if (!plan.continueOnBatchFailure) clauses.push(`halt when a stage has more than ${amount}`);
    else if (hasCanary) clauses.push(`halt when the canary has more than ${amount} (batches go on past theirs)`);
  }
  if (Number.isFinite(plan.fleetMaxFail)) {
    const fleet = `the run has more than ${plural(plan.fleetMaxFail, 'failed host')}`;
    clauses.push(clauses.length > 0 ? `or when ${fleet}` : `halt when ${fleet}`);
  }
  const budgets = clauses.length > 0 ? clauses.join(', ') : 'no failure budget: every host runs';
  return plan.soakMs > 0 ? `${budgets}; soak ${formatDuration(plan.soakMs)} after each stage` : budgets;
};

export interface ApprovalNumbers {
  /** The stage just done: `canary`. */
  readonly label: string;
  /** Its hosts that passed, out of `total`. */
  readonly passed: number;
  readonly total: number;
  readonly remainingHosts: number;
  readonly remainingStages: number;
}

/** `canary ok on 2/2 hosts: continue with 48 hosts in 4 batches? [y/N]`. */
export const approvalQuestion = ({ label, passed, total, remainingHosts, remainingStages }: ApprovalNumbers): string =>
  `${label} ok on ${passed}/${plural(total, 'host')}: continue with ${plural(remainingHosts, 'host')} in ${plural(remainingStages, 'batch', 'batches')}? [y/N]`;

/** The approval question after stage `stageIndex` of `plan`, with `passed` of its hosts ok. */
export const approvalQuestionAfter = (plan: RolloutPlan, stageIndex: number, passed: number): string => {
  const stage = plan.stages[stageIndex];
  const later = plan.stages.slice(stageIndex + 1);
  return approvalQuestion({
    label: stage?.label ?? `stage ${stageIndex}`,
    passed,
    total: stage?.hosts.length ?? 0,
    remainingHosts: later.reduce((sum, next) => sum + next.hosts.length, 0),
    remainingStages: later.length,
  });
};
