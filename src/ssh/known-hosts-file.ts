// Reads known_hosts files for the matcher in known-hosts.ts. A fleet run connects to hundreds of hosts
// against the same file, so each file is parsed once and re-read only when its mtime/size/inode change.

import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConnectError } from '../errors.ts';
import { parseKnownHosts, type KnownHostEntry, type ParsedKnownHosts } from './known-hosts.ts';

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
  const entries: KnownHostEntry[] = [];
  const notes: string[] = [];
  const found: string[] = [];
  for (const path of checked) {
    let parsed: ParsedKnownHosts | undefined;
    try {
      parsed = await loadOne(path);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConnectError(`cannot read known_hosts file ${path}: ${reason}`, { cause: error });
    }
    if (parsed === undefined) continue;
    found.push(path);
    entries.push(...parsed.entries);
    notes.push(...parsed.notes);
  }
  return { entries, notes, checked, found };
};
