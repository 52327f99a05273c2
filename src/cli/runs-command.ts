// casfleet runs [--limit N] [--json] | casfleet runs show <id|last> [--json]: the run records apply
// writes (selection, rollout plan, stage reached, per-host result), and how to resume one.

import { resolve } from 'node:path';
import { quote } from '../command/shell.ts';
import { UsageError } from '../errors.ts';
import { displayPath } from '../inventory/display-path.ts';
import { formatRunDetails, formatRunList, maskedRecord } from '../run-records/format-run.ts';
import { isRunLive } from '../run-records/run-liveness.ts';
import { type RunRecord, resumeCheck, summarizeRecord } from '../run-records/run-record.ts';
import { listRunRecords, type RunFilter, readRunRecord, runsDir } from '../run-records/run-store.ts';
import { EXIT_OK } from './exit-codes.ts';
import { parseCommandLine, positiveInt } from './parse-options.ts';
import { isPlaybookPath, runFilter } from './playbook-reference.ts';

const DEFAULT_LIMIT = 20;

export const RUNS_HELP = `Usage: casfleet runs [--limit N] [--playbook NAME] [-i INVENTORY] [--json]
       casfleet runs show <ID|last> [--json]

Every 'casfleet apply' keeps a run record: the hosts it selected, the rollout plan, the stage it
reached and each host's result. 'runs' lists them, newest first; 'runs show' prints one run stage
by stage. A halted, interrupted or failed run continues with 'casfleet apply … --resume <ID|last>':
hosts already done are skipped, failed, unreachable and untouched ones are run, same rollout plan.

An ID may be shortened to any unique prefix (20261121T1308). Times are local.

Records are JSON files in $CASFLEET_STATE_DIR/runs (default $XDG_STATE_HOME/casfleet/runs, else
~/.local/state/casfleet/runs). They keep the -e arguments as given, so that a resume uses the same
vars; those may be secrets, so the files are readable only by you (0600, folder 0700), a folder
or record someone else owns or can write to is refused, the list and the text view never print
-e values, and --json masks the values of secret vars (marked secret in the playbook, or named
like password, secret, token or key).

Options:
  -n, --limit N   list the N newest runs (default ${DEFAULT_LIMIT})
      --playbook NAME       only runs of this playbook (built-in name, playbook name or path)
  -i, --inventory FILE      only runs on this inventory
      --json      list: {"dir", "total", "runs": [...summaries], "unreadable": [...]};
                  show: the whole record, secret -e values masked
  -h, --help      show this help

Examples:
  casfleet runs
  casfleet runs --limit 5 --json
  casfleet runs --playbook scenario-a -i inventories/prod.yml
  casfleet runs show last
  casfleet runs show 20261121T130845Z-4f3a
  casfleet apply scenario-a -i inventories/prod.yml --resume last
`;

const OPTIONS = {
  limit: { type: 'string', short: 'n' },
  playbook: { type: 'string' },
  inventory: { type: 'string', short: 'i' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * The apply command line that resumes the run, typed from the current directory: a playbook path
 * given relative to where the run started is re-expressed from here.
 */
export const resumeCommandLine = (record: RunRecord): string => {
  const { reference } = record.playbook;
  const playbook = isPlaybookPath(reference) ? displayPath(resolve(record.cwd, reference)) : reference;
  return `casfleet apply ${quote(playbook)} -i ${quote(displayPath(record.inventory))} --resume ${record.id}`;
};

/** The --json summary of one run: everything but the -e values and per-host details. */
const runSummary = (record: RunRecord, live: boolean) => ({
  id: record.id,
  createdAt: record.createdAt,
  updatedAt: record.updatedAt,
  status: record.status,
  ...(record.haltReason !== undefined ? { haltReason: record.haltReason } : {}),
  live,
  resumable: resumeCheck(record, { isRunning: () => live }).resumable,
  playbook: record.playbook,
  inventory: record.inventory,
  ...(record.limit !== undefined ? { limit: record.limit } : {}),
  check: record.check,
  stages: record.rollout.stages.length,
  stageReached: record.stageReached,
  hosts: summarizeRecord(record),
});

const out = (text: string): void => {
  process.stdout.write(text);
};

const listRuns = async (limit: number, json: boolean, filter: RunFilter | undefined): Promise<number> => {
  const listing = await listRunRecords({ dir: runsDir(), limit, ...(filter ? { filter } : {}) });
  const rows = listing.entries.map((entry) =>
    'record' in entry ? { id: entry.id, record: entry.record, live: isRunLive(entry.record) } : { id: entry.id, error: entry.error },
  );
  if (json) {
    const view = {
      dir: listing.dir,
      total: listing.total,
      runs: rows.flatMap((row) => (row.record ? [runSummary(row.record, row.live)] : [])),
      unreadable: listing.entries.flatMap((entry) => ('error' in entry ? [{ id: entry.id, file: entry.file, error: entry.error }] : [])),
    };
    out(`${JSON.stringify(view, null, 2)}\n`);
    return EXIT_OK;
  }
  if (listing.total === 0) {
    out(
      filter
        ? `no runs ${filter.describe} in ${listing.dir}\n`
        : `no runs recorded yet in ${listing.dir}; 'casfleet apply' records every run\n`,
    );
    return EXIT_OK;
  }
  const lines = formatRunList(rows);
  const older = listing.total - rows.length;
  if (older > 0) lines.push(`… ${older} older run${older === 1 ? '' : 's'} (--limit ${listing.total} shows all)`);
  out(`${lines.join('\n')}\n`);
  return EXIT_OK;
};

const showRun = async (idOrLast: string, json: boolean): Promise<number> => {
  const record = await readRunRecord(idOrLast, runsDir());
  if (json) {
    out(`${JSON.stringify(maskedRecord(record), null, 2)}\n`);
    return EXIT_OK;
  }
  const live = isRunLive(record);
  const lines = formatRunDetails({
    record,
    live,
    resume: resumeCheck(record, { isRunning: () => live }),
    resumeCommand: resumeCommandLine(record),
    inventoryShown: displayPath(record.inventory),
  });
  out(`${lines.join('\n')}\n`);
  return EXIT_OK;
};

const ACTIONS = ['list', 'show'] as const;

export const runsCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'runs', ACTIONS);
  if (values.help) {
    out(RUNS_HELP);
    return EXIT_OK;
  }
  const [action = 'list', ...rest] = positionals;
  const json = Boolean(values.json);
  switch (action) {
    case 'list': {
      if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest.join(' ')} (did you mean 'casfleet runs show ${rest[0]}'?)`);
      const filter = runFilter(values.playbook, values.inventory === undefined ? undefined : resolve(values.inventory), process.cwd());
      return listRuns(positiveInt(values.limit, '--limit') ?? DEFAULT_LIMIT, json, filter);
    }
    case 'show': {
      const [id, ...extra] = rest;
      if (!id) throw new UsageError("runs show needs a run id or 'last': 'casfleet runs show last' (see --help)");
      if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra.join(' ')} (runs show takes one run id)`);
      if (values.limit !== undefined || values.playbook !== undefined || values.inventory !== undefined) {
        throw new UsageError('--limit, --playbook and -i filter the list, not runs show');
      }
      return showRun(id, json);
    }
    default: {
      const hint = action === 'last' || /^\d/.test(action) ? `; did you mean 'casfleet runs show ${action}'?` : '';
      throw new UsageError(
        `unknown runs action '${action}'${hint || "; use 'casfleet runs' to list or 'casfleet runs show <id|last>'"} (see --help)`,
      );
    }
  }
};
