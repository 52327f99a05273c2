// A run record: what one `casfleet apply` selected, the rollout plan it follows, how far it got and
// each host's result, as one versioned JSON document (runs/<id>.json). It is what `casfleet runs`
// lists and what `apply --resume` continues from, so it carries everything needed to rerun the same
// selection the same way. Pure: the file I/O is in run-store.ts.
//
// The raw -e arguments are stored (a resume must see the same vars), and they may hold secrets:
// run-store.ts writes records 0600 inside a 0700 folder, `casfleet runs` never prints -e values,
// and `runs show --json` masks those of the vars the record names secret (see maskedRecord).

import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { type ErrorKind, errorInfoSchema } from '../report/error-info.ts';

export const RUN_RECORD_VERSION = 1;

/** `20261121T130845Z-4f3a`: the UTC second the run started, then 4 random hex digits. */
export const RUN_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;

export const runStatusSchema = z.enum(['running', 'completed', 'halted', 'awaiting-approval', 'interrupted']);
export type RunStatus = z.infer<typeof runStatusSchema>;

/**
 * `untouched`: never started (the rollout halted first, or the run was interrupted while it ran).
 * `rolled-back`: its change was undone by its transaction's rollback; like `failed`, it runs again on resume.
 */
export const hostStateSchema = z.enum(['untouched', 'ok', 'changed', 'failed', 'unreachable', 'rolled-back']);
export type HostState = z.infer<typeof hostStateSchema>;

const count = z.number().int().nonnegative();
// JSON has no Infinity: null stands for "no budget".
const budget = count.nullable();
const timestamp = z.iso.datetime();
const absolutePath = z.string().refine((path) => isAbsolute(path), 'must be an absolute path');

/** The recap counts of one host (report/events.ts HostCounts, without the rollout's `untouched`). */
export const recordedCountsSchema = z.object({
  ok: count,
  changed: count,
  failed: count,
  unreachable: count,
  skipped: count,
  rolledBack: count.default(0),
});
export type RecordedCounts = z.infer<typeof recordedCountsSchema>;

export const rolloutStageSchema = z.object({
  /** The stage's position in `rollout.stages`; stages keep their index when a resume skips some. */
  index: count,
  kind: z.enum(['canary', 'batch', 'all']),
  label: z.string().min(1),
  hosts: z.array(z.string().min(1)),
  /** Failures this stage may have before the rollout halts; null = unlimited. */
  maxFail: budget,
});
export type RolloutStageRecord = z.infer<typeof rolloutStageSchema>;

export const rolloutRecordSchema = z.object({
  stages: z.array(rolloutStageSchema),
  /** Failures the whole run may have; null = unlimited. */
  fleetMaxFail: budget,
  continueOnBatchFailure: z.boolean(),
  soakMs: count,
});
export type RolloutRecord = z.infer<typeof rolloutRecordSchema>;

/** A rollout plan as the planner and runner hold it: Infinity where a budget is unlimited. */
export interface RolloutPlanShape {
  readonly stages: readonly {
    readonly index: number;
    readonly kind: 'canary' | 'batch' | 'all';
    readonly label: string;
    readonly hosts: readonly string[];
    readonly maxFail: number;
  }[];
  readonly fleetMaxFail: number;
  readonly continueOnBatchFailure: boolean;
  readonly soakMs: number;
}

const toBudget = (maxFail: number): number | null => (Number.isFinite(maxFail) ? maxFail : null);
const fromBudget = (maxFail: number | null): number => maxFail ?? Number.POSITIVE_INFINITY;

/** The plan as recorded (Infinity → null); other plan fields (settings as typed) are not kept. */
export const rolloutToRecord = (plan: RolloutPlanShape): RolloutRecord => ({
  stages: plan.stages.map(({ index, kind, label, hosts, maxFail }) => ({
    index,
    kind,
    label,
    hosts: [...hosts],
    maxFail: toBudget(maxFail),
  })),
  fleetMaxFail: toBudget(plan.fleetMaxFail),
  continueOnBatchFailure: plan.continueOnBatchFailure,
  soakMs: plan.soakMs,
});

/** The recorded plan back in the runner's terms (null → Infinity), with the given stages (all by default). */
export const rolloutFromRecord = (rollout: RolloutRecord, stages: readonly RolloutStageRecord[] = rollout.stages): RolloutPlanShape => ({
  stages: stages.map((stage) => ({ ...stage, hosts: [...stage.hosts], maxFail: fromBudget(stage.maxFail) })),
  fleetMaxFail: fromBudget(rollout.fleetMaxFail),
  continueOnBatchFailure: rollout.continueOnBatchFailure,
  soakMs: rollout.soakMs,
});

export const hostRecordSchema = z.object({
  state: hostStateSchema,
  /** Present once the host ran. */
  counts: recordedCountsSchema.optional(),
  /**
   * Why the host failed or was unreachable (the first error seen), with its kind; records written
   * before errors had kinds hold the message alone.
   */
  error: z.union([errorInfoSchema, z.string()]).optional(),
  /** Index of the rollout stage the host belongs to. */
  stage: count,
});
export type HostRecord = z.infer<typeof hostRecordSchema>;

/** A host's recorded error in one shape: records written before errors had kinds hold the message alone. */
export const recordedError = (error: HostRecord['error']): { readonly kind?: ErrorKind; readonly message: string } | undefined =>
  typeof error === 'string' ? { message: error } : error;

/** The process that writes the record, so a `running` record whose process died can be told apart. */
export const controllerSchema = z.object({ hostname: z.string(), pid: z.number().int().positive() });
export type ControllerProcess = z.infer<typeof controllerSchema>;

export const runRecordSchema = z
  .object({
    version: z.literal(RUN_RECORD_VERSION),
    id: z.string().regex(RUN_ID_PATTERN, 'must look like 20261121T130845Z-4f3a'),
    createdAt: timestamp,
    updatedAt: timestamp,
    status: runStatusSchema,
    /** Why a halted / awaiting-approval / interrupted run stopped, in words (shown by `casfleet runs`). */
    haltReason: z.string().optional(),
    /** Times `apply --resume` continued this run (the record keeps its id across resumes). */
    resumedAt: z.array(timestamp),
    controller: controllerSchema,
    /** Where apply ran: a relative playbook path and `-e @file` resolve against it on resume. */
    cwd: absolutePath,
    playbook: z.object({
      /** As given on the command line: a built-in name or a path. */
      reference: z.string().min(1),
      /** The playbook's own name. */
      name: z.string().min(1),
    }),
    inventory: absolutePath,
    limit: z.string().optional(),
    /** The raw -e arguments, in order (secrets possible: see the file comment). */
    extraVars: z.array(z.string()),
    /**
     * Keys of the -e arguments whose values are secrets (the playbook marks them, or their names
     * say so: playbook/secret-vars.ts), decided when the run started. Older records lack it.
     */
    secretVars: z.array(z.string()).optional(),
    /**
     * The rollout flags as typed (--canary 2, --max-fail 0, …), so that the same command line with
     * --resume appended is recognised. Absent in records written before they were kept.
     */
    rolloutFlags: z.record(z.string(), z.union([z.string(), z.boolean()])).optional(),
    check: z.boolean(),
    rollout: rolloutRecordSchema,
    /** Index of the last stage started; -1 before any. */
    stageReached: z.number().int().min(-1),
    hosts: z.record(z.string(), hostRecordSchema),
    /** How many lines of the run's journal (run-journal.ts) this record already holds; absent is 0. */
    journaled: count.optional(),
  })
  .superRefine((record, context) => {
    // The stages and the host map describe the same selection; a mismatch would make a resume skip
    // or invent hosts, so it is rejected rather than repaired.
    const seen = new Map<string, number>();
    for (const [position, stage] of record.rollout.stages.entries()) {
      if (stage.index !== position) {
        context.addIssue({
          code: 'custom',
          path: ['rollout', 'stages', position, 'index'],
          message: `must be ${position}, the stage's position`,
        });
      }
      for (const host of stage.hosts) {
        const earlier = seen.get(host);
        if (earlier !== undefined) {
          context.addIssue({
            code: 'custom',
            path: ['rollout', 'stages', position, 'hosts'],
            message: `${host} is already in stage ${earlier}`,
          });
          continue;
        }
        seen.set(host, position);
        const entry = record.hosts[host];
        if (!entry)
          context.addIssue({ code: 'custom', path: ['hosts', host], message: `stage ${position} lists ${host}, which has no host entry` });
        else if (entry.stage !== position)
          context.addIssue({
            code: 'custom',
            path: ['hosts', host, 'stage'],
            message: `must be ${position}, the stage that lists ${host}`,
          });
      }
    }
    for (const host of Object.keys(record.hosts)) {
      if (!seen.has(host)) context.addIssue({ code: 'custom', path: ['hosts', host], message: 'is in no rollout stage' });
    }
    if (record.stageReached >= record.rollout.stages.length) {
      context.addIssue({
        code: 'custom',
        path: ['stageReached'],
        message: `must be below the number of stages (${record.rollout.stages.length})`,
      });
    }
  });
export type RunRecord = z.infer<typeof runRecordSchema>;

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/**
 * A new run id. Ids sort by start time as plain strings (a directory listing is already in order);
 * the random suffix separates runs started in the same second.
 */
export const newRunId = (now: Date, random: () => number = Math.random): string => {
  const stamp = `${pad(now.getUTCFullYear(), 4)}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}T${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}Z`;
  const suffix = Math.min(0xffff, Math.max(0, Math.floor(random() * 0x10000)));
  return `${stamp}-${suffix.toString(16).padStart(4, '0')}`;
};

/** The part of a run id that orders it (its start second). */
export const runIdSecond = (id: string): string => id.slice(0, 16);

const TO_RUN: ReadonlySet<HostState> = new Set(['failed', 'rolled-back', 'unreachable', 'untouched']);

/** The hosts a resume runs: failed, rolled back, unreachable and never started, in rollout order. */
export const hostsToRun = (record: RunRecord): string[] =>
  record.rollout.stages.flatMap((stage) => stage.hosts).filter((host) => TO_RUN.has(record.hosts[host]?.state ?? 'untouched'));

/**
 * The rollout of a resume: the same stages (index, label, budget) holding only the hosts still to
 * run; stages with none left are dropped.
 */
export const remainingStages = (record: RunRecord): RolloutStageRecord[] => {
  const toRun = new Set(hostsToRun(record));
  return record.rollout.stages
    .map((stage) => ({ ...stage, hosts: stage.hosts.filter((host) => toRun.has(host)) }))
    .filter((stage) => stage.hosts.length > 0);
};

export type StateSummary = Record<HostState, number>;

/** Hosts per state, every state present (0 when none), in display order. */
export const summarizeRecord = (record: RunRecord): StateSummary => {
  const summary: StateSummary = { ok: 0, changed: 0, failed: 0, 'rolled-back': 0, unreachable: 0, untouched: 0 };
  for (const host of Object.values(record.hosts)) summary[host.state] += 1;
  return summary;
};

export type ResumeCheck =
  | { readonly resumable: true; readonly hosts: readonly string[] }
  | { readonly resumable: false; readonly reason: string };

export interface ResumeContext {
  /** Whether the process of a `running` record is still alive (run-liveness.ts on the real system). */
  readonly isRunning: (record: RunRecord) => boolean;
}

/**
 * Whether `apply --resume` may continue this run, and with which hosts. Halted, awaiting-approval and
 * interrupted runs are; so is a `running` record whose process is gone (killed, or the machine went
 * down), and a completed run with failed or unreachable hosts (a retry of just those). Not resumable:
 * a run whose process is still going, and any run with nothing left to run.
 */
export const resumeCheck = (record: RunRecord, context: ResumeContext): ResumeCheck => {
  if (record.status === 'running' && context.isRunning(record)) {
    return {
      resumable: false,
      reason: `run ${record.id} is still running (pid ${record.controller.pid} on ${record.controller.hostname}); let it finish or stop it first`,
    };
  }
  const hosts = hostsToRun(record);
  if (hosts.length === 0) {
    return {
      resumable: false,
      reason:
        record.status === 'completed'
          ? `run ${record.id} completed with every host ok; nothing to resume`
          : `run ${record.id} (${record.status}) has no failed, unreachable or untouched host; nothing to resume`,
    };
  }
  return { resumable: true, hosts };
};

export const isResumable = (record: RunRecord, context: ResumeContext): boolean => resumeCheck(record, context).resumable;
