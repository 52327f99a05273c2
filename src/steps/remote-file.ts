// Shell for changing files on a host safely (DESIGN §4): back up first (timestamped, root-only, under
// /var/backups/casfleet, see facts/backup-name.ts), write to a temp file in the SAME directory (so the
// final rename is atomic), give it the owner/group/mode the facts recorded, then rename over the
// target. New content arrives base64-encoded on stdin: never on the command line (ps, logs, ARG_MAX),
// and every byte survives the trip (Latin-1 .properties, CR, no final newline).
//
// What the shell refuses to trust (each refusal exits 3 with the reason, before the file changes):
// - The backup tree. /var/backups/casfleet is created root-owned 0700; it, every directory above it
//   and every directory below it must be a real directory (never a symlink), owned by root and
//   writable by nobody else. Directories below it are created one at a time, so none is ever reached
//   through a symlink, and a backup is written to a fresh mktemp file and renamed into place.
// - A backup to restore: a regular root-owned 0600 file with one link, in such a tree. The owner and
//   mode recorded in its name must be sane: not world-writable, no setuid/setgid/sticky bit, owned by
//   a system account (below UID_MIN/GID_MIN of /etc/login.defs) or a batm account (CAS's services
//   run as batm users [I]).
// - A transfer: the decoded content must have the length and SHA-256 the planner computed, or a
//   connection cut mid-transfer would replace the file with the part that arrived. The temp file
//   and its directory are fsynced before the rename and the directory after it, so a crash leaves
//   the old file or the new one, whole.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { type RemoteCommand, raw, sh } from '../command/shell.ts';
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

/** Why a recorded mode (octal text) must not be given to a restored file, or undefined when it is sane. */
export const insaneMode = (mode: string): string | undefined => {
  if (!/^[0-7]{3}$/.test(mode)) return `mode ${mode} carries a setuid, setgid or sticky bit`;
  if ((Number.parseInt(mode, 8) & 0o002) !== 0) return `mode ${mode} is world-writable`;
  return undefined;
};

// Fails (exit 3) when the file is not what the plan was computed from: someone edited it between the
// fact gathering and the apply, and writing now would silently drop their change.
const guardUnchanged = (expectedSha256: string): RemoteCommand => sh`current=$(sha256sum < "$target" | cut -c1-64) || current=
[ "$current" = ${expectedSha256} ] || { echo "casfleet: $target changed since its facts were read; not touching it" >&2; exit 3; }`;

// cf_trusted_dirs DIR...: each a real directory (not a symlink), owned by root and writable by
// nobody else; one stat for all of them. Exits the script (3) with the reason otherwise.
const trustedDirsFunction = sh`cf_refuse() { echo "casfleet: $*" >&2; exit 3; }
cf_trusted_dirs() {
  for d in "$@"; do
    [ ! -L "$d" ] || cf_refuse "$d is a symbolic link; refusing to keep or read backups through it"
    [ -d "$d" ] || cf_refuse "$d is not a directory; refusing to keep or read backups in it"
  done
  stat -c '%u %a %n' -- "$@" | while read -r uid mode name; do
    [ "$uid" = 0 ] || cf_refuse "$name is owned by uid $uid, not root; refusing to keep or read backups in it"
    [ $(( 0$mode & 022 )) -eq 0 ] || cf_refuse "$name is writable by group or others (mode $mode); refusing to keep or read backups in it"
  done || exit 3
}`;

/** The directories from `/` down to `dir` (a directory at or below BACKUP_ROOT). */
const backupChain = (dir: string): string[] => {
  if (dir !== BACKUP_ROOT && !dir.startsWith(`${BACKUP_ROOT}/`)) throw new Error(`${dir} is not under ${BACKUP_ROOT}`);
  const chain: string[] = [];
  for (let current = dir; ; current = posix.dirname(current)) {
    chain.unshift(current);
    if (current === '/') return chain;
  }
};

// Checks (and, when `create`, makes) the backup tree down to `dir`; see the module comment. When
// it is all there (every backup but the first), one stat checks it; otherwise it is made top down,
// each directory only after its parent passed: /var/backups, if missing, as Debian makes it (0755),
// casfleet's own directories 0700.
const backupTree = (dir: string, create: boolean): RemoteCommand => {
  const chain = backupChain(dir);
  if (!create)
    return sh`${trustedDirsFunction}
cf_trusted_dirs ${chain}`;
  return sh`${trustedDirsFunction}
missing=
for d in ${chain}; do [ -e "$d" ] || [ -L "$d" ] || missing=yes; done
if [ -z "$missing" ]; then
  cf_trusted_dirs ${chain}
else
  for d in ${chain}; do
    [ -e "$d" ] || [ -L "$d" ] || case $d in ${posix.dirname(BACKUP_ROOT)}) mkdir -m 755 -- "$d" ;; *) mkdir -m 700 -- "$d" ;; esac
    cf_trusted_dirs "$d"
  done
fi
chmod 700 -- ${BACKUP_ROOT}`;
};

/** Makes (or checks) the backup tree down to `dir`, refusing (exit 3) links and foreign owners on the way. */
export const trustedBackupDir = (dir: string): RemoteCommand => backupTree(dir, true);

// The same for a file the plan creates: it must still be absent. Its directory is created when
// missing, readable by all (0755, like the /etc directories casfleet writes into).
const guardAbsent = (
  path: string,
): RemoteCommand => sh`if [ -e "$target" ] || [ -L "$target" ]; then echo "casfleet: $target appeared since its facts were read; not touching it" >&2; exit 3; fi
( umask 022 && mkdir -p -- ${posix.dirname(path)} )`;

/** Copies "$target" to a new root-only backup named after the time and the file's uid-gid-mode. */
export const backupSnippet = (path: string): RemoteCommand => {
  const dir = backupDirFor(path);
  const base = posix.basename(path);
  return sh`${backupTree(dir, true)}
ts=$(date -u +%Y%m%dT%H%M%S.%NZ)
case $ts in *N*) ts=$(date -u +%Y%m%dT%H%M%SZ) ;; esac
backup=${dir}/${base}.$ts.$(stat -c '%u-%g-%a' -- "$target")
backup_tmp=$(mktemp -- ${dir}/.${base}.XXXXXX)
cp -- "$target" "$backup_tmp"
chmod 600 -- "$backup_tmp"
sync -- "$backup_tmp"
mv -fT -- "$backup_tmp" "$backup"
backup_tmp=
sync -- ${dir}
echo "backup: $backup"`;
};

// Temp files are removed on any exit that did not rename them into place.
const prelude = (path: string): RemoteCommand => sh`set -eu
umask 077
target=${path}
tmp=
backup_tmp=
trap '[ -z "$tmp" ] || rm -f -- "$tmp"; [ -z "$backup_tmp" ] || rm -f -- "$backup_tmp"' EXIT`;

const regularTarget = (action: string): RemoteCommand =>
  sh`[ -f "$target" ] && [ ! -L "$target" ] || { echo "casfleet: $target is not a regular file; not ${raw(action)} it" >&2; exit 3; }`;

// A temp file next to the target (same filesystem, so `mv` is an atomic rename).
const tempNextTo = (path: string): RemoteCommand => sh`tmp=$(mktemp -- ${posix.dirname(path)}/.${posix.basename(path)}.casfleet.XXXXXX)`;

const install = (path: string, { uid, gid, mode }: FileMeta): RemoteCommand => sh`chown ${`${uid}:${gid}`} -- "$tmp"
chmod ${mode} -- "$tmp"
sync -- "$tmp" ${posix.dirname(path)}
mv -fT -- "$tmp" "$target"
tmp=
sync -- ${posix.dirname(path)}`;

/** The bytes a write must have received before they may replace the file. */
const verifyReceived = (content: string): RemoteCommand => {
  const bytes = Buffer.byteLength(content, 'latin1');
  return sh`received=$(wc -c < "$tmp" | tr -d ' ')
[ "$received" = ${String(bytes)} ] || { echo "casfleet: received $received of ${raw(String(bytes))} bytes for $target (transfer cut short?); not touching it" >&2; exit 3; }
[ "$(sha256sum < "$tmp" | cut -c1-64)" = ${sha256Latin1(content)} ] || { echo "casfleet: the content received for $target does not match its checksum; not touching it" >&2; exit 3; }`;
};

/**
 * Write `path` with `content`, which travels base64-encoded on stdin (toBase64), giving it `meta`;
 * refuses if what arrived is not exactly `content`. `expectedSha256` is the content the plan saw:
 * the file is backed up, then replaced, and the write refuses if the file changed meanwhile; `null`
 * means the plan saw no file: it is created, and the write refuses if one appeared.
 */
export const atomicWriteCommand = (
  path: string,
  meta: FileMeta,
  expectedSha256: string | null,
  content: string,
): RemoteCommand => sh`${prelude(path)}
${
  expectedSha256 === null
    ? guardAbsent(path)
    : sh`${regularTarget('writing')}
${guardUnchanged(expectedSha256)}
${backupSnippet(path)}`
}
${tempNextTo(path)}
base64 -d > "$tmp"
${verifyReceived(content)}
${install(path, meta)}
echo "wrote: $target"`;

/** Back up `path` (when `backup`) and remove it; a no-op when it is already gone. */
export const removeFileCommand = (path: string, backup: boolean): RemoteCommand => sh`${prelude(path)}
if [ ! -e "$target" ] && [ ! -L "$target" ]; then echo "already absent: $target"; exit 0; fi
${regularTarget('removing')}
${backup ? backupSnippet(path) : raw('')}
rm -f -- "$target"
sync -- ${posix.dirname(path)}
echo "removed: $target"`;

// The recorded owner must be a system account (below UID_MIN / GID_MIN) or a batm account.
const saneOwner = ({
  uid,
  gid,
}: FileMeta): RemoteCommand => sh`uid_min=$(awk '$1 == "UID_MIN" { print $2 }' /etc/login.defs 2>/dev/null || true)
gid_min=$(awk '$1 == "GID_MIN" { print $2 }' /etc/login.defs 2>/dev/null || true)
if [ ${String(uid)} -ge "\${uid_min:-1000}" ]; then
  case "$(getent passwd ${String(uid)} | cut -d: -f1)" in
    batm*) ;;
    *) echo "casfleet: the backup records owner uid ${raw(String(uid))}, neither a system account nor a batm account; not restoring it" >&2; exit 3 ;;
  esac
fi
if [ ${String(gid)} -ge "\${gid_min:-1000}" ]; then
  case "$(getent group ${String(gid)} | cut -d: -f1)" in
    batm*) ;;
    *) echo "casfleet: the backup records group gid ${raw(String(gid))}, neither a system group nor a batm group; not restoring it" >&2; exit 3 ;;
  esac
fi`;

/** Restore `path` from `backupPath` with `meta`; refuses if `path` exists by then, or anything above fails. */
export const restoreFileCommand = (path: string, backupPath: string, meta: FileMeta): RemoteCommand => {
  const modeProblem = insaneMode(meta.mode);
  return sh`${prelude(path)}
if [ -e "$target" ] || [ -L "$target" ]; then echo "casfleet: $target exists now; not restoring over it" >&2; exit 3; fi
${modeProblem ? sh`echo ${`casfleet: the backup records ${modeProblem}; not restoring it`} >&2; exit 3` : raw(':')}
${backupTree(posix.dirname(backupPath), false)}
backup=${backupPath}
[ -f "$backup" ] && [ ! -L "$backup" ] || cf_refuse "$backup is not a regular file; not restoring from it"
set -- $(stat -c '%u %a %h' -- "$backup")
[ "$1" = 0 ] && [ "$2" = 600 ] && [ "$3" = 1 ] || cf_refuse "$backup is not a root-only (0600, one link) casfleet backup (uid $1, mode $2, $3 links); not restoring from it"
${saneOwner(meta)}
${tempNextTo(path)}
cp -- "$backup" "$tmp"
${install(path, meta)}
echo "restored: $target from $backup"`;
};
