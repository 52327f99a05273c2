// group_vars/ and host_vars/ beside the inventory file, found the way Ansible's host_group_vars
// plugin finds them: for a name, the first of `<name>` (a file, or a directory read recursively in
// sorted order), `<name>.yml`, `<name>.yaml`, `<name>.json`. Hidden files and `~` backups are
// skipped. What Ansible would silently ignore is reported as a warning instead.

import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { SourceIssue } from '../errors.ts';
import { GROUP_PRIORITY_VAR } from './connection-vars.ts';
import type { VarDefinition, VarDefinitions } from './inventory-builder.ts';
import { parseVarsFile } from './vars-file.ts';

const VARS_EXTENSIONS = ['.yml', '.yaml', '.json'];

export type VarsDirectoryKind = 'group' | 'host';

export interface VarsDirectory {
  /** Vars per group or host name, later files winning over earlier ones. */
  readonly byName: ReadonlyMap<string, VarDefinitions>;
  readonly issues: readonly SourceIssue[];
  readonly warnings: readonly SourceIssue[];
}

interface Listing {
  readonly path: string;
  readonly display: string;
  readonly entries: ReadonlyMap<string, Dirent>;
}

const isSkipped = (name: string): boolean => name.startsWith('.') || name.endsWith('~');

const list = async (path: string, display: string): Promise<Listing> => {
  try {
    const dirents = await readdir(path, { withFileTypes: true });
    const entries = dirents.filter((entry) => !isSkipped(entry.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { path, display, entries: new Map(entries.map((entry) => [entry.name, entry])) };
  } catch {
    // No group_vars/ (or not a directory) simply means no vars from there.
    return { path, display, entries: new Map() };
  }
};

/** Every vars file under a directory, depth first in sorted order; subdirectories with a dot in their name are not entered (Ansible). */
const filesUnder = async (listing: Listing): Promise<{ path: string; display: string }[]> => {
  const found: { path: string; display: string }[] = [];
  for (const [name, entry] of listing.entries) {
    const ext = extname(name);
    const path = join(listing.path, name);
    const display = join(listing.display, name);
    if (entry.isDirectory() && ext === '') found.push(...(await filesUnder(await list(path, display))));
    else if (entry.isFile() && (ext === '' || VARS_EXTENSIONS.includes(ext))) found.push({ path, display });
  }
  return found;
};

const readVars = async (file: { path: string; display: string }) => {
  try {
    return parseVarsFile(await readFile(file.path, 'utf8'), file.display);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    return {
      vars: new Map<string, VarDefinition>(),
      issues: [{ path: '', message: `${file.display}: cannot read the file (${reason})` }],
      warnings: [],
    };
  }
};

/**
 * Loads `<dir>/<name>…` for each name; `display` is how `dir` is shown in messages. Entries that
 * match no name are reported as warnings (a misspelt group silently does nothing in Ansible).
 */
export const loadVarsDirectory = async (
  dir: string,
  display: string,
  names: readonly string[],
  kind: VarsDirectoryKind,
): Promise<VarsDirectory> => {
  const listing = await list(dir, display);
  const byName = new Map<string, VarDefinitions>();
  const issues: SourceIssue[] = [];
  const warnings: SourceIssue[] = [];
  const used = new Set<string>();
  for (const name of names) {
    const candidates = [name, ...VARS_EXTENSIONS.map((ext) => name + ext)].filter((candidate) => listing.entries.has(candidate));
    const [chosen, ...shadowed] = candidates;
    if (chosen === undefined) continue;
    for (const candidate of candidates) used.add(candidate);
    for (const other of shadowed) {
      warnings.push({
        path: '',
        message: `${join(display, other)} is ignored: ${join(display, chosen)} exists, and Ansible reads only the first of ${name}, ${name}.yml, ${name}.yaml, ${name}.json`,
      });
    }
    const entry = listing.entries.get(chosen) as Dirent;
    const path = join(dir, chosen);
    const files = entry.isDirectory()
      ? await filesUnder(await list(path, join(display, chosen)))
      : [{ path, display: join(display, chosen) }];
    const merged = new Map<string, VarDefinition>();
    for (const file of files) {
      const parsed = await readVars(file);
      issues.push(...parsed.issues);
      warnings.push(...parsed.warnings);
      for (const [key, definition] of parsed.vars) merged.set(key, definition);
    }
    const priority = merged.get(GROUP_PRIORITY_VAR);
    if (kind === 'group' && priority) {
      warnings.push({
        position: priority.position,
        path: GROUP_PRIORITY_VAR,
        message: 'has no effect here: Ansible only honours it in the inventory file',
      });
    }
    byName.set(name, merged);
  }
  for (const [entryName, entry] of listing.entries) {
    const ext = extname(entryName);
    const looksLikeVars = entry.isDirectory() || ext === '' || VARS_EXTENSIONS.includes(ext);
    if (used.has(entryName) || !looksLikeVars) continue;
    const name = VARS_EXTENSIONS.includes(ext) ? entryName.slice(0, -ext.length) : entryName;
    warnings.push({ path: '', message: `${join(display, entryName)} is ignored: there is no ${kind} '${name}' in the inventory` });
  }
  return { byName, issues, warnings };
};
