// apply --resume <run-id|last>: the run record says what to run (playbook, inventory, selection,
// -e, stages and budgets); only its failed, unreachable and untouched hosts run again.

import { resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import type { RolloutPlan } from '../rollout/plan-rollout.ts';
import { isRunLive } from '../run-records/run-liveness.ts';
import { remainingStages, resumeCheck, rolloutFromRecord, type RunRecord } from '../run-records/run-record.ts';
import { readRunRecord } from '../run-records/run-store.ts';
import type { TargetValues } from './prepare-run.ts';

/** Flags that shape a rollout; a resumed run keeps its own. */
export const ROLLOUT_FLAGS = ['canary', 'batches', 'max-fail', 'fleet-max-fail', 'soak', 'continue-on-batch-failure'] as const;

type ResumableValues = TargetValues & { readonly resume?: string | undefined } & Partial<Record<(typeof ROLLOUT_FLAGS)[number], unknown>>;

export interface ResumeInputs<V> {
  readonly record: RunRecord;
  readonly reference: string;
  readonly values: V;
}

/** Load and check the record, and the command-line values the resumed run must use. */
export const resumeInputs = async <V extends ResumableValues>(values: V, reference: string | undefined): Promise<ResumeInputs<V>> => {
  const record = await readRunRecord(values.resume!);
  const check = resumeCheck(record, { isRunning: (r) => isRunLive(r) });
  if (!check.resumable) throw new UsageError(`cannot resume run ${record.id}: ${check.reason}`);
  if (reference && reference !== record.playbook.reference && reference !== record.playbook.name) {
    throw new UsageError(`run ${record.id} applied playbook '${record.playbook.reference}', not '${reference}'`);
  }
  if (values.inventory && resolve(values.inventory) !== record.inventory) {
    throw new UsageError(`run ${record.id} used inventory ${record.inventory}, not ${resolve(values.inventory)}`);
  }
  const conflicting = [
    ...(values.limit ? ['-l'] : []),
    ...(values['extra-vars'] ? ['-e'] : []),
    ...ROLLOUT_FLAGS.filter((flag) => values[flag] !== undefined).map((flag) => `--${flag}`),
  ];
  if (conflicting.length > 0) {
    throw new UsageError(`--resume keeps the run's own selection, vars and rollout; drop ${conflicting.join(', ')}`);
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
