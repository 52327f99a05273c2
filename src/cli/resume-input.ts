// apply --resume <run-id|last>: the run record says what to run (playbook, inventory, selection,
// -e, stages and budgets); only its failed, unreachable and untouched hosts run again. The command
// that started the run, with --resume appended, is accepted as typed: -i, -l, -e and rollout flags
// equal to the recorded ones pass, different ones are refused with the difference named. `last` is
// the newest run of the same playbook and inventory, not whatever fleet ran last.

import { resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import type { RolloutPlan } from '../rollout/plan-rollout.ts';
import { isRunLive } from '../run-records/run-liveness.ts';
import { type RunRecord, remainingStages, resumeCheck, rolloutFromRecord } from '../run-records/run-record.ts';
import { type RunFilter, readRunRecord, runsDir } from '../run-records/run-store.ts';
import { resolveInventoryPath } from './inventory-input.ts';
import { namesRecordedPlaybook, runFilter } from './playbook-reference.ts';
import type { TargetValues } from './prepare-run.ts';

/** Flags that shape a rollout; a resumed run keeps its own. */
export const ROLLOUT_FLAGS = ['canary', 'batches', 'max-fail', 'fleet-max-fail', 'soak', 'continue-on-batch-failure'] as const;

type RolloutFlag = (typeof ROLLOUT_FLAGS)[number];
type ResumableValues = TargetValues & { readonly resume?: string | undefined } & Partial<Record<RolloutFlag, string | boolean | undefined>>;

export interface ResumeInputs<V> {
  readonly record: RunRecord;
  readonly reference: string;
  readonly values: V;
}

/** The rollout flags given on this command line, as the run record keeps them. */
export const givenRolloutFlags = (values: Partial<Record<RolloutFlag, string | boolean | undefined>>): Record<string, string | boolean> =>
  Object.fromEntries(ROLLOUT_FLAGS.flatMap((flag) => (values[flag] === undefined ? [] : [[flag, values[flag]!]])));

/** What `--resume last` may mean for this command line: runs of its playbook and inventory. */
export const resumeFilter = (reference: string | undefined, inventory: string | undefined, cwd: string): RunFilter | undefined => {
  let path: string | undefined;
  try {
    path = resolveInventoryPath(inventory, cwd);
  } catch {
    // No -i and no default lab inventory: any inventory.
  }
  return runFilter(reference, path, cwd);
};

const varName = (arg: string): string => (arg.startsWith('@') ? arg : arg.slice(0, Math.max(0, arg.indexOf('=')) || arg.length));

/** How -e on this command line differs from the run's, naming variables but never their values. */
export const extraVarsDifference = (recorded: readonly string[], given: readonly string[]): string | undefined => {
  if (recorded.length === given.length && recorded.every((arg, index) => arg === given[index])) return undefined;
  const recordedNames = recorded.map(varName);
  const givenNames = given.map(varName);
  const added = givenNames.filter((name) => !recordedNames.includes(name));
  const missing = recordedNames.filter((name) => !givenNames.includes(name));
  const changed = givenNames.filter((name, index) => recordedNames.includes(name) && !recorded.includes(given[index]!));
  const parts = [
    ...added.map((name) => `-e ${name} is not in the run`),
    ...missing.map((name) => `the run also had -e ${name}`),
    ...changed.map((name) => `-e ${name} has another value than in the run`),
  ];
  return parts.length > 0 ? parts.join(', ') : '-e is given in another order than in the run';
};

const shownFlag = (flag: string, value: string | boolean): string => (value === true ? `--${flag}` : `--${flag} ${String(value)}`);

const differences = (record: RunRecord, values: ResumableValues, cwd: string): string[] => {
  const found: string[] = [];
  if (values.inventory && resolve(cwd, values.inventory) !== record.inventory) {
    found.push(`-i ${resolve(cwd, values.inventory)}, the run used ${record.inventory}`);
  }
  if (values.limit !== undefined && values.limit !== record.limit) {
    found.push(record.limit === undefined ? `-l ${values.limit}, the run had no -l` : `-l ${values.limit}, the run had -l ${record.limit}`);
  }
  if (values['extra-vars'] !== undefined) {
    const difference = extraVarsDifference(record.extraVars, values['extra-vars']);
    if (difference !== undefined) found.push(difference);
  }
  for (const [flag, value] of Object.entries(givenRolloutFlags(values))) {
    const recorded = record.rolloutFlags?.[flag];
    if (record.rolloutFlags === undefined) found.push(`${shownFlag(flag, value)} (this run's record does not keep its rollout flags)`);
    else if (recorded !== value)
      found.push(`${shownFlag(flag, value)}, the run had ${recorded === undefined ? `no --${flag}` : shownFlag(flag, recorded)}`);
  }
  return found;
};

/** Load and check the record, and the command-line values the resumed run must use. */
export const resumeInputs = async <V extends ResumableValues>(
  values: V,
  reference: string | undefined,
  cwd: string = process.cwd(),
): Promise<ResumeInputs<V>> => {
  const filter = values.resume === 'last' ? resumeFilter(reference, values.inventory, cwd) : undefined;
  const record = await readRunRecord(values.resume!, runsDir(), filter);
  const check = resumeCheck(record, { isRunning: (r) => isRunLive(r) });
  if (!check.resumable) throw new UsageError(`cannot resume run ${record.id}: ${check.reason}`);
  if (reference && !namesRecordedPlaybook(reference, cwd, record)) {
    throw new UsageError(`run ${record.id} applied playbook '${record.playbook.reference}', not '${reference}'`);
  }
  const found = differences(record, values, cwd);
  if (found.length > 0) {
    throw new UsageError(
      `--resume continues run ${record.id} with its own inventory, selection, vars and rollout; this command differs: ${found.join('; ')}`,
    );
  }
  return {
    record,
    reference: record.playbook.reference,
    values: { ...values, inventory: record.inventory, limit: record.limit, 'extra-vars': record.extraVars },
  };
};

/** The recorded stages with only the hosts still to run; the fleet budget starts afresh. */
export const resumedRollout = (record: RunRecord): RolloutPlan => ({
  ...rolloutFromRecord(record.rollout, remainingStages(record)),
  total: Object.keys(record.hosts).length,
});
