// `ufw --force enable` without python and without an iptables process per rule. ufw's enable runs
// /lib/ufw/ufw-init start (about 20 ip[6]tables-restore and ip[6]tables runs per family) and then,
// in python, update_logging (list, flush and zero every logging chain and add each logging rule
// with its own iptables run): ~250 processes, ~0.5 s of host CPU. This script produces the same
// kernel state and files with ONE ip[6]tables-restore -n per family, fed the same text ufw-init
// loads, in the same order, from the same files:
// - the primary chains and their hooks into INPUT/OUTPUT/FORWARD (hooks only when the chains are
//   new, as ufw-init), the reject and tracking rules and the skip-to-policy chains for the default
//   policies of /etc/default/ufw, before*.rules, after*.rules, the user chains, user*.rules, the
//   user hooks and finally the built-in policies (REJECT as DROP), each its own COMMIT as in
//   ufw-init;
// - then IPT_MODULES and IPT_SYSCTL as ufw-init;
// - update_logging adds nothing: it loads the logging rules of LOGLEVEL, which ufw also writes in
//   the LOGGING section of user*.rules (just loaded), and rewrites those files from its own parse of
//   them. Both are no-ops exactly when that section is what _get_logging_rules gives for LOGLEVEL
//   and the default policies, so the script checks it line by line before changing anything;
// - ENABLED=yes in ufw.conf, replacing every ENABLED= line as ufw's set_default (sed -i: a temporary
//   file in /etc/ufw renamed over it, owner and mode kept; the transaction snapshots ufw.conf).
// Anything else ufw could meet falls back to `ufw --force enable`: other versions of the mirrored
// files (ufw-init-functions, ufw's iptables backend and set_default; checked by cksum, verified on
// ufw 0.36.2), IPV6 other than yes or a kernel without IPv6 (ufw then leaves IPv6 out itself),
// MANAGE_BUILTINS=yes, executable before.init/after.init, a missing rules file, ENABLED neither
// yes nor no, another LOGLEVEL or policy, a LOGGING section that differs (e.g. the user*.rules ufw
// ships, which its first enable rewrites), or ufw's chains already running ("already started":
// ufw-init then only reloads the logging).
// test/lab/ufw-enable.test.ts compares both paths on lab hosts.
import { type RemoteCommand, raw, sh } from '../command/shell.ts';

/** `cksum` output of the ufw 0.36.2 (Debian 12) files casfleet mirrors (here and in ufw-file-write.ts). */
export const VERIFIED_CKSUMS: Readonly<Record<string, string>> = {
  '/lib/ufw/ufw-init-functions': '1320546222 17648',
  '/usr/lib/python3/dist-packages/ufw/backend_iptables.py': '3220840754 58842',
  '/usr/lib/python3/dist-packages/ufw/backend.py': '1440851485 27407',
  '/usr/lib/python3/dist-packages/ufw/common.py': '2825634326 22530',
};

const VERIFIED_FILES = Object.keys(VERIFIED_CKSUMS);

/**
 * Sets `ufw_cksums` to what ONE `cksum` prints for every file of VERIFIED_CKSUMS, unless the script
 * has set it already. A script that runs both the rule-file writer and the enable runs this before
 * calling either (their functions are subshells, which cannot hand a variable back), so the host
 * spends one cksum on both; each function runs it too (in UFW_VERIFIED_FUNCTION), so it also works alone.
 */
export const UFW_CKSUMS_ONCE = `[ -n "\${ufw_cksums+set}" ] || ufw_cksums=$(exec cksum ${VERIFIED_FILES.join(' ')} 2>/dev/null)`;

/** Defines `ufw_verified <cksum line>...`: succeeds when cksum printed each of these lines, whole (a missing file prints none). */
export const UFW_VERIFIED_FUNCTION = `ufw_verified() {
    ${UFW_CKSUMS_ONCE}
    for want in "$@"; do
      case "
$ufw_cksums
" in *"
$want
"*) ;; *) return 1 ;; esac
    done
  }`;

/** Shell test (after UFW_VERIFIED_FUNCTION): `paths` (keys of VERIFIED_CKSUMS) are the verified ufw 0.36.2 files. */
export const verifiedUfwFilesTest = (paths: readonly string[]): string =>
  `ufw_verified ${paths.map((path) => `'${VERIFIED_CKSUMS[path]} ${path}'`).join(' ')}`;

/** Exit status of ufw_direct_enable when the host is not the verified layout: run `ufw --force enable`. */
export const NOT_VERIFIED = 100;

const SCRIPT = `ufw_direct_enable() (
  set -u
  ${UFW_VERIFIED_FUNCTION}
  ${verifiedUfwFilesTest(['/lib/ufw/ufw-init-functions', '/usr/lib/python3/dist-packages/ufw/backend_iptables.py', '/usr/lib/python3/dist-packages/ufw/backend.py'])} || return ${NOT_VERIFIED}
  conf=/etc/ufw/ufw.conf
  [ -s /etc/default/ufw ] && [ -s "$conf" ] || return ${NOT_VERIFIED}
  IPV6= MANAGE_BUILTINS= IPT_SYSCTL= IPT_MODULES= ENABLED= LOGLEVEL=
  DEFAULT_INPUT_POLICY= DEFAULT_OUTPUT_POLICY= DEFAULT_FORWARD_POLICY=
  . /etc/default/ufw
  . "$conf"
  [ "$IPV6" = yes ] && [ -d /proc/sys/net/ipv6 ] && [ "$MANAGE_BUILTINS" = no ] || return ${NOT_VERIFIED}
  [ ! -x /etc/ufw/before.init ] && [ ! -x /etc/ufw/after.init ] || return ${NOT_VERIFIED}
  case $ENABLED in yes|no) ;; *) return ${NOT_VERIFIED} ;; esac
  case $LOGLEVEL in off) n=0 ;; low) n=100 ;; medium) n=200 ;; high) n=300 ;; full) n=400 ;; *) return ${NOT_VERIFIED} ;; esac
  for pol in "$DEFAULT_INPUT_POLICY" "$DEFAULT_OUTPUT_POLICY" "$DEFAULT_FORWARD_POLICY"; do
    case $pol in ACCEPT|DROP|REJECT) ;; *) return ${NOT_VERIFIED} ;; esac
  done
  for f in before.rules after.rules user.rules before6.rules after6.rules user6.rules; do
    [ -s "/etc/ufw/$f" ] || return ${NOT_VERIFIED}
  done
  # The IPv4 chains, from one iptables-save: ufw's already running (ufw-user-input), and whether
  # its primary chains are new (below). Unreadable tables count as no chains, as a failed -L does.
  chains4=$(exec iptables-save -t filter 2>/dev/null) || chains4=
  case $chains4 in *"
:ufw-user-input "*) return ${NOT_VERIFIED} ;; esac
  for t in '' 6; do
    # The LOGGING section ufw writes for LOGLEVEL (backend_iptables.py _get_logging_rules).
    p=ufw$t want= lim=' -m limit --limit 3/min --limit-burst 10'
    if [ $n = 0 ]; then
      for c in input output forward; do want="$want-I $p-user-logging-$c -j RETURN
"; done
    else
      largs=; [ $n -lt 300 ] && largs=$lim
      for c in input output forward; do
        case $c in input) pol=$DEFAULT_INPUT_POLICY ;; output) pol=$DEFAULT_OUTPUT_POLICY ;; *) pol=$DEFAULT_FORWARD_POLICY ;; esac
        if [ "$pol" != ACCEPT ]; then want="$want-A $p-after-logging-$c -j LOG --log-prefix \\"[UFW BLOCK] \\"$largs
"
        elif [ $n -ge 200 ]; then want="$want-A $p-after-logging-$c -j LOG --log-prefix \\"[UFW ALLOW] \\"$largs
"
        fi
      done
      if [ $n -lt 200 ]; then want="$want-I $p-logging-deny -m conntrack --ctstate INVALID -j RETURN$largs
"
      else want="$want-A $p-logging-deny -m conntrack --ctstate INVALID -j LOG --log-prefix \\"[UFW AUDIT INVALID] \\"$largs
"
      fi
      want="$want-A $p-logging-deny -j LOG --log-prefix \\"[UFW BLOCK] \\"$largs
-A $p-logging-allow -j LOG --log-prefix \\"[UFW ALLOW] \\"$largs
"
      if [ $n -ge 200 ]; then
        largs=$lim
        [ $n = 200 ] && largs=" -m conntrack --ctstate NEW$lim"
        [ $n = 400 ] && largs=
        for c in input output forward; do want="$want-I $p-before-logging-$c -j LOG --log-prefix \\"[UFW AUDIT] \\"$largs
"; done
      fi
    fi
    have= in= all=
    while IFS= read -r line || [ -n "$line" ]; do
      all="$all$line
"
      case $line in
        '### LOGGING ###') in=1 ;;
        '### END LOGGING ###') in= ;;
        *) [ -n "$in" ] && have="$have$line
" ;;
      esac
    done < "/etc/ufw/user$t.rules"
    [ "$have" = "$want" ] || return ${NOT_VERIFIED}
    eval "user$t=\\$all"
  done
  # REJECT policies run as DROP plus the reject chain.
  in_drop= out_drop= fw_drop=
  [ "$DEFAULT_INPUT_POLICY" = REJECT ] && in_drop=DROP
  [ "$DEFAULT_OUTPUT_POLICY" = REJECT ] && out_drop=DROP
  [ "$DEFAULT_FORWARD_POLICY" = REJECT ] && fw_drop=DROP
  for m in $IPT_MODULES; do modprobe "$m" || true; done
  for t in '' 6; do
    p=ufw$t
    exe=ip\${t}tables
    eval "user=\\$user$t"
    hooks= has=no
    if [ -z "$t" ]; then
      case $chains4 in *"
:$p-before-logging-input "*) has=yes ;; esac
    elif $exe -n -L $p-before-logging-input >/dev/null 2>&1; then has=yes
    fi
    if [ $has = no ]; then
      for c in INPUT:input OUTPUT:output FORWARD:forward; do
        for s in before-logging before after after-logging reject track; do
          hooks="$hooks-A \${c%%:*} -j $p-$s-\${c#*:}
"
        done
      done
    fi
    {
      printf '*filter\n'
      for c in before-logging-input before-logging-output before-logging-forward before-input before-output before-forward \\
        after-input after-output after-forward after-logging-input after-logging-output after-logging-forward \\
        reject-input reject-output reject-forward track-input track-output track-forward; do
        printf ':%s - [0:0]\n' "$p-$c"
      done
      printf '%s' "$hooks"
      for c in input:$DEFAULT_INPUT_POLICY output:$DEFAULT_OUTPUT_POLICY forward:$DEFAULT_FORWARD_POLICY; do
        case \${c#*:} in
          REJECT) printf -- '-A %s -j REJECT\n' "$p-reject-\${c%%:*}" ;;
          ACCEPT) printf -- '-A %s -p tcp -m conntrack --ctstate NEW -j ACCEPT\n-A %s -p udp -m conntrack --ctstate NEW -j ACCEPT\n' "$p-track-\${c%%:*}" "$p-track-\${c%%:*}" ;;
        esac
      done
      printf 'COMMIT\n*filter\n:%s - [0:0]\n:%s - [0:0]\nCOMMIT\n' $p-logging-deny $p-logging-allow
      printf '*filter\n:%s - [0:0]\n:%s - [0:0]\n:%s - [0:0]\n' $p-skip-to-policy-input $p-skip-to-policy-output $p-skip-to-policy-forward
      for c in input:$DEFAULT_INPUT_POLICY output:$DEFAULT_OUTPUT_POLICY forward:$DEFAULT_FORWARD_POLICY; do
        printf -- '-A %s -j %s\n' "$p-skip-to-policy-\${c%%:*}" "\${c#*:}"
      done
      printf 'COMMIT\n'
      # A missing last newline added. One process, not a read loop: dash reads a file one byte per
      # system call, and before6.rules alone is 6.6 KB.
      awk 1 "/etc/ufw/before$t.rules" "/etc/ufw/after$t.rules"
      printf '*filter\n'
      for c in user-input user-output user-forward user-logging-input user-logging-output user-logging-forward user-limit user-limit-accept; do
        printf ':%s - [0:0]\n' "$p-$c"
      done
      printf 'COMMIT\n%s' "$user"
      printf '*filter\n-A %s-before-input -j %s-user-input\n-A %s-before-output -j %s-user-output\n-A %s-before-forward -j %s-user-forward\nCOMMIT\n' $p $p $p $p $p $p
      printf '*filter\n:INPUT %s [0:0]\n:FORWARD %s [0:0]\n:OUTPUT %s [0:0]\nCOMMIT\n' \\
        "\${DEFAULT_INPUT_POLICY%REJECT}\${in_drop}" "\${DEFAULT_FORWARD_POLICY%REJECT}\${fw_drop}" "\${DEFAULT_OUTPUT_POLICY%REJECT}\${out_drop}"
    } | $exe-restore -n || { echo "casfleet: $exe-restore of ufw's rules failed" >&2; return 1; }
  done
  if [ -n "$IPT_SYSCTL" ] && [ -s "$IPT_SYSCTL" ]; then sysctl -e -q -p "$IPT_SYSCTL" || true; fi
  if [ "$ENABLED" = no ]; then sed -i 's/^ENABLED=.*/ENABLED=yes/' "$conf" || return 1; fi
  echo 'Firewall is active and enabled on system startup'
)`;

/** Defines the shell function `ufw_direct_enable` (see above); it changes nothing when it returns NOT_VERIFIED. */
export const ufwDirectEnableFunction = (): RemoteCommand => sh`${raw(SCRIPT)}`;
