// Reads known_hosts files for the matcher in known-hosts.ts. A fleet run connects to hundreds of hosts
// against the same file, so each file is parsed once and re-read only when its mtime/size/inode change.
//
// Nor is the file stat()ed per connect (a thread-pool round trip each: 1000 hosts, 2000 connects).
// Once read, a file is trusted until a change signal: an inotify watch (fs.watch) on its folder, set
// up before the stat so no edit after it goes unseen, reports any write, rename or removal of the
// file. The kernel queues that event during the editing write itself; the event loop hands it over
// at its next poll. What a stale copy could get wrong in between:
// - a key added since (a host added, `ssh-keyscan >> known_hosts`): the lookup finds no match, and a
//   lookup that fails is judged again against the files as they are now (reverifyHostKey: stat, and
//   a re-read if they changed). So an edit is always seen by the next connect that needs it;
// - a key removed or marked @revoked since: accepted only until the event is handed over, a few
//   milliseconds, never for a whole run. Where no watch can be set up, every load stats, as before.

import { randomBytes } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ConnectError } from '../errors.ts';
import {
  type HostKeyVerdict,
  isHashedFile,
  type KnownHostEntry,
  knownHostsLine,
  type ParsedKnownHosts,
  parseKnownHosts,
  verifyHostKey,
} from './known-hosts.ts';

export interface LoadedKnownHosts {
  readonly entries: readonly KnownHostEntry[];
  readonly notes: readonly string[];
  /** Every path that was looked at (after `~` expansion), found or not: named in host-key errors. */
  readonly checked: readonly string[];
  /** The subset that exists. */
  readonly found: readonly string[];
}

interface CacheSlot {
  readonly stamp: string;
  /** undefined: the file does not exist. */
  readonly parsed: Promise<ParsedKnownHosts | undefined>;
  /** Set while a watch vouches that the file has not changed since its stamp was taken. */
  trusted: boolean;
}

const cache = new Map<string, CacheSlot>();

interface Watch {
  /** Changes signalled so far; a stamp taken across a change is not trusted. */
  changes: number;
  readonly watcher?: FSWatcher;
}

const watches = new Map<string, Watch>();

const distrust = (path: string): void => {
  const slot = cache.get(path);
  if (slot) slot.trusted = false;
};

/** The watch of a file (created once per path); without a watcher the file is stat()ed on every load. */
const watchOf = (path: string): Watch => {
  let entry = watches.get(path);
  if (entry) return entry;
  const name = basename(path);
  try {
    // The folder, not the file: editors and ssh-keygen -R replace the file by a rename, and a file
    // missing now may be created later. Not persistent: a watch never keeps the process alive.
    const watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      entry!.changes += 1;
      distrust(path);
    });
    entry = { changes: 0, watcher };
    watcher.on('error', () => {
      watcher.close();
      watches.set(path, { changes: 0 });
      distrust(path);
    });
  } catch {
    entry = { changes: 0 };
  }
  watches.set(path, entry);
  return entry;
};

const merged = new Map<string, { readonly files: readonly (ParsedKnownHosts | undefined)[]; readonly result: LoadedKnownHosts }>();

const expandHome = (path: string): string => (path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path);

const isMissing = (error: unknown): boolean =>
  error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');

const MISSING = 'missing';

const loadOne = async (path: string, revalidate: boolean): Promise<ParsedKnownHosts | undefined> => {
  const hit = cache.get(path);
  if (hit?.trusted && !revalidate) return hit.parsed;
  const signal = watchOf(path);
  const changesBefore = signal.changes;
  let stamp: string;
  try {
    const info = await stat(path);
    stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
  } catch (error) {
    if (!isMissing(error)) throw error;
    stamp = MISSING;
  }
  const trusted = signal.watcher !== undefined && signal.changes === changesBefore;
  const current = cache.get(path);
  if (current?.stamp === stamp) {
    current.trusted = trusted;
    return current.parsed;
  }
  // The promise itself is cached so that hundreds of simultaneous connects share one read.
  const parsed = stamp === MISSING ? Promise.resolve(undefined) : readFile(path, 'utf8').then((text) => parseKnownHosts(text, path));
  cache.set(path, { stamp, parsed, trusted });
  parsed.catch(() => cache.delete(path));
  return parsed;
};

/**
 * Loads and merges the files in order. Missing files are fine (strictness rejects unknown hosts later).
 * `revalidate`: look at the files now (stat) even where a watch vouches for the copy in memory.
 */
export const loadKnownHosts = async (paths: readonly string[], { revalidate = false } = {}): Promise<LoadedKnownHosts> => {
  const checked = paths.map(expandHome);
  const files: (ParsedKnownHosts | undefined)[] = [];
  for (const path of checked) {
    try {
      files.push(await loadOne(path, revalidate));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConnectError(`cannot read known_hosts file ${path}: ${reason}`, { cause: error });
    }
  }
  // The same merged value while no file changed: the host lookup index (known-hosts.ts) is kept
  // per entries array, and merging 1000 entries per connection would cost O(n²) over a fleet too.
  const key = checked.join('\0');
  const previous = merged.get(key);
  if (previous && previous.files.length === files.length && previous.files.every((file, position) => file === files[position]))
    return previous.result;
  const entries: KnownHostEntry[] = [];
  const notes: string[] = [];
  const found: string[] = [];
  files.forEach((parsed, position) => {
    if (parsed === undefined) return;
    found.push(checked[position]!);
    entries.push(...parsed.entries);
    notes.push(...parsed.notes);
  });
  const result = { entries, notes, checked, found };
  merged.set(key, { files, result });
  return result;
};

/**
 * A presented key the loaded files do not vouch for, judged again against the files as they are
 * now (see the file comment): the verdict, and the files it was reached with (for its error).
 */
export const reverifyHostKey = async (
  loaded: LoadedKnownHosts,
  host: string,
  port: number,
  keyBlob: Buffer,
): Promise<{ verdict: HostKeyVerdict; knownHosts: LoadedKnownHosts }> => {
  const knownHosts = await loadKnownHosts(loaded.checked, { revalidate: true });
  return { verdict: verifyHostKey(knownHosts.entries, host, port, keyBlob), knownHosts };
};

export interface AddedKey {
  readonly file: string;
  readonly line: string;
}

// Appends to one file are serialised: hundreds of first contacts may finish their key exchange at once.
const appending = new Map<string, Promise<unknown>>();

/**
 * Adds a host key to a known_hosts file (created 0600 in a 0700 folder if missing), hashed when asked
 * or when the file is hashed already. Re-reads the file first: a key added meanwhile (another
 * connection to the same host) is not written twice, and a conflicting one is not overridden.
 * Returns what was written, or undefined when the file already vouches for the key.
 */
export const addKnownHost = (file: string, host: string, port: number, keyBlob: Buffer, hash: boolean): Promise<AddedKey | undefined> => {
  const path = expandHome(file);
  const previous = appending.get(path) ?? Promise.resolve();
  const next = previous
    .catch(() => undefined)
    .then(async () => {
      const current = await loadKnownHosts([path], { revalidate: true });
      const verdict = verifyHostKey(current.entries, host, port, keyBlob);
      if (verdict.ok) return undefined;
      if (verdict.reason !== 'unknown')
        throw new ConnectError(`not adding a key for ${host} to ${path}: the file has another key for it now`);
      const line = knownHostsLine(host, port, keyBlob, hash || isHashedFile(current.entries, path) ? randomBytes(20) : undefined);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const existing = await readFile(path, 'utf8').catch(() => '');
      await appendFile(path, `${existing === '' || existing.endsWith('\n') ? '' : '\n'}${line}\n`, { mode: 0o600 });
      return { file: path, line };
    });
  appending.set(path, next);
  return next;
};
