// The iptables backend's managed chains as text: casfleet owns one chain per family, CASFLEET-INPUT
// (iptables and ip6tables), and one rule in INPUT that jumps to it. Rules are rendered exactly as
// iptables-save prints them (iptables 1.8, nf_tables and legacy print the same text for these
// matches, verified), so "running rules equal the plan" is a line-by-line comparison, and the same
// lines are valid iptables-restore input.
//
// The chain follows GB's Option 2 order [C] FW: loopback, established/related, then the policy's
// rules (SSH, admin access, pairing, terminal VPN, extensions, proxy, in the order the playbook gives
// them), then "block everything else" as a DROP of whatever else arrives on the public interface.
// IPv6 also needs neighbour discovery (NDP) before that drop, or the host loses IPv6 altogether [I]
// (ufw's before6.rules accepts the same four types).
import { type Cidr, iptablesCidr } from './cidr.ts';
import type { InterfaceOf } from './public-interface.ts';
import type { ManagedRule } from './ufw-managed-rule.ts';

export type Family = Cidr['family'];

export const MANAGED_CHAIN = 'CASFLEET-INPUT';

/** The INPUT rule that sends every incoming packet through the managed chain. */
export const JUMP_RULE = `-A INPUT -m comment --comment "casfleet: managed chain" -j ${MANAGED_CHAIN}`;

/** The rule as the `-A INPUT …` of JUMP_RULE, for `-I INPUT 1 …` / `-D INPUT …` lines. */
export const JUMP_SPEC = JUMP_RULE.slice('-A INPUT '.length);

/** A managed rule whose port is known on this host (`connection` resolved to the session's port). */
export type ResolvedRule = ManagedRule & { readonly port: number | readonly [number, number] };

/** The managed chain's rules per family, each a full `-A CASFLEET-INPUT …` line. */
export type ChainLines = Readonly<Record<Family, readonly string[]>>;

// iptables-save always double-quotes a comment and backslash-escapes `"`; the step refuses `"` and
// `\` in comments, so quoting is all that is left to do.
const comment = (text: string): string => `-m comment --comment "${text}"`;

const line = (...words: string[]): string => ['-A', MANAGED_CHAIN, ...words].join(' ');

const NDP_TYPES = [133, 134, 135, 136] as const; // router solicitation/advertisement, neighbour solicitation/advertisement

const TARGETS: Readonly<Record<'allow' | 'deny' | 'reject', (proto: string, family: Family) => string>> = {
  allow: () => '-j ACCEPT',
  deny: () => '-j DROP',
  // What iptables-save prints for `-j REJECT` (udp: the default ICMP answer) and for tcp's reset.
  reject: (proto, family) =>
    `-j REJECT --reject-with ${proto === 'tcp' ? 'tcp-reset' : family === 'v4' ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'}`,
};

/** The chain lines of one managed rule in one family ([] when its source is of the other family). */
export const ruleLines = (rule: ResolvedRule, family: Family, iface: string): string[] => {
  const source = rule.from === undefined ? undefined : iptablesCidr(rule.from);
  if (source && source.family !== family) return [];
  if (rule.action === 'limit') throw new Error('internal: limit rules are refused when the iptables step is built');
  const port = Array.isArray(rule.port) ? `${rule.port[0]}:${rule.port[1]}` : String(rule.port);
  // No proto means tcp and udp, as in ufw.
  return (rule.proto ? [rule.proto] : ['tcp', 'udp']).map((proto) =>
    line(
      ...(source ? ['-s', source.text] : []),
      ...(iface ? ['-i', iface] : []),
      `-p ${proto} -m ${proto} --dport ${port}`,
      comment(rule.comment),
      TARGETS[rule.action as 'allow' | 'deny' | 'reject'](proto, family),
    ),
  );
};

/** The whole managed chain per family: frame, the rules in order, the final drop on the public interface. */
export const renderChains = (
  rules: readonly ResolvedRule[],
  interfaceOf: InterfaceOf,
  publicInterface: string,
  families: readonly Family[],
): ChainLines => {
  const chain = (family: Family): string[] => [
    line('-i lo', comment('casfleet: loopback'), '-j ACCEPT'),
    line('-m conntrack --ctstate RELATED,ESTABLISHED', comment('casfleet: established and related'), '-j ACCEPT'),
    ...(family === 'v6'
      ? NDP_TYPES.map((type) =>
          line(`-p ipv6-icmp -m icmp6 --icmpv6-type ${type}`, comment('casfleet: IPv6 neighbour discovery'), '-j ACCEPT'),
        )
      : []),
    ...rules.flatMap((rule) => ruleLines(rule, family, interfaceOf(rule.interface))),
    line('-i', publicInterface, comment('casfleet: everything else on the public interface'), '-j DROP'),
  ];
  return { v4: families.includes('v4') ? chain('v4') : [], v6: families.includes('v6') ? chain('v6') : [] };
};

/** What the chain's rules say, without the `-A CASFLEET-INPUT` prefix, for summaries. */
export const ruleText = (chainLine: string): string => chainLine.replace(/^-A \S+ /, '');
