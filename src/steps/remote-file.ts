// Shell for changing files on a host safely (DESIGN §4): back up first (timestamped, root-only, under
// /var/backups/casfleet, see facts/backup-name.ts), write to a temp file in the SAME directory (so the
// final rename is atomic), give it the owner/group/mode the facts recorded, then rename over the
// target. New content never travels on the command line (ps, logs, ARG_MAX): it comes on stdin, or
// in the exec chain as a variable of the frame (command/stdin-parts.ts), as it is when it is plain
// text, else base64-encoded, so every byte survives the trip (Latin-1 .properties, CR, no final
// newline).
//
// What the shell refuses to trust (each refusal exits 3 with the reason, before the file changes):
// - The backup tree. /var/backups/casfleet is created root-owned 0700; it, every directory above it
//   and every directory below it must be a real directory (never a symlink), owned by root and
//   writable by nobody else. Directories below it are created one at a time, so none is ever reached
//   through a symlink, and a backup is written to a new temp file (O_EXCL) and renamed into place.
// - A backup to restore: a regular root-owned 0600 file with one link, in such a tree. The owner and
//   mode recorded in its name must be sane: not world-writable, no setuid/setgid/sticky bit, owned by
//   a system account (below UID_MIN/GID_MIN of /etc/login.defs) or a batm account (CAS's services
//   run as batm users [I]).
// - The file to replace: it must still hold what the plan was computed from (checked on the copy
//   that becomes its backup), or a created file must still be absent.
// - A transfer: the decoded content must have the SHA-256 the planner computed (and so its length,
//   which is read only to report a cut transfer), or a connection cut mid-transfer would replace the
//   file with the part that arrived. The temp file and its directory are fsynced before the rename
//   and the directory after it, so a crash leaves the old file or the new one, whole. A backed-up
//   write syncs the backup's temp file in the same call, then renames the backup into place and
//   syncs its directory before the target is replaced.
//
// Every process a script starts costs the host CPU (1.5-2 ms each): the shell takes the digest out
// of sha256sum's output (one sha256sum for the backup copy and the received content), one stat reads
// the backup tree and the file it backs up or restores, the backup root is chmodded only when that
// stat shows it is not 0700, and bash names a backup without date.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { isPrintableAscii } from '../command/plain-text.ts';
import { type RawText, type RemoteCommand, raw, sh } from '../command/shell.ts';
import { IN_FRAME, partRef, type StdinParts } from '../command/stdin-parts.ts';
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

/** Why a recorded mode (octal text) must not be given to a restored file, or undefined when it is sane. */
export const insaneMode = (mode: string): string | undefined => {
  if (!/^[0-7]{3}$/.test(mode)) return `mode ${mode} carries a setuid, setgid or sticky bit`;
  if ((Number.parseInt(mode, 8) & 0o002) !== 0) return `mode ${mode} is world-writable`;
  return undefined;
};

// The checks of one directory of the backup tree: "$d" by type (before it is read), then "$uid",
// "$mode" and "$name" from its stat. Shared by cf_trusted_dirs and cf_tree_stat.
const dirTypeChecks = sh`    [ ! -L "$d" ] || cf_refuse "$d is a symbolic link; refusing to keep or read backups through it"
    [ -d "$d" ] || cf_refuse "$d is not a directory; refusing to keep or read backups in it"`;
const dirOwnerChecks = sh`    [ "$uid" = 0 ] || cf_refuse "$name is owned by uid $uid, not root; refusing to keep or read backups in it"
    [ $(( 0$mode & 022 )) -eq 0 ] || cf_refuse "$name is writable by group or others (mode $mode); refusing to keep or read backups in it"`;
const refuseFunction = sh`cf_refuse() { echo "casfleet: $*" >&2; exit 3; }`;
// The backup root is made private when its stat shows it is not (a chmod is a process on the host).
const privateRootCheck = sh`\n    [ "$name" != ${BACKUP_ROOT} ] || [ "$mode" = 700 ] || chmod 700 -- "$name" || cf_refuse "cannot make $name private (chmod 700)"`;

// cf_trusted_dirs DIR...: each a real directory (not a symlink), owned by root and writable by
// nobody else; one stat for all of them, whose lines are read in this shell (a here-document: a
// pipe into the loop would fork a subshell for it), which also makes the backup root 0700 when it
// is not. Exits the script (3) with the reason otherwise, also when stat cannot read one of them.
const trustedDirsFunction = sh`${refuseFunction}
cf_trusted_dirs() {
  for d in "$@"; do
${dirTypeChecks}
  done
  cf_stats=$(stat -c '%u %a %n' -- "$@") || cf_refuse "cannot read the owner and mode of $*"
  while read -r uid mode name; do
${dirOwnerChecks}${privateRootCheck}
  done <<EOF
$cf_stats
EOF
}`;

// cf_tree_stat FILE DIR...: the same checks of the DIRs, and FILE's uid, gid, mode and link count
// (in file_uid, file_gid, file_mode, file_links) from the same stat: a backup's name records its
// original's owner and mode, a restore checks the backup's. The same stat reads the owner and mode
// of the temp file "$tmp", when there is one (tmp_uid, tmp_gid, tmp_mode), so that `install` chowns
// and chmods it only when it must, and the time it was made (tmp_day, tmp_time, tmp_zone: %y in
// UTC), which names a backup without a clock process (backupTimestamp). The stat lines are read in
// this shell (a here-document, not a pipe), so with `privateRoot` the backup root is made 0700 only
// when the stat shows it is not.
const treeStatFunction = (privateRoot: boolean): RemoteCommand => sh`${refuseFunction}
cf_tree_stat() {
  cf_file=$1
  shift
  for d in "$@"; do
${dirTypeChecks}
  done
  cf_stats=$(TZ=UTC0 stat -c '%u %g %a %h %y %n' -- "$cf_file" \${tmp:+"$tmp"} "$@") || cf_refuse "cannot read the owner and mode of $cf_file and its backup directories"
  { read -r file_uid file_gid file_mode file_links file_day file_time file_zone file_name
  [ -z "$tmp" ] || read -r tmp_uid tmp_gid tmp_mode tmp_links tmp_day tmp_time tmp_zone tmp_name
  while read -r uid gid mode links day clock zone name; do
${dirOwnerChecks}${privateRoot ? privateRootCheck : raw('')}
  done; } <<EOF
$cf_stats
EOF
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

// Whether any directory of the backup tree is missing (only before the first backup), and how one is
// made: /var/backups, if missing, as Debian makes it (0755), casfleet's own directories 0700.
const findMissing = (chain: readonly string[]): RemoteCommand => sh`missing=
for d in ${chain}; do [ -e "$d" ] || [ -L "$d" ] || missing=yes; done`;
const makeDir = sh`case $d in ${posix.dirname(BACKUP_ROOT)}) mkdir -m 755 -- "$d" ;; *) mkdir -m 700 -- "$d" ;; esac`;

// Before the first backup: the directories there are checked in one stat (whoever can write to a
// checked directory is root, so nothing can be swapped under the ones made next), then the missing
// ones are made top down; the caller checks the whole tree once more. `check` is the shell command
// that checks the directories given after it.
const makeMissingDirs = (chain: readonly string[], check: RawText): RemoteCommand => sh`${findMissing(chain)}
if [ -n "$missing" ]; then
  set --
  for d in ${chain}; do if [ -e "$d" ] || [ -L "$d" ]; then set -- "$@" "$d"; fi; done
  ${check} "$@"
  for d in ${chain}; do [ -e "$d" ] || [ -L "$d" ] || ${makeDir}; done
fi`;

/**
 * Makes (or checks) the backup tree down to `dir`, refusing (exit 3) links and foreign owners on the
 * way; see the module comment. When it is all there, one stat checks it.
 */
export const trustedBackupDir = (dir: string): RemoteCommand => {
  const chain = backupChain(dir);
  return sh`${trustedDirsFunction}
${makeMissingDirs(chain, raw('cf_trusted_dirs'))}
cf_trusted_dirs ${chain}`;
};

// The same for a backup of "$target", whose owner and mode are read by the same stat (cf_tree_stat).
const backupTreeWithTarget = (dir: string): RemoteCommand => {
  const chain = backupChain(dir);
  return sh`${treeStatFunction(true)}
${makeMissingDirs(chain, raw('cf_tree_stat "$target"'))}
cf_tree_stat "$target" ${chain}`;
};

// The same for a file the plan creates: it must still be absent. Its directory is created when
// missing, readable by all (0755, like the /etc directories casfleet writes into).
const guardAbsent = (
  path: string,
): RemoteCommand => sh`if [ -e "$target" ] || [ -L "$target" ]; then echo "casfleet: $target appeared since its facts were read; not touching it" >&2; exit 3; fi
( umask 022 && mkdir -p -- ${posix.dirname(path)} )`;

/**
 * Sets "$ts" to the time of a backup (UTC, sorting lexically in time order; facts/backup-name.ts).
 * bash 5, the usual login shell, reads the clock without a process: $EPOCHREALTIME (read once; its
 * decimal point follows the locale) through its printf builtin, to the microsecond. Other shells
 * (dash: the chain's changes run in it) take the time the write's temp file was made a moment
 * before, as cf_tree_stat read it (UTC, to the nanosecond); without one (a removal), GNU date, to
 * the nanosecond (or the second, where date has no %N).
 */
export const backupTimestamp = sh`now=\${EPOCHREALTIME:-}
case $now:\${tmp_zone-}:\${tmp_day-}T\${tmp_time-} in
  *[0-9][.,][0-9][0-9][0-9][0-9][0-9][0-9]:*)
    TZ=UTC0 printf -v ts '%(%Y%m%dT%H%M%S)T' "\${now%[.,]*}"
    ts=$ts.\${now#*[.,]}000Z ;;
  *:+0000:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9])
    ts=\${tmp_day#*-}
    ts=\${tmp_day%%-*}\${ts%-*}\${ts#*-}T
    ts_clock=\${tmp_time#*:}
    ts=$ts\${tmp_time%%:*}\${ts_clock%%:*}\${ts_clock#*:}Z ;;
  *)
    ts=$(date -u +%Y%m%dT%H%M%S.%NZ)
    case $ts in *N*) ts=$(date -u +%Y%m%dT%H%M%SZ) ;; esac ;;
esac`;

/**
 * Shell that makes `file` (a quoted shell word) a new empty file, under noclobber (the caller's
 * `set -C`: O_EXCL, never a file or link already there). In a directory only root can write, what is
 * there can only be what a killed run of the same PID left: it is removed and the file made anew;
 * `otherwise` runs when that fails too. `true`, not `:`: a failed redirection of a special built-in
 * exits dash.
 */
export const exclusiveCreate = (file: RawText, otherwise: RemoteCommand): RemoteCommand =>
  sh`true 2>/dev/null >${file} || { rm -f -- ${file} && true >${file}; } || ${raw(otherwise.script)}`;

/**
 * Copies "$target" to "$backup_tmp", a new root-only (0600) file in the backup tree, and names its
 * backup "$backup" after the time and the file's uid-gid-mode. cp into the existing file keeps its
 * 0600. The caller syncs "$backup_tmp" (with whatever else it syncs) before backupCommit.
 *
 * The temp file is named after the script's PID and created by the shell (noclobber: O_EXCL), not by
 * mktemp (one process less per backup): the tree was checked to be root's and writable by nobody else
 * just before, so no one else can have put a file under that name (exclusiveCreate).
 */
const backupCopy = (path: string): RemoteCommand => {
  const dir = backupDirFor(path);
  const base = posix.basename(path);
  return sh`${backupTreeWithTarget(dir)}
${backupTimestamp}
backup=${dir}/${base}.$ts.$file_uid-$file_gid-$file_mode
backup_tmp=${dir}/.${base}.casfleet.$$
set -C
${exclusiveCreate(raw('"$backup_tmp"'), sh`cf_refuse "cannot create $backup_tmp"`)}
set +C
cp -- "$target" "$backup_tmp"`;
};

// Renames the synced backup into place and syncs its directory: the backup is never a half-written
// file under its final name, and its name is durable before the target changes.
const backupCommit = (path: string): RemoteCommand => sh`mv -fT -- "$backup_tmp" "$backup"
backup_tmp=
sync -- ${backupDirFor(path)}
printf 'backup: %s\\n' "$backup"`;

// Temp files are removed on any exit that did not rename them into place.
const prelude = (path: string): RemoteCommand => sh`set -eu
umask 077
target=${path}
tmp=
backup_tmp=
trap '[ -z "$tmp" ] || rm -f -- "$tmp"; [ -z "$backup_tmp" ] || rm -f -- "$backup_tmp"' EXIT`;

const regularTarget = (action: string): RemoteCommand =>
  sh`[ -f "$target" ] && [ ! -L "$target" ] || { echo "casfleet: $target is not a regular file; not ${raw(action)} it" >&2; exit 3; }`;

// The umask under which the shell creates a file with `mode`'s read and write bits (an execute bit
// still takes the chmod); anything but a plain three-digit mode gets 0600, as mktemp gives.
const umaskFor = (mode: string): string =>
  /^[0-7]{3}$/.test(mode) ? (0o777 & ~Number.parseInt(mode, 8)).toString(8).padStart(3, '0') : '077';

// A temp file next to the target (same filesystem, so `mv` is an atomic rename), created by the
// shell without a process: noclobber opens it with O_EXCL, so neither a file nor a symlink that is
// already there under the name is ever opened, and it gets the target's mode from the umask (the
// stat that follows reads it, and install's chmod is skipped). The target's directory is not
// casfleet's: where the name (the script's PID) is taken, by a killed run's leftover or by someone
// who guessed it, mktemp makes an unguessable one, as it always did.
const tempNextTo = (path: string, mode: string): RemoteCommand => {
  const name = `${posix.dirname(path)}/.${posix.basename(path)}.casfleet`;
  return sh`tmp=${name}.$$
umask ${raw(umaskFor(mode))}
set -C
true 2>/dev/null >"$tmp" || { tmp=; tmp=$(mktemp -- ${name}.XXXXXX); }
set +C
umask 077`;
};

// Gives "$tmp" its owner and mode, then renames it over the target. One sync makes the temp file, its
// directory and, with `backedUp`, the backup's temp file durable; the backup is then renamed into
// place and its directory synced before the target is replaced, and the target's directory after.
// With `tempRead`, cf_tree_stat has read the temp file's owner and mode: it is chowned and chmodded
// only when they differ (tempNextTo makes it the shell's user and group, root's for the usual sudo,
// and the mode the target gets unless it has an execute bit).
const install = (path: string, { uid, gid, mode }: FileMeta, { backedUp = false, tempRead = false } = {}): RemoteCommand => {
  const owner = `${uid}:${gid}`;
  return sh`${tempRead ? sh`[ "$tmp_uid:$tmp_gid" = ${owner} ] || ` : raw('')}chown ${owner} -- "$tmp"
${tempRead ? sh`[ "$tmp_mode" = ${mode} ] || ` : raw('')}chmod ${mode} -- "$tmp"
sync -- ${backedUp ? raw('"$backup_tmp" ') : raw('')}"$tmp" ${posix.dirname(path)}
${backedUp ? sh`${backupCommit(path)}\n` : raw('')}mv -fT -- "$tmp" "$target"
tmp=
sync -- ${posix.dirname(path)}`;
};

// What a write checks before the target is replaced, each refusal exit 3. The content received must
// be `content`: its SHA-256 (which implies the length; the length is read only to report a cut
// transfer). With `expectedSha256`, the file must also be what the plan was computed from, or
// someone edited it between the fact gathering and the apply and writing now would silently drop
// their change: that is checked on the copy that becomes its backup, so the backup holds exactly the
// content the plan replaced. One sha256sum for both, through /dev/fd so that its output names no
// path (a name with a backslash or newline would be escaped); the shell splits the digests out.
const verifyWrite = (content: string, expectedSha256: string | null): RemoteCommand => {
  const bytes = String(Buffer.byteLength(content, 'latin1'));
  const received =
    expectedSha256 === null
      ? sh`received=$(exec sha256sum < "$tmp") || received=
received=\${received%% *}`
      : sh`sums=$(exec sha256sum /dev/fd/3 /dev/fd/4 3< "$backup_tmp" 4< "$tmp") || sums=
set -- $sums
[ "\${1:-}" = ${expectedSha256} ] || { echo "casfleet: $target changed since its facts were read; not touching it" >&2; exit 3; }
received=\${3:-}`;
  return sh`${received}
if [ "$received" != ${sha256Latin1(content)} ]; then
  received=$(stat -c %s -- "$tmp") || received=?
  [ "$received" = ${bytes} ] || { echo "casfleet: received $received of ${raw(bytes)} bytes for $target (transfer cut short?); not touching it" >&2; exit 3; }
  echo "casfleet: the content received for $target does not match its checksum; not touching it" >&2; exit 3
fi`;
};

// Writes the content into "$tmp": in the exec chain from the frame's variable with printf (no
// process); otherwise from stdin, printable ASCII as it is, bash reading exactly its length with
// `read -N` (no process), other shells copying it with dd. Anything else (and an empty file, which
// dd cannot count) is base64-encoded and goes through base64 -d. A transfer cut short leaves "$tmp"
// short, and verifyWrite refuses it.
const transfer = (content: string): { readonly receive: RemoteCommand; readonly stdin: StdinParts } => {
  if (content === '' || !isPrintableAscii(content)) {
    return {
      receive: sh`if ${IN_FRAME}; then printf '%s' ${partRef(0)} | base64 -d > "$tmp"; else base64 -d > "$tmp"; fi`,
      stdin: { parts: [Buffer.from(content, 'latin1').toString('base64')] },
    };
  }
  const length = String(content.length);
  const receive = sh`if ${IN_FRAME}; then
  printf '%s' ${partRef(0)} > "$tmp"
elif [ -n "\${BASH_VERSION-}" ]; then
  IFS= read -r -N ${length} c || :
  printf '%s' "$c" > "$tmp"
else
  dd iflag=fullblock bs=${length} count=1 of="$tmp" 2>/dev/null || :
fi`;
  return { receive, stdin: { parts: [content] } };
};

/**
 * Write `path` with `content`, giving it `meta`: the command, and the stdin it must be sent with (the
 * content, as it is or encoded); it refuses if what arrived is not exactly `content`.
 * `expectedSha256` is the content the plan saw: the file is backed up, then replaced, and the write
 * refuses if the file changed meanwhile; `null` means the plan saw no file: it is created, and the
 * write refuses if one appeared.
 */
export const atomicWrite = (
  path: string,
  meta: FileMeta,
  expectedSha256: string | null,
  content: string,
): { readonly command: RemoteCommand; readonly stdin: StdinParts } => {
  const { receive, stdin } = transfer(content);
  const command = sh`${prelude(path)}
${
  expectedSha256 === null
    ? sh`${guardAbsent(path)}
${tempNextTo(path, meta.mode)}`
    : sh`${regularTarget('writing')}
${tempNextTo(path, meta.mode)}
${backupCopy(path)}`
}
${receive}
${verifyWrite(content, expectedSha256)}
${install(path, meta, { backedUp: expectedSha256 !== null, tempRead: expectedSha256 !== null })}
printf 'wrote: %s\\n' "$target"`;
  return { command, stdin };
};

/** Back up `path` (when `backup`) and remove it; a no-op when it is already gone. */
export const removeFileCommand = (path: string, backup: boolean): RemoteCommand => sh`${prelude(path)}
if [ ! -e "$target" ] && [ ! -L "$target" ]; then printf 'already absent: %s\\n' "$target"; exit 0; fi
${regularTarget('removing')}
${
  backup
    ? sh`${backupCopy(path)}
sync -- "$backup_tmp"
${backupCommit(path)}
`
    : raw('')
}rm -f -- "$target"
sync -- ${posix.dirname(path)}
printf 'removed: %s\\n' "$target"`;

// The recorded owner must be a system account (below UID_MIN / GID_MIN) or a batm account. Root (0)
// is a system account whatever login.defs says, so a root-owned backup needs no look-up. A batm
// account's passwd or group line starts with its name, so the line itself is matched.
const saneOwner = ({ uid, gid }: FileMeta): RemoteCommand => {
  const checks: RemoteCommand[] = [];
  if (uid !== 0)
    checks.push(sh`if [ ${String(uid)} -ge "$uid_min" ]; then
  case "$(getent passwd ${String(uid)})" in
    batm*) ;;
    *) echo "casfleet: the backup records owner uid ${raw(String(uid))}, neither a system account nor a batm account; not restoring it" >&2; exit 3 ;;
  esac
fi`);
  if (gid !== 0)
    checks.push(sh`if [ ${String(gid)} -ge "$gid_min" ]; then
  case "$(getent group ${String(gid)})" in
    batm*) ;;
    *) echo "casfleet: the backup records group gid ${raw(String(gid))}, neither a system group nor a batm group; not restoring it" >&2; exit 3 ;;
  esac
fi`);
  if (checks.length === 0) return sh`:`;
  return sh`ids=$(exec awk '$1 == "UID_MIN" { u = $2 } $1 == "GID_MIN" { g = $2 } END { print (u == "" ? 1000 : u), (g == "" ? 1000 : g) }' /etc/login.defs 2>/dev/null) || ids=
set -- $ids
uid_min=\${1:-1000}
gid_min=\${2:-1000}
${raw(checks.map((check) => check.script).join('\n'))}`;
};

/** Restore `path` from `backupPath` with `meta`; refuses if `path` exists by then, or anything above fails. */
export const restoreFileCommand = (path: string, backupPath: string, meta: FileMeta): RemoteCommand => {
  const modeProblem = insaneMode(meta.mode);
  return sh`${prelude(path)}
if [ -e "$target" ] || [ -L "$target" ]; then echo "casfleet: $target exists now; not restoring over it" >&2; exit 3; fi
${modeProblem ? sh`echo ${`casfleet: the backup records ${modeProblem}; not restoring it`} >&2; exit 3` : raw(':')}
${treeStatFunction(false)}
backup=${backupPath}
[ -f "$backup" ] && [ ! -L "$backup" ] || cf_refuse "$backup is not a regular file; not restoring from it"
${tempNextTo(path, meta.mode)}
cf_tree_stat "$backup" ${backupChain(posix.dirname(backupPath))}
[ "$file_uid" = 0 ] && [ "$file_mode" = 600 ] && [ "$file_links" = 1 ] || cf_refuse "$backup is not a root-only (0600, one link) casfleet backup (uid $file_uid, mode $file_mode, $file_links links); not restoring from it"
${saneOwner(meta)}
cp -- "$backup" "$tmp"
${install(path, meta, { tempRead: true })}
printf 'restored: %s from %s\\n' "$target" "$backup"`;
};
