// The way back from fileAbsent (Scenario B → A: /batm/config/vpn is needed again): when the file is
// missing, restore the newest casfleet backup atomically with the owner, group and mode recorded in
// the backup's name. A present file is left alone (whatever its content: CAS may have rewritten
// it). Missing with no backup is a plan error: casfleet cannot invent the content. So is a newest
// backup whose recorded mode is not sane (world-writable, setuid/setgid/sticky): casfleet never
// made such a backup of a CAS file, so someone else did; the host checks the rest (remote-file.ts).
import { z } from 'zod';
import { StepPlanError } from '../errors.ts';
import { absolutePathSchema, parseArgs } from '../facts/args.ts';
import { BACKUP_ROOT } from '../facts/backup-name.ts';
import { backupsFact, type FileBackup, type FileInfo, fileInfoFact } from '../facts/file.ts';
import { insaneMode, restoreFileCommand } from './remote-file.ts';
import { defineStep, noChange, type Step, type StepPlan } from './step.ts';

export const fileRestoredSchema = z.object({ path: absolutePathSchema }).strict();

export type FileRestoredArgs = z.input<typeof fileRestoredSchema>;

/** Plans the restore from the file and backups facts (pure). */
export const planFileRestored = (
  { path }: z.output<typeof fileRestoredSchema>,
  file: FileInfo,
  backups: readonly FileBackup[],
): StepPlan => {
  if (file.exists) return noChange(`${path} is present`);
  const newest = backups[backups.length - 1];
  if (!newest) {
    throw new StepPlanError(
      `${path} is missing and there is no casfleet backup of it under ${BACKUP_ROOT}: it cannot be restored automatically`,
    );
  }
  const modeProblem = insaneMode(newest.mode);
  if (modeProblem)
    throw new StepPlanError(
      `${path} is missing and its newest backup ${newest.path} records ${modeProblem}: refusing to restore it (check who wrote that backup)`,
    );
  return {
    changes: [
      {
        // No timestamp in the summary: hosts restored from different backups still group together in plans.
        summary: `+ ${path} (restored from its newest casfleet backup, uid ${newest.uid} gid ${newest.gid} mode ${newest.mode})`,
        command: restoreFileCommand(path, newest.path, newest),
      },
    ],
    diff: { before: `${path}: absent`, after: `${path}: restored from ${newest.path}` },
  };
};

/** Restores `path` from its newest casfleet backup when it is missing; no-op when present. */
export const fileRestored = (args: FileRestoredArgs): Step => {
  const desired = parseArgs(fileRestoredSchema, args, 'fileRestored');
  return defineStep({
    name: `${desired.path} restored`,
    facts: { file: fileInfoFact(desired.path), backups: backupsFact(desired.path) },
    plan: ({ file, backups }) => planFileRestored(desired, file, backups),
    touches: { files: [desired.path] },
  });
};
