// The lock-out guard: would the firewall a plan leaves behind still accept the SSH connection
// casfleet is using right now, were it opened again? Pure. The core is backend-neutral: a
// first-match list of rules (GuardRule) evaluated for a new TCP connection like this one
// (ssh-connection.ts), then what happens to a connection no rule decides. Each backend supplies its
// final list and that fall-through:
// - ufw: the FINAL ufw rule lists (managed and unmanaged, in ufw's order per family), like ufw's
//   chains: ufw-before-input accepts loopback; ufw-user-input is first-match; then the default
//   policy. With IPV6=no ufw drops all IPv6 except loopback.
// - iptables: the managed chain as planned (loopback, the policy's rules in order, then GB's drop of
//   everything else on the public interface, which acts like a deny policy); a connection on another
//   interface that no rule takes falls through to whatever INPUT does after the chain, which the plan
//   does not decide, so it is not counted as allowed.
// Where a rule looks at something the next login cannot be known to share (a source port, an
// interface when the route is unknown) the guard is conservative: such an allow does not count,
// such a deny does.
import type { SshConnection } from '../facts/ssh-connection.ts';
import type { UfwPolicy } from '../facts/ufw.ts';
import type { UfwFamily, UfwRule } from '../facts/ufw-tuple.ts';
import { ANY_ADDRESS, networkContains, parseNetwork } from './cidr.ts';
import type { ResolvedRule } from './iptables-chain.ts';
import { overlaps, portRanges } from './port-ranges.ts';
import { formatRule, isManaged } from './ufw-model.ts';

/** A rule as the guard evaluates it, whatever the backend. */
export interface GuardRule {
  readonly allow: boolean;
  /** It matches TCP (tcp, or every protocol). */
  readonly tcp: boolean;
  /** Destination ports as ufw/iptables port text: `any`, `22`, `12000:12050`, `80,443`. */
  readonly ports: string;
  /** Source and destination network; '' = anywhere. */
  readonly source: string;
  readonly destination: string;
  /** It only matches some source ports: a new login comes from another one. */
  readonly sourcePortBound: boolean;
  /** '' = any interface. */
  readonly interfaceIn: string;
  /** How people read the rule, for messages. */
  readonly text: string;
  /** casfleet owns the rule (the playbook can move it), or someone else does. */
  readonly managed: boolean;
}

export type SshVerdict =
  | { readonly allowed: true; readonly by: 'loopback' | 'policy' | GuardRule }
  | { readonly allowed: false; readonly blockedBy?: GuardRule; readonly reason?: string };

type Match = 'yes' | 'no' | 'maybe';

export const addressMatch = (ruleAddress: string, address: string): Match => {
  if (ruleAddress === '') return 'yes';
  const outer = parseNetwork(ruleAddress);
  const inner = parseNetwork(address);
  if (!outer || !inner) return 'maybe';
  return networkContains(outer, inner) ? 'yes' : 'no';
};

/** Does a new connection like this one match the rule? */
export const matchesConnection = (rule: GuardRule, connection: SshConnection): Match => {
  if (!rule.tcp || !overlaps(portRanges(rule.ports), [[connection.serverPort, connection.serverPort]])) return 'no';
  const parts: Match[] = [
    addressMatch(rule.source, connection.clientAddress),
    addressMatch(rule.destination, connection.serverAddress),
    // The next login comes from another source port.
    rule.sourcePortBound ? 'maybe' : 'yes',
    rule.interfaceIn === ''
      ? 'yes'
      : connection.interface === undefined
        ? 'maybe'
        : rule.interfaceIn === connection.interface
          ? 'yes'
          : 'no',
  ];
  return parts.includes('no') ? 'no' : parts.includes('maybe') ? 'maybe' : 'yes';
};

const LOOPBACK = ['127.0.0.0/8', '::1'].map((text) => parseNetwork(text)!);

const isLoopback = (connection: SshConnection): boolean => {
  const client = parseNetwork(connection.clientAddress);
  return connection.interface === 'lo' || (client !== undefined && LOOPBACK.some((loopback) => networkContains(loopback, client)));
};

/** First match over `rules` for a new connection like this one; `fallthrough` when none decides. */
export const firstMatchVerdict = (rules: readonly GuardRule[], connection: SshConnection, fallthrough: SshVerdict): SshVerdict => {
  if (isLoopback(connection)) return { allowed: true, by: 'loopback' };
  for (const rule of rules) {
    const match = matchesConnection(rule, connection);
    if (match === 'no') continue;
    if (!rule.allow) return { allowed: false, blockedBy: rule };
    if (match === 'yes') return { allowed: true, by: rule };
  }
  return fallthrough;
};

// ---------- ufw ----------

export interface SshGuardInput {
  readonly connection: SshConnection;
  /** The rules as ufw will hold them once the plan is applied. */
  readonly rules: Readonly<Record<UfwFamily, readonly UfwRule[]>>;
  /** ufw manages IPv6 (IPV6=yes); otherwise it drops every IPv6 packet but loopback. */
  readonly ipv6: boolean;
  readonly defaultIncoming: UfwPolicy;
}

const anyOrText = (address: string, family: UfwFamily): string => (address === ANY_ADDRESS[family] ? '' : address);

/** A ufw rule for the guard (route and outgoing rules never match an incoming login). */
export const ufwGuardRule = (rule: UfwRule, family: UfwFamily): GuardRule => ({
  allow: rule.action === 'allow' || rule.action === 'limit',
  tcp: rule.direction === 'in' && !rule.route && (rule.proto === 'any' || rule.proto === 'tcp'),
  ports: rule.dport,
  source: anyOrText(rule.src, family),
  destination: anyOrText(rule.dst, family),
  sourcePortBound: rule.sport !== 'any',
  interfaceIn: rule.interfaceIn,
  text: formatRule(rule),
  managed: isManaged(rule),
});

/** The verdict of ufw's chains, as they will be, for a new connection like this one. */
export const checkSshAccess = ({ connection, rules, ipv6, defaultIncoming }: SshGuardInput): SshVerdict => {
  if (connection.family === 'v6' && !ipv6 && !isLoopback(connection)) {
    return { allowed: false, reason: 'ufw has IPv6 off (IPV6=no in /etc/default/ufw), so it drops every IPv6 connection' };
  }
  const policy: SshVerdict = defaultIncoming === 'allow' ? { allowed: true, by: 'policy' } : { allowed: false };
  return firstMatchVerdict(
    rules[connection.family].map((rule) => ufwGuardRule(rule, connection.family)),
    connection,
    policy,
  );
};

// ---------- the iptables backend's managed chain ----------

export interface ChainGuardInput {
  readonly connection: SshConnection;
  /** The policy's rules in chain order, ports resolved (no 'connection' left), interfaces resolved. */
  readonly rules: readonly ResolvedRule[];
  /** Each rule's resolved interface ('' for none). */
  readonly interfaces: readonly string[];
  /** Where the final drop applies. */
  readonly publicInterface: string;
}

/** A managed rule of the iptables backend for the guard (only rules of the connection's family count). */
const chainGuardRule = (rule: ChainGuardInput['rules'][number], iface: string): GuardRule => ({
  allow: rule.action === 'allow',
  tcp: rule.proto !== 'udp',
  ports: Array.isArray(rule.port) ? `${rule.port[0]}:${rule.port[1]}` : String(rule.port),
  source: rule.from ?? '',
  destination: '',
  sourcePortBound: false,
  interfaceIn: iface,
  text: `${rule.action} ${Array.isArray(rule.port) ? `${rule.port[0]}:${rule.port[1]}` : rule.port}/${rule.proto ?? 'tcp+udp'}${iface ? ` in on ${iface}` : ''}${rule.from ? ` from ${rule.from}` : ''} (${rule.comment})`,
  managed: true,
});

/** The managed chain's rules as planned, as guard rules of the connection's family. */
export const chainGuardRules = ({ connection, rules, interfaces }: ChainGuardInput): GuardRule[] =>
  rules
    .map((rule, index) => chainGuardRule(rule, interfaces[index] ?? ''))
    .filter((rule) => rule.source === '' || parseNetwork(rule.source)?.family === connection.family);

/**
 * The verdict of the managed chain, as planned, for a new connection like this one. What no rule
 * takes meets the final drop on the public interface (like a deny policy); on another interface it
 * leaves the chain for whatever INPUT does next, which the plan does not decide.
 */
export const checkChainSshAccess = (input: ChainGuardInput): SshVerdict => {
  const { connection, publicInterface } = input;
  const dropped = connection.interface === undefined || connection.interface === publicInterface;
  return firstMatchVerdict(chainGuardRules(input), connection, {
    allowed: false,
    ...(dropped
      ? {}
      : {
          reason: `it arrives on ${connection.interface}, where no managed rule accepts it and what INPUT does after the managed chain is not part of the plan`,
        }),
  });
};

// ---------- the message ----------

// "from anywhere", "only from 192.0.2.0/24, 198.51.100.7", "only in on eth1".
const describeAllows = (allows: readonly GuardRule[]): string => {
  const open = allows.filter((rule) => rule.source === '' && rule.interfaceIn === '' && !rule.sourcePortBound);
  if (open.length > 0) return 'from anywhere';
  return `only ${allows
    .map(
      (rule) =>
        [rule.source === '' ? '' : `from ${rule.source}`, rule.interfaceIn ? `in on ${rule.interfaceIn}` : ''].filter(Boolean).join(' ') ||
        rule.text,
    )
    .join(', ')}`;
};

/** What the message needs: the connection and the rules of its family, in evaluation order. */
export interface LockOutInput {
  readonly connection: SshConnection;
  readonly rules: readonly GuardRule[];
}

/** The ufw guard input as a LockOutInput. */
export const ufwLockOutInput = (input: SshGuardInput): LockOutInput => ({
  connection: input.connection,
  rules: input.rules[input.connection.family].map((rule) => ufwGuardRule(rule, input.connection.family)),
});

/**
 * Why applying the plan would lock this session out, naming what the plan allows for SSH, where
 * the session comes from, and what to do. `sshPort` is the port the plan is meant to keep for SSH.
 */
export const lockOutMessage = (input: LockOutInput, verdict: Extract<SshVerdict, { allowed: false }>, sshPort: number): string => {
  const { connection } = input;
  const { family, serverPort } = connection;
  const allowsFor = (port: number) =>
    input.rules.filter((rule) => rule.allow && rule.tcp && overlaps(portRanges(rule.ports), [[port, port]]));
  const planned = allowsFor(sshPort);
  const allows =
    planned.length > 0 ? `the plan allows SSH on ${sshPort}/tcp ${describeAllows(planned)}` : `the plan allows nothing on ${sshPort}/tcp`;
  const session = `this session comes from ${connection.clientAddress} to port ${serverPort}${connection.interface ? ` (on ${connection.interface})` : ''}`;
  const why = verdict.blockedBy
    ? `, and rule "${verdict.blockedBy.text}" [${family}] comes first and blocks it`
    : verdict.reason
      ? `, and ${verdict.reason}`
      : '';
  let advice: string;
  if (sshPort !== serverPort && !verdict.reason) {
    advice =
      `To move SSH to ${sshPort}: make sshd listen on ${sshPort} as well, connect on it (ansible_port: ${sshPort}) and apply again; ` +
      `or keep ${serverPort} open meanwhile with a rule of your own (ufw allow ${serverPort}/tcp), which casfleet leaves alone.`;
  } else if (verdict.blockedBy) {
    advice = verdict.blockedBy.managed
      ? 'Change the playbook so the SSH allow comes before that rule.'
      : 'Delete or move that rule (casfleet never changes rules it does not own).';
  } else if (verdict.reason?.startsWith('ufw has IPv6 off')) {
    advice = 'Connect over IPv4, or set IPV6=yes in /etc/default/ufw.';
  } else if (planned.some((rule) => rule.interfaceIn !== '' && rule.interfaceIn !== connection.interface)) {
    advice = `The SSH allow is bound to another interface than the one this session arrives on${connection.interface ? '' : ' (which the host could not tell)'}.`;
  } else {
    advice = 'Add this address (or its network) to sshAllowFrom, or run casfleet from an address the plan allows.';
  }
  return `${allows}; ${session}${why}: applying it would lock you out. ${advice}`;
};
