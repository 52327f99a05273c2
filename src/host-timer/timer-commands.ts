// A timer on the host that runs a script after a delay without anything on the operator's side:
// neither the SSH session that armed it nor casfleet has to stay alive (the dead-man of a
// transaction, the end of a pairing window). Pure script builders; every command runs as root
// (become) and keeps its records in one root-owned 0700 directory:
//
//   /var/lib/casfleet/timers/<id>.sh      the script to run
//   /var/lib/casfleet/timers/<id>.fire    claims the timer, runs <id>.sh, writes <id>.result
//   /var/lib/casfleet/timers/<id>.due     due / armed epoch seconds, mechanism
//   /var/lib/casfleet/timers/<id>.pid     the sleeping process (process mechanism)
//   /var/lib/casfleet/timers/<id>.claim   symlink to "fire" or "disarm": who won
//   /var/lib/casfleet/timers/<id>.busy    "busy <pid>" while a change of the transaction runs, else empty
//   /var/lib/casfleet/timers/<id>.log, .result   what the script printed, its exit status and times
//
// A transaction's change commands and its restore exclude each other too (transactionChangeGuard):
// a change marks itself busy, then checks that the timer is not claimed; the fire script claims,
// then waits while a change is busy. Whichever of the two comes second sees the other's mark, so a
// change runs whole before the restore or not at all.
//
// A disarmed timer leaves nothing behind. A fired one keeps its records (what the host did by itself
// is worth reading later) until forgetTimerCommand, or until an arm a week later prunes them.
//
// Firing and disarming exclude each other through ONE atomic operation, creating the `.claim`
// symlink (symlink(2) fails when the name exists, and the link's text says who made it): the
// host ends with the script run or the timer disarmed, never both, never neither. The loser of a
// race learns the winner from the link and, when the winner is firing, waits for its result.
//
// Mechanism: a transient systemd timer when systemd runs the host (`/run/systemd/system`, as
// sd_booted() checks) and systemd-run exists; otherwise a detached process (own session via
// setsid, stdio on /dev/null, so it outlives the SSH session and casfleet), whose command line
// names TIMER_PROCESS_TAG so it can be found again (the lab's `down` kills leftovers by it).

import { z } from 'zod';
import { type RemoteCommand, raw, sh } from '../command/shell.ts';
import { parseArgs } from '../facts/args.ts';

export const TIMER_PARENT = '/var/lib/casfleet';
export const TIMER_DIR = `${TIMER_PARENT}/timers`;
/** In the command line of every timer process, and the prefix of systemd unit names. */
export const TIMER_PROCESS_TAG = 'casfleet-timer';
/** How long a disarm or fire-now waits for a timer that is firing already to finish, by default. */
export const DEFAULT_FIRING_WAIT_S = 90;
/**
 * How long a firing timer waits for a running change of its transaction: as long as casfleet waits
 * for a command by default (commandTimeout), and no longer, so a stuck change cannot hold the restore.
 */
export const BUSY_WAIT_S = 120;

/** Safe in a file name, a unit name and a shell word without quoting. */
// No dots: every file of a timer is `<id>.<suffix>`, so `<id>.*` must never match another timer's files.
export const timerIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be 1-64 of [a-z0-9-], starting with a letter or digit');
const delaySchema = z
  .int()
  .min(1)
  .max(7 * 24 * 3600);
const waitSchema = z.int().min(0).max(3600);

export interface ArmTimerArgs {
  readonly id: string;
  readonly delaySeconds: number;
  /** POSIX sh, run by /bin/sh as root when the timer fires, stdin /dev/null, output kept in the log. */
  readonly script: string;
  /**
   * Remove every record once the script has run by itself, result and log included (a pairing
   * window's end: nobody will ask for them, and nothing of the window should remain). A disarm that
   * comes later reports `absent`; a fire-now still reports the result.
   */
  readonly forgetWhenFired?: boolean;
  /**
   * Refuse (exit 3, nothing armed) while another timer whose id starts with this prefix is armed and
   * unclaimed: one transaction at a time on a host. Two concurrent runs on one server (two operators,
   * an inventory naming it twice) would otherwise each snapshot the other's half-done change and
   * restore it. Each arm records itself before it looks at the others, so of two racing arms at
   * least one sees the other (both may, and both refuse). A timer over ten minutes past its due time
   * without a claim lost its process (a reboot) and blocks nothing.
   */
  readonly exclusivePrefix?: string;
}

/** How long past its due time an unclaimed timer still counts as armed for exclusivePrefix (its sleeper is lost after that). */
const EXCLUSIVE_STALE_S = 600;

// Refuses a symlink anywhere on the path, a non-directory, or a directory another user owns: root
// runs what lies in there. Stops the command with exit 3 (a fact: "its script exited 3"). The
// owner test is the shell's own `-O` (owned by the effective uid, what `id -u` prints): this runs
// in every fact gathering, where each spawned process costs the host real time. The commands
// exit; the fact, a function run in the gathering shell itself (no subshell), returns.
const dirCheck = (stop: 'exit 3' | 'return 3', umask = ''): string => `PATH="$PATH:/usr/sbin:/sbin"
${umask}d=${TIMER_DIR}
for p in ${TIMER_PARENT} "$d"; do
  if [ -L "$p" ]; then echo "casfleet: $p is a symlink; refusing to use it" >&2; ${stop}; fi
  if [ -e "$p" ]; then
    [ -d "$p" ] || { echo "casfleet: $p is not a directory; refusing to use it" >&2; ${stop}; }
    [ -O "$p" ] || { echo "casfleet: $p is owned by uid $(stat -c %u -- "$p"), not $(id -u); refusing to use it" >&2; ${stop}; }
  fi
done`;

const DIR_CHECK = dirCheck('exit 3', 'umask 077\n');

/**
 * Defines `timer_sleeper PID ID`: succeeds while PID is the sleeper of timer ID (the PID alone may
 * have been reused). Shared by the disarm (which signals only such a PID) and the timers fact, which
 * both run on every changed host, so without a process: the shell's `read` of /proc/PID/cmdline
 * drops the NULs between the arguments (dash and bash both), and the sleeper's tag and id, two
 * arguments in a row, then read as one word followed by the timers directory (`sh -c … TAG ID DIR
 * DELAY`) or by nothing (the fire script it became: `sh DIR/ID.fire TAG ID`). An id has no '/', so
 * no other timer's sleeper reads so. Anything else is counted with one grep of whole arguments (-x,
 * -F no pattern): a reused PID, a sleeper armed with the arguments in another order, a shell that
 * reads NULs otherwise.
 */
export const TIMER_SLEEPER_FUNCTION = `timer_sleeper() {
  [ -e "/proc/$1" ] || return 1
  args=
  IFS= read -r args <"/proc/$1/cmdline" 2>/dev/null || :
  case $args in *${TIMER_PROCESS_TAG}"$2"/*|*${TIMER_PROCESS_TAG}"$2") return 0 ;; esac
  named=$(exec grep -zxcF -e ${TIMER_PROCESS_TAG} -e "$2" "/proc/$1/cmdline" 2>/dev/null) || :
  [ "\${named:-0}" -ge 2 ]
}`;

// Stops what would fire the timer later. Only called by the holder of the claim, so a process it
// kills has at most not claimed yet (it would have lost anyway); the PID is only signalled while
// its command line still names this timer (timer_sleeper: never a reused PID). The mechanism and
// the PID are read with the shell's own `read`: a disarm runs on every changed host, where each
// spawned process costs real time.
const STOP_MECHANISM = `${TIMER_SLEEPER_FUNCTION}
timer_stop() {
  mechanism=
  while read -r key value; do [ "$key" = mechanism ] && mechanism=$value; done <"$d/$id.due" 2>/dev/null
  case $mechanism in
    systemd) systemctl stop "${TIMER_PROCESS_TAG}-$id.timer" "${TIMER_PROCESS_TAG}-$id.service" >/dev/null 2>&1 || : ;;
    process)
      pid=
      read -r pid <"$d/$id.pid" 2>/dev/null || :
      case $pid in ''|*[!0-9]*) return 0 ;; esac
      if timer_sleeper "$pid" "$id"; then kill -9 "-$pid" 2>/dev/null || :; fi ;;
  esac
}`;

// Removes every record of the timer (the claim last: while it exists nobody else can claim).
// One rm: it removes its operands in order, so the claim still goes last.
const FORGET = `timer_forget() {
  rm -f -- "$d/$id.sh" "$d/$id.fire" "$d/$id.due" "$d/$id.pid" "$d/$id.log" "$d/$id.result" "$d/$id.result.tmp" "$d/$id.due.tmp" "$d/$id.busy" "$d/$id.claim"
}`;

// Prints a fired timer's result and log, in the form parseTimerOutcome reads. The result appears
// whole (renamed into place) and stays, so a reader never sees half of it.
const REPORT_FIRED = `timer_report_fired() {
  echo "timer $id fired"
  cat "$d/$id.result"
  sed 's/^/| /' "$d/$id.log" 2>/dev/null
}`;

// The loser of a claim: report what the winner did, waiting up to $wait s for a firing to end (or
// for its claim to go: a claim made on a timer forgotten meanwhile is taken back at once).
const REPORT_OTHER = `timer_report_other() {
  by=$(exec readlink "$d/$id.claim" 2>/dev/null) || by=
  case $by in
    disarm) echo "timer $id disarmed" ;;
    fire)
      i=0
      while [ ! -f "$d/$id.result" ] && [ -L "$d/$id.claim" ] && [ "$i" -lt "$((wait * 10))" ]; do sleep 0.1; i=$((i + 1)); done
      if [ -f "$d/$id.result" ]; then timer_report_fired
      elif [ -L "$d/$id.claim" ]; then echo "timer $id firing"
      else echo "timer $id absent"; fi ;;
    *) echo "timer $id absent" ;;
  esac
}`;

const prelude = (id: string, waitSeconds: number): RemoteCommand => sh`set -u
${raw(DIR_CHECK)}
id=${id}
wait=${waitSeconds}
${raw(STOP_MECHANISM)}
${raw(FORGET)}
${raw(REPORT_FIRED)}
${raw(REPORT_OTHER)}`;

/**
 * The fire script: claim (unless the caller holds the claim already: "claimed"), run the payload,
 * record its exit status and times atomically. Arguments: <tag> <id> [claimed]; the tag puts
 * TIMER_PROCESS_TAG into the process's command line.
 */
const fireScript = (id: string, forgetWhenFired: boolean): string =>
  sh`#!/bin/sh
# casfleet timer ${id}: whoever creates ${id}.claim first decides (fire or disarm)
d=${TIMER_DIR}
id=${id}
[ "\${3:-}" = claimed ] || ln -sn fire "$d/$id.claim" 2>/dev/null || exit 0
# Disarmed and forgotten while this process was on its way (its script goes before its claim).
[ -f "$d/$id.sh" ] || { rm -f -- "$d/$id.claim"; exit 0; }
# A change of the transaction that marked itself busy before the claim ends first (one that marks
# itself later finds the claim and is refused), while its shell lives, for at most ${raw(String(BUSY_WAIT_S))} s.
i=0
late=
while [ -s "$d/$id.busy" ]; do
  pid=
  read -r word pid <"$d/$id.busy" 2>/dev/null || :
  case $pid in ''|*[!0-9]*) break ;; esac
  kill -0 "$pid" 2>/dev/null || break
  if [ "$i" -ge ${raw(String(BUSY_WAIT_S * 10))} ]; then late=$pid; break; fi
  sleep 0.1
  i=$((i + 1))
done
started=$(date +%s)
/bin/sh "$d/$id.sh" >"$d/$id.log" 2>&1 </dev/null
rc=$?
[ -z "$late" ] || echo "casfleet: a change (shell $late) still ran after ${raw(String(BUSY_WAIT_S))} s; restored without waiting longer" >>"$d/$id.log"
printf 'exit %s\\nstarted %s\\nended %s\\n' "$rc" "$started" "$(date +%s)" >"$d/$id.result.tmp"
mv -f -- "$d/$id.result.tmp" "$d/$id.result"
${raw(
  forgetWhenFired
    ? `${FORGET}
[ "\${3:-}" = claimed ] || timer_forget
`
    : '',
)}`.script;

// The detached sleeper: sleeps, then becomes the fire script (same PID, same tag). setsid execs it
// in place (a background job is never a process-group leader, so setsid need not fork): `$!` is the
// sleeper's PID, on record before the arm returns, without waiting for the sleeper to write it. The
// id's next argument is the directory (a '/', never in an id): timer_sleeper's reading of them.
const SLEEPER = 'sleep "$3"; exec /bin/sh "$2/$1.fire" "$0" "$1"';

// Another armed, unclaimed timer of the prefix: builtins only (the arm runs on every changed host).
const exclusiveCheck = (prefix: string): string => `for other in "$d"/${prefix}*.due; do
  [ -f "$other" ] && [ "$other" != "$d/$id.due" ] || continue
  oid=\${other##*/}
  oid=\${oid%.due}
  [ -L "$d/$oid.claim" ] && continue
  odue=
  while read -r key value; do [ "$key" = due ] && odue=$value; done <"$other" 2>/dev/null
  case $odue in ''|*[!0-9]*) odue=0 ;; esac
  if [ "$odue" -gt "$((now - ${EXCLUSIVE_STALE_S}))" ]; then
    rm -f -- "$d/$id".*
    echo "casfleet: another casfleet transaction ($oid) is in progress on this host (its rollback is due at $odue, epoch seconds): not starting a second one" >&2
    exit 3
  fi
done
`;

/** Arm timer `id` to run `script` in `delaySeconds`; fails (exit 3) when a timer of that id exists. Prints `armed <id> <due> <mechanism>`. */
export const armTimerCommand = (args: ArmTimerArgs): RemoteCommand => {
  const id = parseArgs(timerIdSchema, args.id, 'armTimerCommand.id');
  const delay = parseArgs(delaySchema, args.delaySeconds, 'armTimerCommand.delaySeconds');
  return sh`set -u
${raw(DIR_CHECK)}
id=${id}
# The directory is 0700: mkdir -m 700 makes it so (its parent too on a first arm; without -p, mkdir
# fails on a directory that exists, so it never vouches for one it did not make), otherwise chmod
# does: the shell cannot read a mode, so an existing directory costs the chmod.
if [ ! -d ${TIMER_PARENT} ]; then mkdir -m 700 -- ${TIMER_PARENT} "$d"
elif [ ! -d "$d" ]; then mkdir -m 700 -- "$d"
else false
fi || chmod 700 -- "$d" || exit 3
# Records of timers that fired more than a week ago go (their ids may be reused); only a fired timer
# leaves a result, so find runs only when there is one.
set -- "$d"/*.result
if [ -e "$1" ]; then
  find "$d" -maxdepth 1 -name '*.result' -mtime +7 2>/dev/null | while read -r old; do old=\${old##*/}; rm -f -- "$d/\${old%.result}".*; done
fi
for f in "$d/$id".*; do
  if [ -e "$f" ] || [ -L "$f" ]; then echo "casfleet: timer $id exists already ($f)" >&2; exit 3; fi
done
printf '%s\\n' ${args.script} >"$d/$id.sh"
printf '%s' ${fireScript(id, args.forgetWhenFired ?? false)} >"$d/$id.fire"
# bash's clock when there is one (the arm runs under bash over SSH): no process.
now=\${EPOCHSECONDS:-}
case $now in ''|*[!0-9]*) now=$(date +%s) ;; esac
due=$((now + ${delay}))
if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1 && command -v systemctl >/dev/null 2>&1; then
  mechanism=systemd
else
  mechanism=process
fi
printf 'due %s\\narmed %s\\nmechanism %s\\n' "$due" "$now" "$mechanism" >"$d/$id.due.tmp" && mv -f -- "$d/$id.due.tmp" "$d/$id.due"
${raw(args.exclusivePrefix === undefined ? '' : exclusiveCheck(parseArgs(timerIdSchema, args.exclusivePrefix, 'armTimerCommand.exclusivePrefix')))}if [ "$mechanism" = systemd ]; then
  systemd-run --quiet --collect --unit "${raw(TIMER_PROCESS_TAG)}-$id" --on-active=${delay}s --timer-property=AccuracySec=1s \\
    /bin/sh "$d/$id.fire" ${TIMER_PROCESS_TAG} "$id" || { rm -f -- "$d/$id".*; echo "casfleet: systemd-run failed" >&2; exit 3; }
else
  setsid /bin/sh -c ${SLEEPER} ${TIMER_PROCESS_TAG} "$id" "$d" ${delay} </dev/null >/dev/null 2>&1 &
  echo "$!" >"$d/$id.pid" || { kill -9 "$!" 2>/dev/null; rm -f -- "$d/$id".*; echo "casfleet: cannot record the timer process" >&2; exit 3; }
fi
echo "armed $id $due $mechanism"`;
};

// Claim timer `id` as `claimant`; the winner runs `onWin`, a loser reports what the winner did. A
// disarm forgets the timer, its claim last: a racer that saw the timer before and claims it after
// that finds no record left, and takes its claim back.
const claimCommand = (claimant: 'disarm' | 'fire', id: string, waitSeconds: number, onWin: string, where: string): RemoteCommand =>
  sh`${prelude(parseArgs(timerIdSchema, id, `${where}.id`), parseArgs(waitSchema, waitSeconds, `${where}.waitSeconds`))}
if [ ! -f "$d/$id.due" ]; then timer_report_other
elif ln -sn ${claimant} "$d/$id.claim" 2>/dev/null; then
  if [ ! -f "$d/$id.due" ]; then
    rm -f -- "$d/$id.claim"
    echo "timer $id absent"
  else
    timer_stop
${raw(onWin)}
  fi
else timer_report_other
fi
echo end`;

/**
 * Disarm timer `id`: afterwards it can no longer fire. Prints (see parseTimerOutcome) `disarmed`,
 * `fired` with the result when the timer fired first (waiting up to `waitSeconds` for it to end,
 * else `firing`), or `absent`.
 */
export const disarmTimerCommand = (id: string, waitSeconds = DEFAULT_FIRING_WAIT_S): RemoteCommand =>
  claimCommand('disarm', id, waitSeconds, '    timer_forget\n    echo "timer $id disarmed"', 'disarmTimerCommand');

/** Fire timer `id` now (same claim as the timer itself, so it runs at most once); prints like disarm. */
export const fireTimerNowCommand = (id: string, waitSeconds = DEFAULT_FIRING_WAIT_S): RemoteCommand =>
  claimCommand(
    'fire',
    id,
    waitSeconds,
    `    /bin/sh "$d/$id.fire" ${TIMER_PROCESS_TAG} "$id" claimed\n    timer_report_fired`,
    'fireTimerNowCommand',
  );

/** Remove the records of timer `id` once it has fired (prints `timer <id> absent`); refuses (exit 3) while it is armed or firing. */
export const forgetTimerCommand = (id: string): RemoteCommand => {
  const checked = parseArgs(timerIdSchema, id, 'forgetTimerCommand.id');
  return sh`${prelude(checked, 0)}
if [ -f "$d/$id.due" ] && ! { [ "$(exec readlink "$d/$id.claim" 2>/dev/null)" = fire ] && [ -f "$d/$id.result" ]; }; then
  echo "casfleet: timer $id has not fired; disarm it instead" >&2; exit 3
fi
timer_forget
echo "timer $id absent"
echo end`;
};

/** Shell around a change command: `enter` runs first, in the command's subshell; `leave` after it, in the caller's shell. */
export interface ChangeGuard {
  readonly enter: string;
  readonly leave: string;
}

/**
 * The guard of every change of transaction `id`: it stops the command (exit 3, nothing done) once
 * the dead-man has been claimed or is gone (a command that reaches the host after the restore, over
 * a connection that stalled past the deadline, must not change the restored host), and marks the
 * command busy while it runs, so a dead-man that fires meanwhile waits for it (see the fire script).
 * The mark comes before the claim test; builtins only, no process.
 */
export const transactionChangeGuard = (id: string): ChangeGuard => {
  const checked = parseArgs(timerIdSchema, id, 'transactionChangeGuard.id');
  const timer = `${TIMER_DIR}/${checked}`;
  const refuse = `{ echo 'casfleet: the rollback of transaction ${checked} has begun on the host (its dead-man fired) or is gone: this change was not made' >&2; exit 3; }`;
  return {
    enter: `[ -f ${timer}.due ] || ${refuse}
printf 'busy %s\n' "$$" >${timer}.busy || { echo 'casfleet: cannot mark the change busy in ${TIMER_DIR}: this change was not made' >&2; exit 3; }
if [ -L ${timer}.claim ] || [ ! -f ${timer}.due ]; then ${refuse}; fi
`,
    leave: `[ ! -s ${timer}.busy ] || : >${timer}.busy
`,
  };
};

/** The timer directory's safety check for a shell function (it returns 3), shared with the fact that lists timers. */
export const TIMER_DIR_CHECK_RETURN = dirCheck('return 3');
