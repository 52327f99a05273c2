// The one typed event stream every reporter consumes (live view, line output, JSON Lines, recap).
// The JSON shape of these events is public: `--json` prints them one per line.

import type { StateDiff, StepState } from '../steps/step.ts';
import type { ErrorInfo } from './error-info.ts';

/**
 * `rolled-back`: the host's transaction was undone (its snapshot restored, see run/host-transaction.ts);
 * only the transaction's own event has it, and it counts as a failure.
 */
export type StepStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'rolled-back';

export interface RunStartEvent {
  readonly type: 'run-start';
  readonly playbook: string;
  readonly hosts: readonly string[];
  readonly check: boolean;
}

export interface HostStageEvent {
  readonly type: 'host-stage';
  readonly host: string;
  /** `changing`: the host's first change command is about to be sent (its run record is written first). */
  readonly stage: 'connecting' | 'gathering' | 'applying' | 'changing' | 'handlers' | 'confirming' | 'probing' | 'done';
}

/** The result of one step (or handler) on one host. */
export interface StepResultEvent {
  readonly type: 'step';
  readonly host: string;
  readonly step: string;
  /**
   * `gate`: the checks after a rollout stage (nothing pending on a fresh read, declared exposure).
   * `transaction`: snapshot and dead-man, confirmation over a new connection, or the rollback.
   * `probe`: the declared exposure checked from this machine once the host is done.
   */
  readonly kind: 'step' | 'handler' | 'gate' | 'transaction' | 'probe';
  readonly status: StepStatus;
  /** Human summaries of what changed (or, in check mode, what would change). */
  readonly changes: readonly string[];
  /** Why nothing changed, or why the step was skipped. */
  readonly reason?: string;
  readonly warnings?: readonly string[];
  readonly diff?: StateDiff;
  /** The state the step manages, as data, after it ran (steps that report one). */
  readonly state?: StepState;
  /** With `failed` and `rolled-back`: what went wrong, by kind (see error-info.ts). */
  readonly error?: ErrorInfo;
  readonly check: boolean;
  readonly durationMs: number;
}

export interface HostUnreachableEvent {
  readonly type: 'unreachable';
  readonly host: string;
  readonly error: ErrorInfo;
}

export interface HostCounts {
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
  skipped: number;
  /** 1 when a halted rollout never started this host. */
  untouched: number;
  /** 1 when the host's transaction was rolled back (a failure, for budgets and exit codes). */
  rolledBack: number;
}

/** A rollout stage (the canary, a batch, or all hosts at once) starting or ending. */
export interface StageEvent {
  readonly type: 'stage';
  readonly index: number;
  readonly kind: 'canary' | 'batch' | 'all';
  readonly label: string;
  /** `soak`: the stage is done and the rollout waits `soakMs` before the next one. */
  readonly status: 'start' | 'done' | 'soak';
  readonly hosts: readonly string[];
  readonly soakMs?: number;
  /** With `done`: hosts of the stage that failed (unreachable and failed gates included). */
  readonly failed?: readonly string[];
  /** With `done`: hosts whose gate passed (absent when the rollout has no gates). */
  readonly gatesPassed?: number;
  /** With `done`: the stage exceeded its budget but the rollout goes on (--continue-on-batch-failure). */
  readonly warning?: string;
}

/** The rollout stopped before every host was run: over a failure budget, or waiting for approval. */
export interface HaltEvent {
  readonly type: 'halt';
  readonly reason: string;
  readonly kind: 'budget' | 'approval' | 'declined';
  readonly untouched: readonly string[];
}

export interface HostEndEvent {
  readonly type: 'host-end';
  readonly host: string;
  readonly counts: HostCounts;
  readonly durationMs: number;
}

export interface RecapEvent {
  readonly type: 'recap';
  readonly hosts: Readonly<Record<string, HostCounts>>;
}

export type RunEvent =
  | RunStartEvent
  | HostStageEvent
  | StepResultEvent
  | HostUnreachableEvent
  | HostEndEvent
  | StageEvent
  | HaltEvent
  | RecapEvent;

export type EmitEvent = (event: RunEvent) => void;

export const emptyCounts = (): HostCounts => ({ ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, untouched: 0, rolledBack: 0 });

/** Ansible's recap semantics: a changed step also counts as ok. */
export const countStep = (counts: HostCounts, status: StepStatus): void => {
  if (status === 'ok' || status === 'changed') counts.ok += 1;
  if (status === 'changed') counts.changed += 1;
  if (status === 'failed') counts.failed += 1;
  if (status === 'skipped') counts.skipped += 1;
  if (status === 'rolled-back') counts.rolledBack += 1;
};

export const hostFailed = (counts: HostCounts): boolean => counts.failed > 0 || counts.unreachable > 0 || counts.rolledBack > 0;
