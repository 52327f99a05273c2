// Reads known_hosts files for the matcher in known-hosts.ts. A fleet run connects to hundreds of hosts
// against the same file, so each file is parsed once and re-read only when its mtime/size/inode change.

import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConnectError } from '../errors.ts';
import { isHashedFile, type KnownHostEntry, knownHostsLine, type ParsedKnownHosts, parseKnownHosts, verifyHostKey } from './known-hosts.ts';

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
  readonly parsed: Promise<ParsedKnownHosts>;
}

const cache = new Map<string, CacheSlot>();

const merged = new Map<string, { readonly files: readonly (ParsedKnownHosts | undefined)[]; readonly result: LoadedKnownHosts }>();

const expandHome = (path: string): string => (path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path);

const isMissing = (error: unknown): boolean =>
  error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');

const loadOne = async (path: string): Promise<ParsedKnownHosts | undefined> => {
  let stamp: string;
  try {
    const info = await stat(path);
    stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  const hit = cache.get(path);
  if (hit?.stamp === stamp) return hit.parsed;
  // The promise itself is cached so that hundreds of simultaneous connects share one read.
  const parsed = readFile(path, 'utf8').then((text) => parseKnownHosts(text, path));
  cache.set(path, { stamp, parsed });
  parsed.catch(() => cache.delete(path));
  return parsed;
};

/** Loads and merges the files in order. Missing files are fine (strictness rejects unknown hosts later). */
export const loadKnownHosts = async (paths: readonly string[]): Promise<LoadedKnownHosts> => {
  const checked = paths.map(expandHome);
  const files: (ParsedKnownHosts | undefined)[] = [];
  for (const path of checked) {
    try {
      files.push(await loadOne(path));
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
      const current = await loadKnownHosts([path]);
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
