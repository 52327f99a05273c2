// Where casfleet keeps the backups it makes on a host, and how it names them. One convention, used
// by the steps that write backups and by the fact that lists them.
//
//   /var/backups/casfleet<dir of the file>/<file name>.<UTC timestamp>.<uid>-<gid>-<mode>
//   e.g. /var/backups/casfleet/batm/config/gate.properties.20250301T101500.123456789Z.0-0-644
//
// - The tree mirrors the original path (no `/`→`_` flattening, which would make /a_b and /a/b collide).
// - The owner, group and mode of the original are recorded in the name, so the backup itself can be
//   root-only (0600, directories 0700) and a restore still puts the original metadata back.
// - The timestamp sorts lexically in time order: to the microsecond (bash's $EPOCHREALTIME, padded to
//   nine digits) or the nanosecond (GNU date %N), see backupTimestamp in steps/remote-file.ts.
import { posix } from 'node:path';

export const BACKUP_ROOT = '/var/backups/casfleet';

/** One casfleet backup of a file, as listed by backupsFact. */
export interface FileBackup {
  /** Absolute path of the backup on the host. */
  readonly path: string;
  /** `20250301T101500.123456789Z` (UTC). */
  readonly timestamp: string;
  readonly uid: number;
  readonly gid: number;
  /** Octal permission bits of the original, e.g. `640`. */
  readonly mode: string;
}

/** Backup directory for `path` (an absolute, normalised file path). */
export const backupDirFor = (path: string): string => {
  const dir = posix.dirname(path);
  return dir === '/' ? BACKUP_ROOT : `${BACKUP_ROOT}${dir}`;
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Parses a backup file name of `path`; undefined for names that are not casfleet backups of it. */
export const parseBackupName = (path: string, name: string): FileBackup | undefined => {
  const base = posix.basename(path);
  const match = new RegExp(`^${escapeRegExp(base)}\\.(\\d{8}T\\d{6}(?:\\.\\d{1,9})?Z)\\.(\\d+)-(\\d+)-([0-7]{3,4})$`).exec(name);
  if (!match) return undefined;
  return {
    path: `${backupDirFor(path)}/${name}`,
    timestamp: match[1] ?? '',
    uid: Number(match[2]),
    gid: Number(match[3]),
    mode: match[4] ?? '',
  };
};
