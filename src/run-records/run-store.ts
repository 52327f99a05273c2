// Run records on disk: one `<id>.json` per run in the runs folder. Records hold the raw -e arguments,
// which may be secrets, so the folder is 0700 and every file 0600. Writes are atomic (a temp file in
// the same folder, fsync, rename: a crash leaves the old record or the new one, never half of one)
// and serialized per record, so the executor can write after every host result without waiting.
// A record decides what `apply --resume` runs (playbook, inventory, vars), so the state directory,
// the runs folder and every record read must pass the trust rule (src/trust/trust-rule.ts): a
// record planted in a folder someone else can write to is refused, not resumed.

import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { RunRecordError, UsageError } from '../errors.ts';
import { assertTrustedPath, ensureTrustedDirectory } from '../trust/trusted-path.ts';
import { createLatestWriter } from './latest-writer.ts';
import { applyJournal, formatJournalLine, parseJournal } from './run-journal.ts';
import { RUN_ID_PATTERN, RUN_RECORD_VERSION, type RunRecord, runIdSecond, runRecordSchema } from './run-record.ts';

/** `${CASFLEET_STATE_DIR:-${XDG_STATE_HOME:-~/.local/state}/casfleet}/runs` */
export const runsDir = (env: NodeJS.ProcessEnv = process.env): string => {
  if (env.CASFLEET_STATE_DIR) return resolve(env.CASFLEET_STATE_DIR, 'runs');
  // The XDG spec says a relative XDG_STATE_HOME is invalid and must be ignored.
  const xdg = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(xdg, 'casfleet', 'runs');
};

export const runRecordPath = (id: string, dir: string = runsDir()): string => join(dir, `${id}.json`);

/** The run's journal of host results (run-journal.ts), next to its record. */
export const runJournalPath = (id: string, dir: string = runsDir()): string => join(dir, `${id}.journal`);

// `<id>.json`; temp files (`.<id>.<pid>.<random>.tmp`) and anything else in the folder never match.
const RECORD_FILE = new RegExp(`^(${RUN_ID_PATTERN.source.replace(/^\^|\$$/g, '')})\\.json$`);

// ---- writing ---------------------------------------------------------------------------------------

const STATE_DIR = 'the casfleet state directory';
const RUNS_DIR = 'the run-record folder';

/** The state directory (the runs folder's parent) and the runs folder must pass the trust rule. */
const checkRunsDir = (dir: string): void => {
  assertTrustedPath(dirname(dir), 'directory', STATE_DIR);
  assertTrustedPath(dir, 'directory', RUNS_DIR);
};

/**
 * Creates the runs folder (0700) when needed and checks it and the state directory: called before
 * an apply starts, so an untrusted folder stops the run before any host is touched rather than
 * leaving it without a record (or writing its -e values where someone else can read them).
 */
export const prepareRunsDir = (dir: string = runsDir()): void => {
  ensureTrustedDirectory(dirname(dir), STATE_DIR);
  ensureTrustedDirectory(dir, RUNS_DIR);
};

const preparedDirs = new Map<string, Promise<void>>();

/** Create the folder 0700 (or tighten it to 0700) in a trusted state directory, once per folder per process. */
const prepareDir = (dir: string): Promise<void> => {
  let prepared = preparedDirs.get(dir);
  if (!prepared) {
    prepared = (async () => {
      ensureTrustedDirectory(dirname(dir), STATE_DIR);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
      checkRunsDir(dir);
    })();
    // A failure (read-only disk, say) is retried by the next write rather than remembered.
    prepared.catch(() => preparedDirs.delete(dir));
    preparedDirs.set(dir, prepared);
  }
  return prepared;
};

const persist = async (file: string, record: RunRecord): Promise<void> => {
  // Validating here rather than in writeRunRecord costs one parse per state actually written, not
  // one per call: the writer skips intermediate states.
  const parsed = runRecordSchema.safeParse(record);
  if (!parsed.success) {
    throw new RunRecordError(`refusing to write an invalid run record to ${file}:\n  ${formatIssues(parsed.error.issues)}`);
  }
  const dir = dirname(file);
  const temp = join(dir, `.${record.id}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await prepareDir(dir);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(parsed.data, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    // The folder was removed under us: create it again on the next write.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') preparedDirs.delete(dir);
    throw new RunRecordError(`cannot write run record ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
};

const isOlder = (candidate: RunRecord, newest: RunRecord): boolean => Date.parse(candidate.updatedAt) < Date.parse(newest.updatedAt);

// A few writes a second at most: a kill -9 loses at most this much progress (those hosts are run
// again on resume, which idempotent playbooks make harmless), and a burst of host results costs a
// few writes instead of one each (a 1000-host record takes ~4 ms to validate and serialize).
export const RUN_RECORD_WRITE_INTERVAL_MS = 250;

// A large record is written less often (1 ms per host, so a 1000-host record once a second): each
// write validates the whole record, and over a long run those writes would add up to O(hosts) per
// host. What a kill could lose meanwhile is in the journal (journalHostResult) already.
const writeInterval = (record: RunRecord): number => Math.max(RUN_RECORD_WRITE_INTERVAL_MS, Object.keys(record.hosts).length);

const writer = createLatestWriter(persist, { isOlder, minIntervalMs: writeInterval });

/**
 * Write a record (atomically, 0600, folder 0700). Cheap to call after every change: writes of one
 * record start at most every RUN_RECORD_WRITE_INTERVAL_MS (longer for a large record), only the newest waiting state is written,
 * and a state older (by updatedAt) than one already accepted is dropped. Resolves once this state or
 * a newer one is on disk; rejects with a RunRecordError if that write failed, so a caller that does
 * not await must still attach a catch (an unhandled rejection ends the process).
 */
export const writeRunRecord = (record: RunRecord, dir: string = runsDir()): Promise<void> =>
  writer.write(runRecordPath(record.id, dir), record);

const journalDirs = new Set<string>();

/**
 * Append one host's entry of `record` to the run's journal, synchronously: once this returns, the
 * result survives a kill of the process. Returns the record counting that line as held.
 */
export const journalHostResult = (record: RunRecord, host: string, dir: string = runsDir()): RunRecord => {
  const entry = record.hosts[host];
  if (!entry) throw new RunRecordError(`run ${record.id} has no host '${host}'`);
  const file = runJournalPath(record.id, dir);
  if (!journalDirs.has(dir)) {
    prepareRunsDir(dir);
    journalDirs.add(dir);
  }
  try {
    const fd = openSync(file, 'a', 0o600);
    try {
      writeSync(fd, formatJournalLine(host, entry, record.updatedAt));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new RunRecordError(`cannot append to run journal ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return { ...record, journaled: (record.journaled ?? 0) + 1 };
};

/** Wait for every pending record write: call before process.exit(), which would drop them. */
export const flushRunRecords = (): Promise<void> => writer.idle();

// ---- reading ---------------------------------------------------------------------------------------

const formatIssues = (issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[]): string => {
  const lines = issues.slice(0, 10).map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  if (issues.length > 10) lines.push(`… and ${issues.length - 10} more`);
  return lines.join('\n  ');
};

/** Parse a record file's text; every problem is a RunRecordError naming the file. */
export const parseRunRecord = (text: string, file: string): RunRecord => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RunRecordError(
      `${file}: not valid JSON (${error instanceof Error ? error.message : String(error)}); the run record is corrupt`,
    );
  }
  const version = typeof json === 'object' && json !== null ? (json as { version?: unknown }).version : undefined;
  if (typeof version === 'number' && version !== RUN_RECORD_VERSION) {
    throw new RunRecordError(`${file}: run record version ${version}; this casfleet reads version ${RUN_RECORD_VERSION}`);
  }
  const parsed = runRecordSchema.safeParse(json);
  if (!parsed.success) throw new RunRecordError(`${file} is not a casfleet run record:\n  ${formatIssues(parsed.error.issues)}`);
  const match = RECORD_FILE.exec(basename(file));
  if (match && match[1] !== parsed.data.id) throw new RunRecordError(`${file} holds run ${parsed.data.id}, not ${match[1]}`);
  return parsed.data;
};

const readRecordFile = async (file: string): Promise<RunRecord> => {
  checkRunsDir(dirname(file));
  assertTrustedPath(file, 'file', 'run record');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new RunRecordError(`cannot read run record ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const record = parseRunRecord(text, file);
  return applyJournal(record, parseJournal(await readJournalText(runJournalPath(record.id, dirname(file)))));
};

/** A journal's text; a run without one (written before journals, or no host ended yet) has none. */
const readJournalText = async (file: string): Promise<string> => {
  assertTrustedPath(file, 'file', 'run journal');
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new RunRecordError(`cannot read run journal ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
};

/** The ids of the records in the folder, newest first (ids sort by start second). */
export const listRunIds = async (dir: string = runsDir()): Promise<string[]> => {
  checkRunsDir(dir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new RunRecordError(`cannot list run records in ${dir}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return names
    .map((name) => RECORD_FILE.exec(name)?.[1])
    .filter((id): id is string => id !== undefined)
    .sort()
    .reverse();
};

/**
 * Newest first. Ids order runs by start second; runs of the same second are told apart by their full
 * creation time (an unreadable record sorts last within its second).
 */
const newestFirst = (a: { id: string; record?: RunRecord }, b: { id: string; record?: RunRecord }): number => {
  const created = (entry: { record?: RunRecord }) => (entry.record ? Date.parse(entry.record.createdAt) : Number.NEGATIVE_INFINITY);
  return runIdSecond(b.id).localeCompare(runIdSecond(a.id)) || created(b) - created(a) || b.id.localeCompare(a.id);
};

const readLast = async (ids: readonly string[], dir: string): Promise<RunRecord> => {
  const second = runIdSecond(ids[0]!);
  const sameSecond = ids.filter((id) => runIdSecond(id) === second);
  if (sameSecond.length === 1) return readRecordFile(runRecordPath(ids[0]!, dir));
  const results = await Promise.allSettled(sameSecond.map((id) => readRecordFile(runRecordPath(id, dir))));
  const records = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  if (records.length === 0) throw (results[0] as PromiseRejectedResult).reason;
  return records.map((record) => ({ id: record.id, record })).sort(newestFirst)[0]!.record;
};

/** Which runs `last` may mean: only those of this playbook and/or inventory. */
export interface RunFilter {
  /** A built-in name or playbook path as typed; matches the recorded reference or name. */
  readonly playbook?: (record: RunRecord) => boolean;
  readonly inventory?: string;
  /** Words for messages: "of scenario-a on /x/prod.yml". */
  readonly describe: string;
}

export const matchesFilter = (record: RunRecord, filter: RunFilter | undefined): boolean =>
  filter === undefined ||
  ((filter.playbook?.(record) ?? true) && (filter.inventory === undefined || record.inventory === filter.inventory));

/** The newest readable record that passes the filter (newest first, a second at a time). */
const readLastMatching = async (ids: readonly string[], dir: string, filter: RunFilter): Promise<RunRecord> => {
  const seconds = [...new Set(ids.map(runIdSecond))];
  for (const second of seconds) {
    const sameSecond = ids.filter((id) => runIdSecond(id) === second);
    const results = await Promise.allSettled(sameSecond.map((id) => readRecordFile(runRecordPath(id, dir))));
    const records = results.flatMap((result) =>
      result.status === 'fulfilled' && matchesFilter(result.value, filter) ? [result.value] : [],
    );
    if (records.length > 0) return records.map((record) => ({ id: record.id, record })).sort(newestFirst)[0]!.record;
  }
  throw new UsageError(`no run ${filter.describe} in ${dir}; \`casfleet runs\` lists the runs there`);
};

/**
 * One record: `last` (the newest, or with a filter the newest of that playbook and inventory), a
 * full id, or a unique prefix of one (`20261121T1308`). Unknown or ambiguous ids are UsageErrors;
 * an unreadable or invalid file is a RunRecordError.
 */
export const readRunRecord = async (idOrLast: string, dir: string = runsDir(), filter?: RunFilter): Promise<RunRecord> => {
  const ids = await listRunIds(dir);
  if (idOrLast === 'last') {
    if (ids.length === 0) throw new UsageError(`no run records in ${dir} yet; \`casfleet apply\` writes one per run`);
    return filter === undefined ? readLast(ids, dir) : readLastMatching(ids, dir, filter);
  }
  if (ids.includes(idOrLast)) return readRecordFile(runRecordPath(idOrLast, dir));
  const matches = idOrLast === '' ? [] : ids.filter((id) => id.startsWith(idOrLast));
  if (matches.length === 1) return readRecordFile(runRecordPath(matches[0]!, dir));
  if (matches.length > 1) {
    const shown = matches.slice(0, 5).join(', ');
    throw new UsageError(
      `run id '${idOrLast}' matches ${matches.length} run records (${shown}${matches.length > 5 ? ', …' : ''}); give more of the id`,
    );
  }
  throw new UsageError(`no run record '${idOrLast}' in ${dir}; \`casfleet runs\` lists them`);
};

export type RunListEntry =
  | { readonly id: string; readonly file: string; readonly record: RunRecord }
  | { readonly id: string; readonly file: string; readonly error: string };

export interface RunListing {
  readonly dir: string;
  /** Every record file in the folder, including those not read because of `limit`. */
  readonly total: number;
  /** Newest first; a file that cannot be read or validated is an entry with `error`, not a failure. */
  readonly entries: readonly RunListEntry[];
}

/**
 * The newest `limit` records (all by default), newest first; with a filter, only the runs of that
 * playbook and inventory (unreadable files are left out then: they match nothing).
 */
export const listRunRecords = async (
  options: { readonly dir?: string; readonly limit?: number; readonly filter?: RunFilter } = {},
): Promise<RunListing> => {
  const dir = options.dir ?? runsDir();
  const { filter } = options;
  if (filter !== undefined) {
    const all = await listRunRecords({ dir });
    const matching = all.entries.filter((entry) => 'record' in entry && matchesFilter(entry.record, filter));
    return { dir, total: matching.length, entries: options.limit === undefined ? matching : matching.slice(0, options.limit) };
  }
  const ids = await listRunIds(dir);
  // Ids order by second; a limit that cuts between two runs of the same second may pick either.
  const chosen = options.limit === undefined ? ids : ids.slice(0, options.limit);
  const entries = await Promise.all(
    chosen.map(async (id): Promise<RunListEntry> => {
      const file = runRecordPath(id, dir);
      try {
        return { id, file, record: await readRecordFile(file) };
      } catch (error) {
        return { id, file, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  return { dir, total: ids.length, entries: [...entries].sort(newestFirst) };
};
