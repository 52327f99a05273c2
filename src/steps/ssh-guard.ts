// The lock-out guard: would the firewall a plan leaves behind still accept the SSH connection
// casfleet is using right now, were it opened again? Pure: the FINAL ufw rule lists (managed and
// unmanaged, in ufw's order per family), the default incoming policy and the connection as the host
// sees it (ssh-connection.ts). Evaluated like ufw's chains for a new TCP connection:
//   ufw-before-input accepts loopback; ufw-user-input is first-match over the rules; then the policy.
// With IPV6=no ufw drops all IPv6 except loopback. Where a rule looks at something the next login
// cannot be known to share (a source port, an interface when the route is unknown) the guard is
// conservative: such an allow does not count, such a deny does.
import type { SshConnection } from '../facts/ssh-connection.ts';
import type { UfwFamily, UfwRule } from '../facts/ufw-tuple.ts';
import type { UfwPolicy } from '../facts/ufw.ts';
import { ANY_ADDRESS, networkContains, parseNetwork } from './cidr.ts';
import { overlaps, portRanges } from './port-ranges.ts';
import { formatRule, isManaged } from './ufw-model.ts';

export interface SshGuardInput {
  readonly connection: SshConnection;
  /** The rules as ufw will hold them once the plan is applied. */
  readonly rules: Readonly<Record<UfwFamily, readonly UfwRule[]>>;
  /** ufw manages IPv6 (IPV6=yes); otherwise it drops every IPv6 packet but loopback. */
  readonly ipv6: boolean;
  readonly defaultIncoming: UfwPolicy;
}

export type SshVerdict =
  | { readonly allowed: true; readonly by: 'loopback' | 'policy' | UfwRule }
  | { readonly allowed: false; readonly blockedBy?: UfwRule; readonly reason?: string };

type Match = 'yes' | 'no' | 'maybe';

const isAllow = (rule: UfwRule): boolean => rule.action === 'allow' || rule.action === 'limit';
const isIncomingTcp = (rule: UfwRule): boolean => rule.direction === 'in' && !rule.route && (rule.proto === 'any' || rule.proto === 'tcp');

const addressMatch = (ruleAddress: string, address: string, family: UfwFamily): Match => {
  if (ruleAddress === ANY_ADDRESS[family]) return 'yes';
  const outer = parseNetwork(ruleAddress);
  const inner = parseNetwork(address);
  if (!outer || !inner) return 'maybe';
  return networkContains(outer, inner) ? 'yes' : 'no';
};

/** Does a new connection like this one match the rule? */
export const matchesConnection = (rule: UfwRule, connection: SshConnection): Match => {
  const { family } = connection;
  if (!isIncomingTcp(rule) || !overlaps(portRanges(rule.dport), [[connection.serverPort, connection.serverPort]])) return 'no';
  const parts: Match[] = [
    addressMatch(rule.src, connection.clientAddress, family),
    addressMatch(rule.dst, connection.serverAddress, family),
    // The next login comes from another source port.
    rule.sport === 'any' ? 'yes' : 'maybe',
    rule.interfaceIn === '' ? 'yes' : connection.interface === undefined ? 'maybe' : rule.interfaceIn === connection.interface ? 'yes' : 'no',
  ];
  return parts.includes('no') ? 'no' : parts.includes('maybe') ? 'maybe' : 'yes';
};

const LOOPBACK = ['127.0.0.0/8', '::1'].map((text) => parseNetwork(text)!);

/** The verdict of ufw's chains, as they will be, for a new connection like this one. */
export const checkSshAccess = ({ connection, rules, ipv6, defaultIncoming }: SshGuardInput): SshVerdict => {
  const client = parseNetwork(connection.clientAddress);
  if (connection.interface === 'lo' || (client && LOOPBACK.some((loopback) => networkContains(loopback, client)))) {
    return { allowed: true, by: 'loopback' };
  }
  if (connection.family === 'v6' && !ipv6) {
    return { allowed: false, reason: 'ufw has IPv6 off (IPV6=no in /etc/default/ufw), so it drops every IPv6 connection' };
  }
  for (const rule of rules[connection.family]) {
    const match = matchesConnection(rule, connection);
    if (match === 'no') continue;
    if (!isAllow(rule)) return { allowed: false, blockedBy: rule };
    if (match === 'yes') return { allowed: true, by: rule };
  }
  return defaultIncoming === 'allow' ? { allowed: true, by: 'policy' } : { allowed: false };
};

// "from anywhere", "only from 192.0.2.0/24, 198.51.100.7", "only in on eth1".
const describeAllows = (allows: readonly UfwRule[], family: UfwFamily): string => {
  const open = allows.filter((rule) => rule.src === ANY_ADDRESS[family] && rule.interfaceIn === '' && rule.sport === 'any');
  if (open.length > 0) return 'from anywhere';
  return `only ${allows
    .map((rule) => [rule.src === ANY_ADDRESS[family] ? '' : `from ${rule.src}`, rule.interfaceIn ? `in on ${rule.interfaceIn}` : ''].filter(Boolean).join(' ') || formatRule(rule))
    .join(', ')}`;
};

/**
 * Why applying the plan would lock this session out, naming what the plan allows for SSH, where
 * the session comes from, and what to do. `sshPort` is the port the plan is meant to keep for SSH.
 */
export const lockOutMessage = (input: SshGuardInput, verdict: Extract<SshVerdict, { allowed: false }>, sshPort: number): string => {
  const { connection } = input;
  const { family, serverPort } = connection;
  const allowsFor = (port: number) =>
    input.rules[family].filter((rule) => isAllow(rule) && isIncomingTcp(rule) && overlaps(portRanges(rule.dport), [[port, port]]));
  const planned = allowsFor(sshPort);
  const allows = planned.length > 0 ? `the plan allows SSH on ${sshPort}/tcp ${describeAllows(planned, family)}` : `the plan allows nothing on ${sshPort}/tcp`;
  const session = `this session comes from ${connection.clientAddress} to port ${serverPort}${connection.interface ? ` (on ${connection.interface})` : ''}`;
  const why = verdict.blockedBy
    ? `, and rule "${formatRule(verdict.blockedBy)}" [${family}] comes first and blocks it`
    : verdict.reason
      ? `, and ${verdict.reason}`
      : '';
  let advice: string;
  if (sshPort !== serverPort && !verdict.reason) {
    advice =
      `To move SSH to ${sshPort}: make sshd listen on ${sshPort} as well, connect on it (ansible_port: ${sshPort}) and apply again; ` +
      `or keep ${serverPort} open meanwhile with a rule of your own (ufw allow ${serverPort}/tcp), which casfleet leaves alone.`;
  } else if (verdict.blockedBy) {
    advice = isManaged(verdict.blockedBy)
      ? 'Change the playbook so the SSH allow comes before that rule.'
      : 'Delete or move that rule (casfleet never changes rules it does not own).';
  } else if (verdict.reason) {
    advice = 'Connect over IPv4, or set IPV6=yes in /etc/default/ufw.';
  } else if (planned.some((rule) => rule.interfaceIn !== '' && rule.interfaceIn !== connection.interface)) {
    advice = `The SSH allow is bound to another interface than the one this session arrives on${connection.interface ? '' : ' (which the host could not tell)'}.`;
  } else {
    advice = 'Add this address (or its network) to sshAllowFrom, or run casfleet from an address the plan allows.';
  }
  return `${allows}; ${session}${why}: applying it would lock you out. ${advice}`;
};
