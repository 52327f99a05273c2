// Turns a rollout policy and the selected hosts into a plan: the stages in order (the canary, then
// the batches), each with its hosts and its failure budget as a number of hosts. Pure data, decided
// before any host is contacted, so a bad canary pattern exits 1 and the plan can be shown, stored in
// the run record and resumed.
//
// Sizing follows Ansible's `serial` (executor/play_iterator + utils/helpers.pct_to_int): a percentage
// is of the whole selection (canary included), rounded down, never below 1 host; the last size of the
// list repeats; the last batch takes what is left. Budgets follow `max_fail_percentage`: a stage halts
// the rollout when its failures EXCEED the budget (failed / size > pct, so N% allows floor(N% × size)).
//
// Defaults: a policy with a canary or batches is a staged rollout, and a stage without `maxFail` may
// have 0 failures — the point of staging is to stop at the first sign of trouble. Without a canary and
// batches there is one stage of every host and, unless `maxFail` says otherwise, no budget at all
// (Infinity), which is exactly a plain run: halting without a budget never happens.

import { UsageError } from '../errors.ts';
import { type Count, hostsFor } from './count.ts';
import type { RolloutPolicy } from './rollout-policy.ts';

export interface Stage {
  /** Position in `plan.stages`, from 0. */
  readonly index: number;
  /** `all`: the single stage of a run without canary or batches. */
  readonly kind: 'canary' | 'batch' | 'all';
  /** `canary`, `batch 2/4`, `all hosts`. */
  readonly label: string;
  /** In selection (inventory) order. */
  readonly hosts: readonly string[];
  /** Failures this stage may have; one more halts the rollout. Infinity: no budget (JSON: null). */
  readonly maxFail: number;
}

export interface RolloutPlan {
  readonly stages: readonly Stage[];
  /** Hosts in the selection (what percentages are of). */
  readonly total: number;
  /** Failures the whole run may have; one more halts it. Infinity: no fleet budget (JSON: null). */
  readonly fleetMaxFail: number;
  /** A batch over its budget does not halt; the canary still does, and so does the fleet budget. */
  readonly continueOnBatchFailure: boolean;
  /** Wait after each stage (0: none). */
  readonly soakMs: number;
  /** The budgets as given, for messages (`--max-fail 20%`); absent when not set. */
  readonly maxFailSetting?: Count;
  readonly fleetMaxFailSetting?: Count;
}

export interface PlanRolloutInput {
  /** The selection, in inventory order. */
  readonly hosts: readonly string[];
  readonly policy?: RolloutPolicy | undefined;
  /** The hosts a canary pattern selects in the inventory (selectHosts); needed for a pattern canary. */
  readonly resolveCanaryPattern?: (pattern: string) => readonly string[];
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

const canaryHosts = (input: PlanRolloutInput, canary: NonNullable<RolloutPolicy['canary']>): string[] => {
  const { hosts } = input;
  if (canary.kind !== 'pattern') {
    // At least one host, however small the percentage: an empty canary would skip the safety stage.
    return hosts.slice(0, Math.max(1, hostsFor(canary, hosts.length, 'up')));
  }
  if (!input.resolveCanaryPattern) throw new UsageError(`canary pattern '${canary.pattern}' cannot be resolved without an inventory`);
  const matched = new Set(input.resolveCanaryPattern(canary.pattern));
  const inSelection = hosts.filter((host) => matched.has(host));
  if (inSelection.length === 0) {
    throw new UsageError(`canary pattern '${canary.pattern}' matches none of the ${plural(hosts.length, 'selected host')}`);
  }
  return inSelection;
};

/** Cuts `rest` into batches of the given sizes (the last size repeats), sizes resolved against `total`. */
const splitBatches = (rest: readonly string[], sizes: readonly Count[], total: number): string[][] => {
  if (sizes.length === 0) return rest.length > 0 ? [[...rest]] : [];
  const batches: string[][] = [];
  for (let start = 0, item = 0; start < rest.length; item = Math.min(item + 1, sizes.length - 1)) {
    const size = Math.max(1, hostsFor(sizes[item]!, total, 'down'));
    batches.push(rest.slice(start, start + size));
    start += size;
  }
  return batches;
};

/** The stages, budgets and soak of a rollout over `hosts`; UsageError for a canary outside the selection. */
export const planRollout = (input: PlanRolloutInput): RolloutPlan => {
  const { hosts, policy = {} } = input;
  const staged = policy.canary !== undefined || policy.batches !== undefined;
  const budgetFor = (size: number): number =>
    policy.maxFail ? hostsFor(policy.maxFail, size, 'down') : staged ? 0 : Number.POSITIVE_INFINITY;

  const groups: Array<{ kind: Stage['kind']; hosts: string[] }> = [];
  if (!staged) {
    if (hosts.length > 0) groups.push({ kind: 'all', hosts: [...hosts] });
  } else {
    const canary = policy.canary ? canaryHosts(input, policy.canary) : [];
    if (canary.length > 0) groups.push({ kind: 'canary', hosts: canary });
    const inCanary = new Set(canary);
    const rest = hosts.filter((host) => !inCanary.has(host));
    for (const batch of splitBatches(rest, policy.batches ?? [], hosts.length)) groups.push({ kind: 'batch', hosts: batch });
  }

  const batchCount = groups.filter((group) => group.kind === 'batch').length;
  let batchNumber = 0;
  const stages = groups.map(({ kind, hosts: stageHosts }, index): Stage => {
    if (kind === 'batch') batchNumber += 1;
    const label = kind === 'canary' ? 'canary' : kind === 'all' ? 'all hosts' : `batch ${batchNumber}/${batchCount}`;
    return { index, kind, label, hosts: stageHosts, maxFail: budgetFor(stageHosts.length) };
  });

  return {
    stages,
    total: hosts.length,
    fleetMaxFail: policy.fleetMaxFail ? hostsFor(policy.fleetMaxFail, hosts.length, 'down') : Number.POSITIVE_INFINITY,
    continueOnBatchFailure: policy.continueOnBatchFailure ?? false,
    soakMs: policy.soakMs ?? 0,
    ...(policy.maxFail ? { maxFailSetting: policy.maxFail } : {}),
    ...(policy.fleetMaxFail ? { fleetMaxFailSetting: policy.fleetMaxFail } : {}),
  };
};

/** Every host of the stages after `stageIndex` (the hosts a halt there leaves untouched). */
export const hostsAfter = (plan: RolloutPlan, stageIndex: number): string[] =>
  plan.stages.slice(stageIndex + 1).flatMap((stage) => stage.hosts);
