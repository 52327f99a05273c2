// How a playbook typed on a command line is matched with the one a run record names, for
// `apply --resume last` and `casfleet runs --playbook`.

import { resolve } from 'node:path';
import type { RunRecord } from '../run-records/run-record.ts';
import type { RunFilter } from '../run-records/run-store.ts';

// Same rule as the playbook loader: anything else is a built-in playbook name.
export const isPlaybookPath = (reference: string): boolean =>
  reference.includes('/') || reference.endsWith('.ts') || reference.endsWith('.js') || reference.endsWith('.mjs');

/** Does a playbook as typed here name the run's playbook (built-in name, its own name, or the same file)? */
export const namesRecordedPlaybook = (typed: string, cwd: string, record: RunRecord): boolean =>
  typed === record.playbook.reference ||
  typed === record.playbook.name ||
  (isPlaybookPath(typed) &&
    isPlaybookPath(record.playbook.reference) &&
    resolve(cwd, typed) === resolve(record.cwd, record.playbook.reference));

/** Runs of this playbook (as typed) and/or on this inventory (absolute); undefined for "any run". */
export const runFilter = (playbook: string | undefined, inventory: string | undefined, cwd: string): RunFilter | undefined => {
  if (playbook === undefined && inventory === undefined) return undefined;
  return {
    ...(playbook !== undefined ? { playbook: (record: RunRecord) => namesRecordedPlaybook(playbook, cwd, record) } : {}),
    ...(inventory !== undefined ? { inventory } : {}),
    describe: [playbook !== undefined ? `of ${playbook}` : '', inventory !== undefined ? `on ${inventory}` : ''].filter(Boolean).join(' '),
  };
};
