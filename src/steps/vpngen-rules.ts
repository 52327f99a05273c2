// CAS's own terminal-VPN rules: /batm/vpngen/firewall.rules "insert load balancing and firewall rules
// at the top of the firewall rules table", and "if you manually restart your firewall you have to
// run: source /batm/vpngen/firewall.rules" [C] TVPN. Both firewall backends re-source it after any
// load that may have disturbed them; if CAS's file is not idempotent that may duplicate its rules
// (harmless), while losing them would take every terminal offline.
import { raw, sh, type RemoteCommand } from '../command/shell.ts';

export const VPNGEN_RULES = '/batm/vpngen/firewall.rules';

/**
 * Shell that re-sources the file when it exists, in a subshell; on failure it says so and sets `rc`
 * to 1 unless the script already failed (the caller's script defines `rc` and exits with it).
 */
export const reapplyVpngenSnippet = (after: string): RemoteCommand => sh`
if [ -f ${VPNGEN_RULES} ]; then
  echo ${`> . ${VPNGEN_RULES}  (CAS terminal-VPN rules, after ${after})`}
  ( . ${VPNGEN_RULES} ) || { echo 'casfleet: re-applying ${raw(VPNGEN_RULES)} failed' >&2; [ "$rc" -ne 0 ] || rc=1; }
fi`;

/** The same, as a command shown to people. */
export const REAPPLY_VPNGEN_DISPLAY = `[ -f ${VPNGEN_RULES} ] && . ${VPNGEN_RULES}`;
