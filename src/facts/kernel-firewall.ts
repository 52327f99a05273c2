// The live netfilter tables of both families, as the kernel has them: what actually filters, which
// may differ from what ufw's files say (a rule added with `iptables -I`, a chain flushed by hand, a
// Docker DNAT that never reaches INPUT). One `iptables-save` and one `ip6tables-save` (all tables;
// a few ms each), the forwarding switches (read with the shell, no process) and the iptables lines
// of CAS's own /batm/vpngen/firewall.rules, so its rules can be told from foreign ones.
// Reading the tables needs root (CAP_NET_ADMIN); without it the failure is reported, not guessed.
import { FactError } from '../errors.ts';
import type { Fact } from './fact.ts';
import { factLines, splitWord } from './fact-output.ts';
import { type IptablesDump, parseIptablesSave } from './iptables-save.ts';
import type { UfwFamily } from './ufw-tuple.ts';

export type KernelTables =
  | {
      readonly ok: true;
      readonly dump: IptablesDump;
      /** net.ipv4.ip_forward / net.ipv6.conf.all.forwarding is 1: the host routes packets not addressed to it. */
      readonly forwarding: boolean;
    }
  | { readonly ok: false; readonly error: string };

export interface KernelFirewall {
  readonly v4: KernelTables;
  /** Absent when the kernel has no IPv6 at all (no /proc/sys/net/ipv6). */
  readonly v6?: KernelTables;
  /** Lines of /batm/vpngen/firewall.rules that run iptables/ip6tables (CAS's terminal-VPN rules). */
  readonly casRuleCommands: readonly string[];
}

const FACT_ID = 'firewall.kernel';
export const CAS_FIREWALL_RULES = '/batm/vpngen/firewall.rules';

// Inline (no subshell; nothing here globs: every expansion is a fixed word); each save's stderr is
// merged so a failure carries its reason; the blank line keeps the exit marker on its own line
// whatever the tool printed last.
const SCRIPT = `PATH="$PATH:/usr/sbin:/sbin"
for family in 4 6; do
  if [ $family = 4 ]; then save=iptables-save; fwd=/proc/sys/net/ipv4/ip_forward
  else save=ip6tables-save; fwd=/proc/sys/net/ipv6/conf/all/forwarding
    if [ ! -d /proc/sys/net/ipv6 ]; then echo 'tables6 no-ipv6'; continue; fi
  fi
  f=''
  if [ -r $fwd ]; then read -r f < $fwd || :; fi
  echo "forwarding$family \${f:-unknown}"
  echo "tables$family begin"
  if command -v $save >/dev/null 2>&1; then $save 2>&1; rc=$?; else echo "$save: command not found"; rc=127; fi
  echo
  echo "tables$family exit $rc"
done
if [ -r ${CAS_FIREWALL_RULES} ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in *iptables*) printf 'cas-rule %s\\n' "$line" ;; esac
  done < ${CAS_FIREWALL_RULES}
fi
echo end`;

const FAMILY: Readonly<Record<string, UfwFamily>> = { '4': 'v4', '6': 'v6' };

/** Parses the output of the kernel firewall fact script. */
export const parseKernelFirewall = (output: string): KernelFirewall => {
  const lines = factLines(FACT_ID, output);
  const families: Partial<Record<UfwFamily, KernelTables>> = {};
  const forwarding: Partial<Record<UfwFamily, string>> = {};
  const casRuleCommands: string[] = [];
  let noIpv6 = false;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    const [word, rest] = splitWord(line);
    const section = /^(forwarding|tables)([46])$/.exec(word);
    const family = FAMILY[section?.[2] ?? ''];
    if (word === 'cas-rule') {
      casRuleCommands.push(rest);
    } else if (section?.[1] === 'forwarding' && family) {
      forwarding[family] = rest;
    } else if (section && family && rest === 'no-ipv6' && family === 'v6') {
      noIpv6 = true;
    } else if (section && family && rest === 'begin') {
      const end = lines.findIndex((l, j) => j > i && l.startsWith(`${word} exit `));
      if (end === -1) throw new FactError(`${FACT_ID}: ${word} section has no exit line`);
      const status = Number(lines[end]?.slice(`${word} exit `.length));
      const body = lines.slice(i + 1, end).join('\n');
      const source = family === 'v4' ? 'iptables-save' : 'ip6tables-save';
      families[family] =
        status === 0
          ? { ok: true, dump: parseIptablesSave(body, `${FACT_ID}: ${source}`), forwarding: forwarding[family] === '1' }
          : { ok: false, error: `${source} failed (exit ${status}): ${body.trim().split('\n')[0] ?? ''}`.trim() };
      i = end;
    } else {
      throw new FactError(`${FACT_ID}: unexpected line "${line}"`);
    }
  }
  if (!families.v4) throw new FactError(`${FACT_ID}: no iptables-save section`);
  if (!families.v6 && !noIpv6) throw new FactError(`${FACT_ID}: no ip6tables-save section`);
  return { v4: families.v4, ...(families.v6 ? { v6: families.v6 } : {}), casRuleCommands };
};

/** The live iptables/ip6tables tables, forwarding switches and CAS's own rule commands. */
export const kernelFirewall: Fact<KernelFirewall> = { id: FACT_ID, script: SCRIPT, inline: true, parse: parseKernelFirewall };
