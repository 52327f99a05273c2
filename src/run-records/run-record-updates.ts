// The transitions of a run record over a run, as pure functions returning a new record: apply calls
// them on stage and host events and hands each result to writeRunRecord. Returning new values (never
// mutating) lets the store's writer keep a pending state while the next one is being built. A host's
// new entry is also available on its own (hostResultEntry, changingHostEntry), for a caller that
// keeps the host map itself instead of copying it per host (the record keeper: O(1) per host).

import { RunRecordError } from '../errors.ts';
import { type ErrorInfo, errorInfo } from '../report/error-info.ts';
import {
  type ControllerProcess,
  type HostState,
  newRunId,
  type RecordedCounts,
  type RolloutRecord,
  RUN_RECORD_VERSION,
  type RunRecord,
  type RunStatus,
} from './run-record.ts';

export interface NewRunInput {
  readonly playbook: { readonly reference: string; readonly name: string };
  /** Absolute path of the inventory. */
  readonly inventory: string;
  readonly limit?: string;
  /** The raw -e arguments, in order. */
  readonly extraVars: readonly string[];
  /** Keys among them whose values are secrets. */
  readonly secretVars?: readonly string[];
  /** The rollout flags as typed (only those given). */
  readonly rolloutFlags?: Readonly<Record<string, string | boolean>>;
  readonly check: boolean;
  readonly rollout: RolloutRecord;
  /** Absolute working directory of the apply. */
  readonly cwd: string;
  readonly controller: ControllerProcess;
}

/** A `running` record with every host untouched, before any stage starts. */
export const newRunRecord = (input: NewRunInput, now: Date, random: () => number = Math.random): RunRecord => {
  const at = now.toISOString();
  const hosts: RunRecord['hosts'] = {};
  for (const stage of input.rollout.stages) for (const host of stage.hosts) hosts[host] = { state: 'untouched', stage: stage.index };
  return {
    version: RUN_RECORD_VERSION,
    id: newRunId(now, random),
    createdAt: at,
    updatedAt: at,
    status: 'running',
    resumedAt: [],
    controller: { ...input.controller },
    cwd: input.cwd,
    playbook: { ...input.playbook },
    inventory: input.inventory,
    ...(input.limit !== undefined ? { limit: input.limit } : {}),
    extraVars: [...input.extraVars],
    ...(input.secretVars !== undefined ? { secretVars: [...input.secretVars] } : {}),
    ...(input.rolloutFlags !== undefined ? { rolloutFlags: { ...input.rolloutFlags } } : {}),
    check: input.check,
    rollout: structuredClone(input.rollout),
    stageReached: -1,
    hosts,
  };
};

/** A stage started. */
export const startStage = (record: RunRecord, index: number, now: Date): RunRecord => {
  if (!Number.isInteger(index) || index < 0 || index >= record.rollout.stages.length) {
    throw new RunRecordError(`run ${record.id} has no stage ${index} (it has ${record.rollout.stages.length})`);
  }
  return { ...record, stageReached: index, updatedAt: now.toISOString() };
};

/** The state a host ended in, from its recap counts (the rollout's `untouched` marks a host never started). */
export const hostStateFromCounts = (counts: RecordedCounts & { readonly untouched?: number }): HostState => {
  if ((counts.untouched ?? 0) > 0) return 'untouched';
  if (counts.unreachable > 0) return 'unreachable';
  if (counts.rolledBack > 0) return 'rolled-back';
  if (counts.failed > 0) return 'failed';
  if (counts.changed > 0) return 'changed';
  return 'ok';
};

export interface HostResult {
  readonly counts: RecordedCounts & { readonly untouched?: number };
  /** Why the host failed, was rolled back or was unreachable. */
  readonly error?: ErrorInfo;
}

type HostEntry = RunRecord['hosts'][string];

const withHost = (record: RunRecord, host: string, entry: HostEntry, now: Date): RunRecord => ({
  ...record,
  hosts: { ...record.hosts, [host]: entry },
  updatedAt: now.toISOString(),
});

const previousEntry = (record: RunRecord, host: string): HostEntry => {
  const previous = record.hosts[host];
  if (!previous) throw new RunRecordError(`run ${record.id} has no host '${host}'`);
  return previous;
};

/** The entry of a host that finished (host-end). A host never started keeps no counts. */
export const hostResultEntry = (record: RunRecord, host: string, result: HostResult): HostEntry => {
  const previous = previousEntry(record, host);
  const state = hostStateFromCounts(result.counts);
  const { ok, changed, failed, unreachable, skipped, rolledBack } = result.counts;
  return {
    state,
    stage: previous.stage,
    ...(state === 'untouched' ? {} : { counts: { ok, changed, failed, unreachable, skipped, rolledBack } }),
    ...(result.error !== undefined && (state === 'failed' || state === 'unreachable' || state === 'rolled-back')
      ? { error: result.error }
      : {}),
  };
};

/** A host finished (host-end). */
export const recordHostResult = (record: RunRecord, host: string, result: HostResult, now: Date): RunRecord =>
  withHost(record, host, hostResultEntry(record, host, result), now);

const AFTER_STOP = {
  transaction: { state: 'rolled-back' as const, how: 'it restores its snapshot by itself when its dead-man fires' },
  none: { state: 'failed' as const, how: 'without a transaction, the changes made so far stay' },
};

const changedHostEntry = (record: RunRecord, host: string, transactions: boolean, why: string): HostEntry => {
  const previous = previousEntry(record, host);
  const after = transactions ? AFTER_STOP.transaction : AFTER_STOP.none;
  return { state: after.state, error: errorInfo('apply', `${why}: ${after.how}`), stage: previous.stage };
};

/**
 * A host the run was changing when it was stopped: rolled back when a transaction covers it (its
 * dead-man restores the snapshot, as nobody is left to confirm), failed without one (its changes so
 * far stay). Either way `--resume` runs it again.
 */
export const interruptedHostEntry = (record: RunRecord, host: string, transactions: boolean): HostEntry =>
  changedHostEntry(record, host, transactions, 'interrupted after the host changed');

export const recordInterruptedHost = (record: RunRecord, host: string, transactions: boolean, now: Date): RunRecord =>
  withHost(record, host, interruptedHostEntry(record, host, transactions), now);

/**
 * A host whose first change was just made, written ahead of its end: the state it is left in should
 * the run die now without a word (SIGKILL, a crash, the machine going down), exactly what
 * recordInterruptedHost says after a signal. Its host-end replaces it.
 */
export const changingHostEntry = (record: RunRecord, host: string, transactions: boolean): HostEntry =>
  changedHostEntry(record, host, transactions, 'the run stopped while changing the host');

/** The run stopped: completed, halted (over a budget), awaiting approval, or interrupted (SIGINT). */
export const endRun = (record: RunRecord, status: Exclude<RunStatus, 'running'>, haltReason: string | undefined, now: Date): RunRecord => {
  const { haltReason: _previous, ...rest } = record;
  return { ...rest, status, ...(haltReason !== undefined ? { haltReason } : {}), updatedAt: now.toISOString() };
};

/** `apply --resume` takes the run over: same id, running again, in this process. */
export const resumeRun = (record: RunRecord, controller: ControllerProcess, now: Date): RunRecord => {
  const { haltReason: _previous, ...rest } = record;
  const at = now.toISOString();
  return { ...rest, status: 'running', controller: { ...controller }, resumedAt: [...record.resumedAt, at], updatedAt: at };
};
