// What ufw's rules decide for TCP traffic to one port, per address family as ufw evaluates them:
// the first matching rule of the user chain wins, else the default incoming policy. The audit asks
// it for sources it cannot probe from ("who else may reach 7741?") and to tell a port that answers
// because of ufw from one that answers despite it. Only IPv4 is evaluated: the probes are IPv4 and
// ufw keeps a v6 twin of every rule without an address.
import type { UfwRule, UfwState } from '../facts/ufw.ts';
import { ANY_ADDRESS } from '../steps/cidr.ts';
import { overlaps, portRanges } from '../steps/port-ranges.ts';
import type { RuleVerdict } from './audit-schema.ts';

const isAllow = (rule: UfwRule): boolean => rule.action === 'allow' || rule.action === 'limit';

// An incoming, non-route TCP rule for `port` that traffic arriving on `iface` for `destination` meets.
const applies = (rule: UfwRule, port: number, iface: string, destination: string | undefined): boolean =>
  rule.direction === 'in' &&
  !rule.route &&
  rule.dapp === '' &&
  (rule.proto === 'tcp' || rule.proto === 'any') &&
  overlaps(portRanges(rule.dport), [[port, port]]) &&
  rule.sport === 'any' &&
  (rule.interfaceIn === '' || rule.interfaceIn === iface) &&
  (rule.dst === ANY_ADDRESS.v4 || rule.dst === destination);

/**
 * The verdict for `port`/tcp arriving on `iface` (the public interface) for `destination`: `anyone`
 * is what a source no rule names meets; `from` lists the sources allowed by name before that.
 * Without an enabled firewall whose chains are loaded (`loaded`: the kernel has them), everyone is allowed.
 */
export const ufwVerdict = (ufw: UfwState, iface: string, port: number, destination?: string, loaded = true): RuleVerdict => {
  if (!ufw.installed || !ufw.enabled || !loaded) return { anyone: 'allow', from: [] };
  const from: string[] = [];
  for (const rule of ufw.rules.v4) {
    if (!applies(rule, port, iface, destination)) continue;
    if (rule.src === ANY_ADDRESS.v4) return { anyone: isAllow(rule) ? 'allow' : 'block', from };
    if (isAllow(rule) && !from.includes(rule.src)) from.push(rule.src);
  }
  return { anyone: ufw.defaultIncoming === 'allow' ? 'allow' : 'block', from };
};
