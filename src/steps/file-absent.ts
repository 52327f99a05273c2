// A file that must not exist (Scenario B: /batm/config/vpn "deleted" [C] SCN-d), removed after a
// root-only timestamped backup so switching back (fileRestored) can put it back with its owner,
// group and mode. Only regular files: /batm/config/vpn is documented as a file [C], and anything
// else at that path (a directory [I]) is surprising enough to stop and ask a human.
import { z } from 'zod';
import { StepPlanError } from '../errors.ts';
import { absolutePathSchema, parseArgs } from '../facts/args.ts';
import { FILE_TYPE_NAMES, type FileInfo, fileInfoFact } from '../facts/file.ts';
import { removeFileCommand } from './remote-file.ts';
import { defineStep, noChange, type Step, type StepPlan } from './step.ts';

export const fileAbsentSchema = z
  .object({
    path: absolutePathSchema,
    /** Back up before removing (default true); restoring needs the backup. */
    backup: z.boolean().default(true),
  })
  .strict();

export type FileAbsentArgs = z.input<typeof fileAbsentSchema>;

/** Plans the removal from the file fact (pure). */
export const planFileAbsent = ({ path, backup }: z.output<typeof fileAbsentSchema>, file: FileInfo): StepPlan => {
  if (!file.exists) return noChange(`${path} is already absent`);
  if (file.type !== 'file') throw new StepPlanError(`${path} is ${FILE_TYPE_NAMES[file.type]}, not a regular file; refusing to remove it`);
  const owner = `${file.owner}:${file.group} ${file.mode}`;
  return {
    changes: [
      {
        summary: `- ${path}${backup ? ' (backed up first)' : ''}`,
        command: removeFileCommand(path, backup),
      },
    ],
    diff: { before: `${path}: present (${file.size} bytes, ${owner})`, after: `${path}: absent` },
  };
};

/** Removes `path` (after a backup unless `backup: false`); no-op when absent. */
export const fileAbsent = (args: FileAbsentArgs): Step => {
  const desired = parseArgs(fileAbsentSchema, args, 'fileAbsent');
  return defineStep({
    name: `${desired.path} absent`,
    facts: { file: fileInfoFact(desired.path) },
    plan: ({ file }) => planFileAbsent(desired, file),
    touches: { files: [desired.path] },
  });
};
