// Applies trust-rule.ts to real paths: config files, playbooks, -e @file, a known_hosts named by
// the inventory, the run-record folder. Synchronous on purpose: a handful of lstat calls, made once
// per file before it is used, and callable from the synchronous path resolvers.

import { lstatSync, mkdirSync, realpathSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TrustError } from '../errors.ts';
import { chainProblem, type EntryKind, type EntryRole, type PathEntry, type TrustedOwners } from './trust-rule.ts';

/**
 * The invoking user and root. Under sudo, also the user who ran sudo (SUDO_UID), as git does: that
 * user can run anything as root already, so their own files add no risk.
 */
export const trustedOwners = (env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? 0): TrustedOwners => {
  const owners = [uid, 0];
  const sudoUid = env.SUDO_UID !== undefined && /^\d+$/.test(env.SUDO_UID) ? Number(env.SUDO_UID) : undefined;
  if (uid === 0 && sudoUid !== undefined) owners.push(sudoUid);
  return [...new Set(owners)];
};

const kindOf = (stats: Stats): EntryKind =>
  stats.isSymbolicLink() ? 'symlink' : stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'other';

const entryAt = (path: string): PathEntry => {
  const stats = lstatSync(path);
  return { path, kind: kindOf(stats), uid: stats.uid, mode: stats.mode & 0o7777 };
};

/** The path and each directory above it, up to `/`, as lstat sees them (symlinks not followed). */
const lexicalChain = (path: string, subjectRole: EntryRole): { entry: PathEntry; role: EntryRole }[] => {
  const chain: { entry: PathEntry; role: EntryRole }[] = [];
  for (let current = path; ; current = dirname(current)) {
    const entry = entryAt(current);
    chain.push({ entry, role: entry.kind === 'symlink' ? 'link' : current === path ? subjectRole : 'ancestor' });
    if (dirname(current) === current) return chain;
  }
};

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

export type SubjectKind = 'file' | 'directory';

/**
 * What makes `path` untrustworthy, or undefined when it is fine. Both the path as written (so a
 * symlink someone else owns is caught) and the path it resolves to are checked. Throws ENOENT when
 * the path does not exist.
 */
export const pathProblem = (
  path: string,
  kind: SubjectKind,
  owners: TrustedOwners = trustedOwners(),
  subjectRole: EntryRole = 'subject',
): string | undefined => {
  const absolute = resolve(path);
  const lexical = lexicalChain(absolute, subjectRole);
  const real = realpathSync(absolute);
  const target = real === absolute ? lexical : lexicalChain(real, subjectRole);
  const subject = target[0]!.entry;
  if (subject.kind !== kind)
    return `it is ${subject.kind === 'other' ? 'neither a regular file nor a directory' : `a ${subject.kind}`}, not a ${kind === 'file' ? 'regular file' : 'directory'}`;
  return chainProblem(lexical, owners) ?? (real === absolute ? undefined : chainProblem(target, owners));
};

const refuse = (what: string, path: string, problem: string): TrustError =>
  new TrustError(
    `refusing to use ${what} ${path}: ${problem}. casfleet only uses files that you or root own, in directories nobody else can write to (fix the owner or mode, or move it)`,
  );

/**
 * Throws a TrustError naming `what` and why, unless `path` passes the trust rule. A path that does
 * not exist is left to the caller's own "not found" message.
 */
export const assertTrustedPath = (path: string, kind: SubjectKind, what: string, owners?: TrustedOwners, subjectRole?: EntryRole): void => {
  let problem: string | undefined;
  try {
    problem = pathProblem(path, kind, owners, subjectRole);
  } catch (error) {
    if (isMissing(error)) return;
    throw new TrustError(`cannot check ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (problem !== undefined) throw refuse(what, resolve(path), problem);
};

/**
 * A directory casfleet keeps its own files in: checked when it exists; otherwise the nearest
 * existing directory above it is checked (nobody else may be able to slip something in between)
 * before it is created 0700, and then the new directory itself.
 */
export const ensureTrustedDirectory = (path: string, what: string, owners?: TrustedOwners): void => {
  const absolute = resolve(path);
  let existing = absolute;
  while (true) {
    try {
      lstatSync(existing);
      break;
    } catch (error) {
      if (!isMissing(error)) throw error;
      existing = dirname(existing);
    }
  }
  if (existing !== absolute) {
    // Only a parent: a root-owned sticky directory such as /tmp is fine to create in.
    assertTrustedPath(existing, 'directory', `the parent directory of ${what}`, owners, 'ancestor');
    mkdirSync(absolute, { recursive: true, mode: 0o700 });
  }
  assertTrustedPath(absolute, 'directory', what, owners);
};
