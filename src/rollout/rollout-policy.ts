// The rollout policy: which hosts go first (the canary), how the rest is split into batches
// (Ansible `serial` semantics), the failure budgets, and the soak between stages. A playbook declares
// a default (`rollout: {...}`, validated by rolloutPolicySchema); CLI flags override it field by field
// (mergeRolloutPolicy). The same grammar serves both, so `--batches 1,5,20%` and
// `batches: [1, 5, '20%']` can never mean different things.

import { z } from 'zod';
import { PlaybookError, UsageError } from '../errors.ts';
import { type Count, readBudget, readSize } from './count.ts';
import { readDurationMs } from './duration.ts';

/** The first stage: a host pattern (intersected with the selection), or the first N / N% hosts. */
export type Canary = Count | { readonly kind: 'pattern'; readonly pattern: string };

type Percent = `${number}%`;
type SizeInput = number | Percent;

// Text made only of digits (and a %) is a size, never a pattern: `--canary 0` is a mistake, not a
// host named "0".
const NUMERIC = /^\d+\s*%?$/;

const readCanary = (input: string | number): Canary | undefined => {
  if (typeof input === 'number') return readSize(input);
  const text = input.trim();
  if (text === '') return undefined;
  return NUMERIC.test(text) ? readSize(text) : { kind: 'pattern', pattern: text };
};

/** Every size of a list, or the first entry that is not a size. */
const readSizes = (input: string | number | readonly (string | number)[]): { sizes: Count[] } | { bad: unknown } => {
  const items = Array.isArray(input) ? input : typeof input === 'string' ? input.split(',') : [input as number];
  if (items.length === 0) return { bad: input };
  const sizes: Count[] = [];
  for (const item of items) {
    const size = readSize(item);
    if (!size) return { bad: item };
    sizes.push(size);
  }
  return { sizes };
};

// What each setting takes, in CLI words and in playbook (TypeScript) words.
const CLI_HINT = {
  canary: 'a host pattern, a number of hosts or a percentage like canary, 2 or 5%',
  batches: 'sizes like 1,5,20%',
  budget: 'a number of hosts or a percentage up to 100% like 0, 2 or 10%',
  soak: 'a duration like 30s, 5m or 1h',
} as const;
const SCHEMA_HINT = {
  canary: "a host pattern, a number of hosts or a percentage like 'canary', 2 or '5%'",
  batches: "sizes of at least 1 host like [1, 5, '20%']",
  budget: "a number of hosts or a percentage up to 100% like 0, 2 or '10%'",
  soak: "a duration like '30s', '5m' or '1h', or a number of seconds",
} as const;

const usage = (flag: string, hint: string, got: string): UsageError => new UsageError(`${flag} takes ${hint}; got '${got}'`);

/** `--batches 1,5,20%` → sizes; UsageError naming the flag and the bad size otherwise. */
export const parseBatchSizes = (text: string, flag = '--batches'): Count[] => {
  const result = readSizes(text);
  if ('sizes' in result) return result.sizes;
  const bad = String(result.bad).trim();
  throw usage(flag, CLI_HINT.batches, bad === text.trim() ? bad : `${bad}' in '${text}`);
};

/** `--max-fail 0` / `--fleet-max-fail 10%` → a budget; UsageError naming the flag otherwise. */
export const parseCount = (text: string, flag = '--max-fail'): Count => {
  const count = readBudget(text);
  if (!count) throw usage(flag, CLI_HINT.budget, text);
  return count;
};

/** `--canary canary` / `2` / `5%` → the canary; UsageError naming the flag otherwise. */
export const parseCanary = (text: string, flag = '--canary'): Canary => {
  const canary = readCanary(text);
  if (!canary) throw usage(flag, CLI_HINT.canary, text);
  return canary;
};

/** `--soak 30s` → milliseconds; UsageError naming the flag otherwise. */
export const parseDuration = (text: string, flag = '--soak'): number => {
  const ms = readDurationMs(text);
  if (ms === undefined) throw usage(flag, CLI_HINT.soak, text);
  return ms;
};

/** A zod transform that reads a value with `read`, or reports what was expected. */
const reading =
  <I, O>(read: (input: I) => O | undefined, expected: string) =>
  (input: I, ctx: z.RefinementCtx): O => {
    const value = read(input);
    if (value !== undefined) return value;
    ctx.addIssue({ code: 'custom', message: `expected ${expected}; got ${JSON.stringify(input)}`, input });
    return z.NEVER;
  };

// z.custom only to give playbook authors the `20%` template type; the transforms do the checking.
const sizeInput = z.custom<SizeInput>((value) => typeof value === 'number' || typeof value === 'string', {
  message: "expected a number of hosts or a percentage like '20%'",
});
const budget = sizeInput.transform(reading(readBudget, SCHEMA_HINT.budget));

/** What a playbook's `rollout` may say; the output is the typed policy (soak in milliseconds). */
export const rolloutPolicySchema = z
  .strictObject({
    /** The first stage: a host pattern (within the selection), N hosts or N% of them (rounded up). */
    canary: z.union([z.number(), z.string()]).transform(reading(readCanary, SCHEMA_HINT.canary)).optional(),
    /** Batch sizes after the canary, like Ansible's `serial`: the last size repeats; N% is of the whole selection. */
    batches: z
      .union([sizeInput, z.array(sizeInput)])
      .transform((input, ctx) => {
        const result = readSizes(input);
        if ('sizes' in result) return result.sizes;
        ctx.addIssue({ code: 'custom', message: `expected ${SCHEMA_HINT.batches}; got ${JSON.stringify(result.bad)}`, input });
        return z.NEVER;
      })
      .optional(),
    /** Failures one stage may have; more halts the rollout (N% of the stage, rounded down). */
    maxFail: budget.optional(),
    /** Failures the whole run may have; more halts it (N% of the selection, rounded down). */
    fleetMaxFail: budget.optional(),
    /** Wait after each stage before judging it and starting the next. */
    soak: z.union([z.number(), z.string()]).transform(reading(readDurationMs, SCHEMA_HINT.soak)).optional(),
    /** A batch over its own budget does not halt the run (the canary and the fleet budget still do). */
    continueOnBatchFailure: z.boolean().optional(),
  })
  .transform(({ soak, ...rest }) => (soak === undefined ? rest : { ...rest, soakMs: soak }));

/** What a playbook author writes. */
export type RolloutPolicyInput = z.input<typeof rolloutPolicySchema>;

/** The typed policy; every field optional (unset: see planRollout for the defaults). */
export interface RolloutPolicy {
  readonly canary?: Canary | undefined;
  readonly batches?: readonly Count[] | undefined;
  readonly maxFail?: Count | undefined;
  readonly fleetMaxFail?: Count | undefined;
  readonly soakMs?: number | undefined;
  readonly continueOnBatchFailure?: boolean | undefined;
}

// The schema stays the source of truth: this fails to compile if the interface drifts from it.
const schemaOutputIsPolicy = (output: z.output<typeof rolloutPolicySchema>): RolloutPolicy => output;
void schemaOutputIsPolicy;

/** A playbook's `rollout`, validated; PlaybookError listing every problem (paths like `rollout.batches`). */
export const parseRolloutPolicy = (input: unknown, playbook: string): RolloutPolicy | undefined => {
  if (input === undefined) return undefined;
  const result = rolloutPolicySchema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
    return keys.map((path) => ({ path: ['rollout', ...path].map(String).join('.'), message: issue.message }));
  });
  throw new PlaybookError(`invalid rollout for playbook ${playbook}`, issues);
};

/** The rollout flags as parseArgs gives them; undefined means "not given". */
export interface RolloutFlags {
  readonly canary?: string | undefined;
  readonly batches?: string | undefined;
  readonly maxFail?: string | undefined;
  readonly fleetMaxFail?: string | undefined;
  readonly soak?: string | undefined;
  /** Only `true` overrides the playbook: the flag is an opt-in with no negative form. */
  readonly continueOnBatchFailure?: boolean | undefined;
}

/** The playbook's policy with every given flag in its place (CLI wins per field); UsageError on a bad flag. */
export const mergeRolloutPolicy = (playbook: RolloutPolicy | undefined, flags: RolloutFlags): RolloutPolicy => {
  const merged = {
    canary: flags.canary === undefined ? playbook?.canary : parseCanary(flags.canary),
    batches: flags.batches === undefined ? playbook?.batches : parseBatchSizes(flags.batches),
    maxFail: flags.maxFail === undefined ? playbook?.maxFail : parseCount(flags.maxFail, '--max-fail'),
    fleetMaxFail: flags.fleetMaxFail === undefined ? playbook?.fleetMaxFail : parseCount(flags.fleetMaxFail, '--fleet-max-fail'),
    soakMs: flags.soak === undefined ? playbook?.soakMs : parseDuration(flags.soak),
    continueOnBatchFailure: flags.continueOnBatchFailure === true ? true : playbook?.continueOnBatchFailure,
  };
  // Unset fields stay absent, so a merged policy compares equal to one written by hand.
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)) as RolloutPolicy;
};
