// CAS's own terminal-VPN rules: /batm/vpngen/firewall.rules "insert load balancing and firewall rules
// at the top of the firewall rules table", and "if you manually restart your firewall you have to
// run: source /batm/vpngen/firewall.rules" [C] TVPN. Both firewall backends re-source it after any
// load that may have disturbed them; if CAS's file is not idempotent that may duplicate its rules
// (harmless), while losing them would take every terminal offline.
import { type RemoteCommand, raw, sh } from '../command/shell.ts';

export const VPNGEN_RULES = '/batm/vpngen/firewall.rules';

// Prints why CAS's rules file must not be sourced as root, or nothing when it may. The directory
// is followed (/batm may be a link on some installs [I]); the file itself must not be a link.
// One stat for the file and its directory (a line each, in that order); what it cannot read is a
// problem too.
export const vpngenProblem = sh`vpngen_problem() {
  f=${VPNGEN_RULES}
  if [ -L "$f" ]; then echo "it is a symbolic link"; return; fi
  if [ ! -f "$f" ]; then echo "it is not a regular file"; return; fi
  set -- $(stat -L -c '%u %U %a' -- "$f" "\${f%/*}")
  [ $# -eq 6 ] || { echo "the owner and mode of $f and its directory cannot be read"; return; }
  for p in "$f" "\${f%/*}"; do
    case "$1 $2" in
      '0 '*|*' batm'*) ;;
      *) echo "$p is owned by $2 (uid $1), not by root or a batm account"; return ;;
    esac
    if [ $(( 0$3 & 2 )) -ne 0 ]; then echo "$p is writable by everyone (mode $3)"; return; fi
    shift 3
  done
}`;

/**
 * Shell that stops the script (exit 1, nothing changed yet) when the file exists but may not be
 * sourced as root: owned by someone else than root or a batm account, writable by everyone, a link.
 * It tells reapplyVpngenSnippet, later in the same script, that the file passed (`vpngen_trusted`);
 * each defines `vpngen_problem` itself, since the reapply also runs without this precheck.
 */
export const vpngenPrecheckSnippet = (what: string, after: string): RemoteCommand => sh`${vpngenProblem}
vpngen_trusted=
if [ -e ${VPNGEN_RULES} ] || [ -L ${VPNGEN_RULES} ]; then
  problem=$(vpngen_problem)
  [ -z "$problem" ] || { echo "casfleet: refusing to ${raw(what)}: ${raw(VPNGEN_RULES)} would be re-applied as root after ${raw(after)}, but $problem" >&2; exit 1; }
  vpngen_trusted=yes
fi`;

/**
 * Shell that re-sources the file when it exists and passes the trust rule above, in a subshell;
 * otherwise, or on failure, it says so and sets `rc` to 1 unless the script already failed (the
 * caller's script defines `rc` and exits with it). A file the precheck of the same script passed is
 * not checked again (a stat and two forks): only root or a batm account, whom the rule trusts with
 * its content, could have replaced it or changed its mode since.
 */
export const reapplyVpngenSnippet = (after: string): RemoteCommand => sh`
${vpngenProblem}
if [ -e ${VPNGEN_RULES} ] || [ -L ${VPNGEN_RULES} ]; then
  problem=
  [ "\${vpngen_trusted-}" = yes ] || problem=$(vpngen_problem)
  if [ -n "$problem" ]; then
    echo "casfleet: not re-applying ${raw(VPNGEN_RULES)}: $problem" >&2; [ "$rc" -ne 0 ] || rc=1
  else
    echo ${`> . ${VPNGEN_RULES}  (CAS terminal-VPN rules, after ${after})`}
    ( . ${VPNGEN_RULES} ) || { echo 'casfleet: re-applying ${raw(VPNGEN_RULES)} failed' >&2; [ "$rc" -ne 0 ] || rc=1; }
  fi
fi`;

/** The same, as a command shown to people. */
export const REAPPLY_VPNGEN_DISPLAY = `[ -f ${VPNGEN_RULES} ] && . ${VPNGEN_RULES}`;
