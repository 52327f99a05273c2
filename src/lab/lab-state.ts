// lab.json: what `lab up` built and started, so `lab down`/`lab status` can find it again even after
// a crash half-way through `lab up` (it is rewritten after every stage that starts something).

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { LabError } from '../errors.ts';

const pid = z.number().int().positive();

export const LabStateSchema = z.object({
  version: z.literal(1),
  name: z.string(),
  dir: z.string(),
  /** Where each host's mount namespace sees `dir`; recorded because sshd command lines contain it. */
  mountRoot: z.string(),
  phase: z.enum(['building', 'ready']),
  createdAt: z.string(),
  hostCount: z.number().int().nonnegative(),
  controllerNetns: z.string(),
  hosts: z.array(
    z.object({
      index: z.number().int().positive(),
      id: z.string(),
      name: z.string(),
      netns: z.string(),
      address: z.string(),
      sshdPid: pid.nullable(),
    }),
  ),
  listenerPid: pid.nullable(),
  /** True when this lab created the empty /batm mount point on the root fs. */
  createdBatmDir: z.boolean(),
  timingsMs: z.record(z.string(), z.number()).optional(),
});

export type LabState = z.infer<typeof LabStateSchema>;

/** Atomic write (temp + rename) so a crash never leaves a truncated lab.json behind. */
export const writeLabState = (path: string, state: LabState): void => {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
};

/** undefined when there is no lab.json; LabError when it exists but is not a lab state file. */
export const readLabState = (path: string): LabState | undefined => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LabError(`cannot read ${path}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new LabError(`${path} is not valid JSON`, { cause: error });
  }
  const parsed = LabStateSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    throw new LabError(`${path} is not a casfleet lab state file:\n  ${issues.join('\n  ')}`);
  }
  return parsed.data;
};
