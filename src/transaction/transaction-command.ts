// The host side of a transaction, as scripts (pure). Before the first change, ONE exec snapshots
// what the run may change and arms the dead-man (host-timer/) to run the snapshot's restore script:
//
//   /var/backups/casfleet/transactions/<id>/files/<path>   copies (cp -p: owner, group, mode kept; a
//                                                          symlink, such as a unit enabled at boot, as itself)
//   /var/backups/casfleet/transactions/<id>/absent         paths that did not exist
//   /var/backups/casfleet/transactions/<id>/ip{,6}tables.filter   the live filter tables (iptables-save)
//   /var/backups/casfleet/transactions/<id>/restore.sh     what the timer runs; also the way back by hand
//
// The restore puts files back (and removes those that did not exist), restores the filter table per
// family with iptables-restore (which replaces only the tables in its input: nat, where CAS's
// terminal-VPN redirects live, is never flushed), re-sources /batm/vpngen/firewall.rules when it
// exists (DESIGN §2), and runs the handlers of the steps whose files it put back (gate restarts when
// gate.properties or the VPN file came back), so a half-done Scenario B switch returns to A whole.
// Everything it did is printed, which the timer keeps as its log.

import { type RemoteCommand, raw, sh } from '../command/shell.ts';
import { BACKUP_ROOT } from '../facts/backup-name.ts';
import { armTimerCommand } from '../host-timer/timer-commands.ts';
import { trustedBackupDir } from '../steps/remote-file.ts';
import { VPNGEN_RULES, vpngenProblem } from '../steps/vpngen-rules.ts';
import type { TouchedState } from './touched-state.ts';

export const TRANSACTIONS_DIR = `${BACKUP_ROOT}/transactions`;
/** Snapshots older than this many days are removed when a new one is taken. */
export const SNAPSHOT_KEEP_DAYS = 30;

export const snapshotDir = (id: string): string => `${TRANSACTIONS_DIR}/${id}`;

/** The start of every transaction's timer id. */
export const TRANSACTION_ID_PREFIX = 'txn-';

/** `txn-20261130t150102z-3fa9`: a timer id (lower case) that sorts by time, unique per host and run. */
export const transactionId = (now: Date, random: () => number = Math.random): string => {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'z')
    .toLowerCase();
  return `${TRANSACTION_ID_PREFIX}${stamp}-${Math.floor(random() * 0x10000)
    .toString(16)
    .padStart(4, '0')}`;
};

const FAMILIES = [
  { save: 'iptables-save', restore: 'iptables-restore', file: 'iptables.filter', label: 'IPv4' },
  { save: 'ip6tables-save', restore: 'ip6tables-restore', file: 'ip6tables.filter', label: 'IPv6' },
] as const;

const restartFlag = (index: number): string => `restart_${index}`;

/** The script the dead-man runs (and an operator can run by hand: `sh <dir>/restore.sh`). */
export const restoreScript = (id: string, touched: TouchedState): string => {
  const dir = snapshotDir(id);
  const flagsFor = (file: string): string =>
    touched.restarts
      .map((restart, index) => (restart.files.includes(file) ? `${restartFlag(index)}=yes` : ''))
      .filter(Boolean)
      .join('; ');
  const files = touched.files.map((file) => {
    const flags = flagsFor(file);
    return flags ? sh`restore_file ${file} && { ${raw(flags)}; }` : sh`restore_file ${file} || :`;
  });
  // -w 30: the restore outwaits another tool holding the xtables lock (a legacy backend's; nf_tables
  // takes none) instead of failing after a few seconds; the plain retry serves iptables without -w.
  const tables = touched.firewall
    ? FAMILIES.map(
        ({ restore, file, label }) => sh`if [ -f "$snap"/${file} ]; then
  if ${restore} -w 30 <"$snap"/${file} 2>/dev/null || ${restore} <"$snap"/${file}; then echo ${`restored the ${label} filter table`}; else echo ${`casfleet: restoring the ${label} filter table failed`}; rc=1; fi
fi`,
      )
    : [];
  // CAS's rules are sourced as root only under the same trust rule as after a firewall load
  // (vpngen-rules.ts); the restore's own lines say what it did, so the file's output is not shown.
  const vpngen = touched.firewall
    ? sh`${vpngenProblem}
if [ -e ${VPNGEN_RULES} ] || [ -L ${VPNGEN_RULES} ]; then
  problem=$(vpngen_problem)
  if [ -n "$problem" ]; then echo ${`casfleet: not re-applying ${VPNGEN_RULES}:`} "$problem"; rc=1
  elif ( . ${VPNGEN_RULES} ) >/dev/null 2>&1; then echo ${`re-applied ${VPNGEN_RULES}`}; else echo ${`casfleet: re-applying ${VPNGEN_RULES} failed`}; rc=1; fi
fi`
    : sh``;
  const restarts = touched.restarts.map(
    (restart, index) => sh`if [ -n "\${${raw(restartFlag(index))}:-}" ]; then
  echo ${`ran: ${restart.command.display}`}
  ( ${raw(restart.command.script)}
  ) >/dev/null 2>&1 </dev/null || { echo ${`casfleet: '${restart.name}' failed`}; rc=1; }
fi`,
  );
  return sh`#!/bin/sh
# casfleet transaction ${id}: puts back what the change touched, as it was before it.
# Run by the dead-man timer when the change is not confirmed in time; by hand: sh ${dir}/restore.sh
PATH="$PATH:/usr/sbin:/sbin"
snap=${dir}
rc=0
# Prints what it did; succeeds only when it put something back.
restore_file() {
  saved="$snap/files$1"
  if [ -L "$saved" ]; then
    target=$(readlink -- "$saved")
    if [ -L "$1" ] && [ "$(readlink -- "$1")" = "$target" ]; then return 1; fi
    tmp="$(dirname -- "$1")/.casfleet-restore.$$" && ln -sfn -- "$target" "$tmp" && mv -fT -- "$tmp" "$1" && { echo "restored $1"; return 0; }
    rm -f -- "$tmp"
    echo "casfleet: restoring $1 failed"; rc=1; return 1
  fi
  if [ -f "$saved" ]; then
    if [ -f "$1" ] && [ ! -L "$1" ] && cmp -s -- "$saved" "$1" && [ "$(stat -c %u:%g:%a -- "$1")" = "$(stat -c %u:%g:%a -- "$saved")" ]; then return 1; fi
    tmp=$(mktemp -- "$(dirname -- "$1")/.casfleet-restore.XXXXXX") && cp -p -- "$saved" "$tmp" && mv -f -- "$tmp" "$1" && { echo "restored $1"; return 0; }
    [ -z "\${tmp:-}" ] || rm -f -- "$tmp"
    echo "casfleet: restoring $1 failed"; rc=1; return 1
  fi
  if grep -qxF -- "$1" "$snap/absent" && { [ -e "$1" ] || [ -L "$1" ]; }; then
    if rm -f -- "$1"; then echo "removed $1 (it did not exist before)"; return 0; fi
    echo "casfleet: removing $1 failed"; rc=1
  fi
  return 1
}
${raw(
  [...files, ...tables, vpngen, ...restarts]
    .map((command) => command.script)
    .filter(Boolean)
    .join('\n'),
)}
exit $rc
`.script;
};

export interface BeginTransactionArgs {
  readonly id: string;
  readonly touched: TouchedState;
  readonly delaySeconds: number;
}

/** Day stamp (UTC) of a transaction id: snapshots are pruned at most once a day per host. */
const pruneDay = (id: string): string => /^txn-(\d{8})t/.exec(id)?.[1] ?? 'any';

/**
 * Snapshot + dead-man, in one exec. Prints `snapshot <dir>` then the arm line (`armed <id> <due>
 * <mechanism>`); fails (exit 3, nothing armed) when anything could not be saved: a symlink or a
 * non-file where a file is expected, a file that cannot be copied, a filter table that cannot be read.
 *
 * Every process here is paid by each changed host on every apply, so the snapshot spawns a fixed
 * few whatever the number of files: one cp for all of them (--parents recreates their paths under
 * files/), one save per family, and the pruning of old snapshots once a day (a stamp file named after
 * the id's date). Failures are checked one by one rather than with `set -e`, which a shell ignores in
 * a subshell whose status is tested (`( … ) || exit 3`).
 */
export const beginTransactionCommand = ({ id, touched, delaySeconds }: BeginTransactionArgs): RemoteCommand => {
  const dir = snapshotDir(id);
  const stamp = `${TRANSACTIONS_DIR}/.pruned-${pruneDay(id)}`;
  const tables = touched.firewall
    ? [
        sh`iptables-save -t filter >"$snap/iptables.filter" || fail 'cannot save the IPv4 filter table'`,
        // No IPv6 in the kernel (or no ip6tables): nothing to save, nothing to restore.
        sh`if ! { command -v ip6tables-save >/dev/null 2>&1 && ip6tables-save -t filter >"$snap/ip6tables.filter" 2>/dev/null; }; then rm -f -- "$snap/ip6tables.filter"; fi`,
      ]
    : [];
  const snapshot = sh`set -u
umask 077
PATH="$PATH:/usr/sbin:/sbin"
snap=${dir}
fail() { echo "casfleet: $*" >&2; exit 3; }
${trustedBackupDir(TRANSACTIONS_DIR)}
if [ ! -e ${stamp} ]; then
  # find only when there is a snapshot to look at, rm only when there is an older stamp (a host's
  # first transaction has neither). A glob that matches nothing stays as written, naming no file.
  set -- ${TRANSACTIONS_DIR}/txn-*
  if [ -e "$1" ] || [ -L "$1" ]; then
    find ${TRANSACTIONS_DIR} -mindepth 1 -maxdepth 1 -type d -name 'txn-*' -mtime +${SNAPSHOT_KEEP_DAYS} -exec rm -rf -- {} + 2>/dev/null
  fi
  set -- ${TRANSACTIONS_DIR}/.pruned-*
  if [ -e "$1" ] || [ -L "$1" ]; then rm -f -- "$@"; fi
  : >${stamp}
fi
mkdir -- "$snap" "$snap/files" || fail "cannot create $snap"
: >"$snap/absent" || fail "cannot write $snap/absent"
set --
for f in ${touched.files}; do
  if [ -L "$f" ] || [ -f "$f" ]; then set -- "$@" "$f"
  elif [ -e "$f" ]; then fail "$f is not a regular file or a symlink; not snapshotting it"
  else printf '%s\n' "$f" >>"$snap/absent" || fail "cannot write $snap/absent"; fi
done
# -P: a symlink (such as a unit enabled at boot) as itself; -p: owner, group, mode and times. From
# / because GNU cp (9.1) with -P --parents looks the parent directories up relative to the cwd.
[ $# -eq 0 ] || { cd / && cp -pP --parents -- "$@" "$snap/files/"; } || fail "cannot copy $* to $snap/files"
${raw(tables.map((command) => command.script).join('\n'))}
printf '%s' ${restoreScript(id, touched)} >"$snap/restore.sh" || fail "cannot write $snap/restore.sh"
echo "snapshot $snap"`;
  const arm = armTimerCommand({ id, delaySeconds, script: `exec /bin/sh ${dir}/restore.sh`, exclusivePrefix: TRANSACTION_ID_PREFIX });
  return {
    script: `( ${snapshot.script}\n) || exit 3\n${arm.script}`,
    display: `snapshot ${[...touched.files, ...(touched.firewall ? ['filter tables'] : [])].join(', ')} to ${dir}; arm rollback in ${delaySeconds}s`,
  };
};

/** The snapshot directory and due time from what beginTransactionCommand printed. */
export const parseBeginOutput = (
  output: string,
): { readonly snapshot: string; readonly due: number; readonly mechanism: string } | undefined => {
  const snapshot = /^snapshot (\S+)$/m.exec(output)?.[1];
  const armed = /^armed \S+ (\d+) (\S+)$/m.exec(output);
  if (!snapshot || !armed) return undefined;
  return { snapshot, due: Number(armed[1]), mechanism: armed[2] ?? '' };
};
