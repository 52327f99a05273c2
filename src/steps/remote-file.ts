// Shell for changing files on a host safely (DESIGN §4): back up first (timestamped, root-only, under
// /var/backups/casfleet, see facts/backup-name.ts), write to a temp file in the SAME directory (so the
// final rename is atomic), give it the owner/group/mode the facts recorded, then rename over the
// target. New content arrives base64-encoded on stdin: never on the command line (ps, logs, ARG_MAX),
// and every byte survives the trip (Latin-1 .properties, CR, no final newline).
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { raw, sh, type RemoteCommand } from '../command/shell.ts';
import { BACKUP_ROOT, backupDirFor } from '../facts/backup-name.ts';

/** Owner, group and permission bits to give a written file. */
export interface FileMeta {
  readonly uid: number;
  readonly gid: number;
  /** Octal, e.g. `640`. */
  readonly mode: string;
}

/** SHA-256 (hex) of a Latin-1 binary string, as `sha256sum` prints it for the same bytes. */
export const sha256Latin1 = (content: string): string => createHash('sha256').update(Buffer.from(content, 'latin1')).digest('hex');

/** A Latin-1 binary string as base64, the stdin of atomicWriteCommand. */
export const toBase64 = (content: string): string => Buffer.from(content, 'latin1').toString('base64');

// Fails (exit 3) when the file is not what the plan was computed from: someone edited it between the
// fact gathering and the apply, and writing now would silently drop their change.
const guardUnchanged = (expectedSha256: string): RemoteCommand => sh`current=$(sha256sum < "$target" | cut -c1-64) || current=
[ "$current" = ${expectedSha256} ] || { echo "casfleet: $target changed since its facts were read; not touching it" >&2; exit 3; }`;

// The same for a file the plan creates: it must still be absent. Its directory is created when
// missing, readable by all (0755, like the /etc directories casfleet writes into).
const guardAbsent = (path: string): RemoteCommand => sh`if [ -e "$target" ] || [ -L "$target" ]; then echo "casfleet: $target appeared since its facts were read; not touching it" >&2; exit 3; fi
( umask 022 && mkdir -p -- ${posix.dirname(path)} )`;

/** Copies "$target" to a new root-only backup named after the time and the file's uid-gid-mode. */
export const backupSnippet = (path: string): RemoteCommand => sh`mkdir -p -- ${backupDirFor(path)}
chmod 700 ${BACKUP_ROOT}
ts=$(date -u +%Y%m%dT%H%M%S.%NZ)
case $ts in *N*) ts=$(date -u +%Y%m%dT%H%M%SZ) ;; esac
backup=${backupDirFor(path)}/${posix.basename(path)}.$ts.$(stat -c '%u-%g-%a' -- "$target")
cp -- "$target" "$backup"
chmod 600 -- "$backup"
echo "backup: $backup"`;

const prelude = (path: string): RemoteCommand => sh`set -eu
umask 077
target=${path}`;

// A temp file next to the target (same filesystem, so `mv` is an atomic rename), removed on failure.
const tempNextTo = (path: string): RemoteCommand =>
  sh`tmp=$(mktemp -- ${posix.dirname(path)}/.${posix.basename(path)}.casfleet.XXXXXX)
trap 'rm -f -- "$tmp"' EXIT`;

const install = ({ uid, gid, mode }: FileMeta): RemoteCommand => sh`chown ${`${uid}:${gid}`} -- "$tmp"
chmod ${mode} -- "$tmp"
mv -f -- "$tmp" "$target"
trap - EXIT`;

/**
 * Write `path` from the base64 content on stdin, giving it `meta`. `expectedSha256` is the content
 * the plan saw: the file is backed up, then replaced, and the write refuses if the file changed
 * meanwhile; `null` means the plan saw no file: it is created, and the write refuses if one appeared.
 */
export const atomicWriteCommand = (path: string, meta: FileMeta, expectedSha256: string | null): RemoteCommand => sh`${prelude(path)}
${expectedSha256 === null ? guardAbsent(path) : sh`${guardUnchanged(expectedSha256)}
${backupSnippet(path)}`}
${tempNextTo(path)}
base64 -d > "$tmp"
${install(meta)}
echo "wrote: $target"`;

/** Back up `path` (when `backup`) and remove it; a no-op when it is already gone. */
export const removeFileCommand = (path: string, backup: boolean): RemoteCommand => sh`${prelude(path)}
if [ ! -e "$target" ] && [ ! -L "$target" ]; then echo "already absent: $target"; exit 0; fi
[ -f "$target" ] && [ ! -L "$target" ] || { echo "casfleet: $target is not a regular file; not removing it" >&2; exit 3; }
${backup ? backupSnippet(path) : raw('')}
rm -f -- "$target"
echo "removed: $target"`;

/** Restore `path` from `backupPath` with `meta`; refuses if `path` exists by then. */
export const restoreFileCommand = (path: string, backupPath: string, meta: FileMeta): RemoteCommand => sh`${prelude(path)}
if [ -e "$target" ] || [ -L "$target" ]; then echo "casfleet: $target exists now; not restoring over it" >&2; exit 3; fi
${tempNextTo(path)}
cp -- ${backupPath} "$tmp"
${install(meta)}
echo "restored: $target from" ${backupPath}`;
