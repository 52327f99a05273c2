// Who may have written a file before casfleet runs it as code, reads vars, host keys or run records
// from it: the rule of OpenSSH's StrictModes and git's safe.directory. The file and every directory
// above it must be owned by the invoking user or root and must not be writable by group or others,
// or someone else could have planted or swapped it. One exception, above the file only: a
// root-owned sticky directory such as /tmp, where nobody can rename or remove an entry they do not
// own. Pure: trusted-path.ts reads the file system.

export type EntryKind = 'file' | 'directory' | 'symlink' | 'other';

/** One path component as lstat sees it. */
export interface PathEntry {
  readonly path: string;
  readonly kind: EntryKind;
  readonly uid: number;
  /** Permission bits including setuid, setgid and sticky (st_mode & 0o7777). */
  readonly mode: number;
}

/**
 * `subject`: the file or directory itself; `ancestor`: a directory above it; `link`: a symlink on
 * the way (only its owner matters: a symlink's own mode is never used).
 */
export type EntryRole = 'subject' | 'ancestor' | 'link';

/** The uids whose files are trusted: the invoking user and root (see trustedOwners in trusted-path.ts). */
export type TrustedOwners = readonly number[];

const STICKY = 0o1000;
const GROUP_WRITE = 0o020;
const OTHER_WRITE = 0o002;

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

const ownersText = (owners: TrustedOwners): string => {
  const [you] = owners;
  return you === 0 ? 'root (you)' : `you (uid ${you}) or root`;
};

/** What is wrong with one entry in its role, or undefined when it is fine. */
export const entryProblem = (entry: PathEntry, role: EntryRole, owners: TrustedOwners): string | undefined => {
  if (!owners.includes(entry.uid)) return `is owned by uid ${entry.uid}, not by ${ownersText(owners)}`;
  if (role === 'link') return undefined;
  if ((entry.mode & (GROUP_WRITE | OTHER_WRITE)) === 0) return undefined;
  if (role === 'ancestor' && entry.kind === 'directory' && entry.uid === 0 && (entry.mode & STICKY) !== 0) return undefined;
  return `is writable by ${(entry.mode & OTHER_WRITE) !== 0 ? 'others' : 'its group'} (mode ${octal(entry.mode)})`;
};

/**
 * The first problem along a path, in words that name the component at fault, or undefined when
 * every entry passes. `entries` is the subject first, then what lies above it, each with its role.
 */
export const chainProblem = (
  entries: readonly { readonly entry: PathEntry; readonly role: EntryRole }[],
  owners: TrustedOwners,
): string | undefined => {
  for (const [index, { entry, role }] of entries.entries()) {
    const problem = entryProblem(entry, role, owners);
    if (problem === undefined) continue;
    if (index === 0 && role !== 'link') return `it ${problem}`;
    if (role === 'link') return `the symbolic link ${entry.path} on its path ${problem}`;
    return `the directory ${entry.path} above it ${problem}`;
  }
  return undefined;
};
