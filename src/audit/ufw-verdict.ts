// What the firewall's rules decide for TCP traffic to one port, as its chains evaluate them: the
// first matching rule wins, else what the backend does with traffic no rule decides (ufw's default
// incoming policy; for the iptables backend, INPUT's policy after the managed chain). The audit asks
// it for sources it cannot probe from ("who else may reach 7741?") and to tell a port that answers
// because of the firewall from one that answers despite it. Only IPv4 is evaluated: the probes are
// IPv4 and both backends keep a v6 twin of every rule without an address. Rules are the lock-out
// guard's backend-neutral GuardRule (steps/ssh-guard.ts).
import type { UfwState } from '../facts/ufw.ts';
import { overlaps, portRanges } from '../steps/port-ranges.ts';
import { addressMatch, type GuardRule, ufwGuardRule } from '../steps/ssh-guard.ts';
import type { RuleVerdict } from './audit-schema.ts';

// An incoming TCP rule for `port` that traffic arriving on `iface` for `destination` (undefined: the
// public address) meets; a rule bound to source ports never decides for a new connection.
const applies = (rule: GuardRule, port: number, iface: string, destination: string | undefined): boolean =>
  rule.tcp &&
  !rule.sourcePortBound &&
  overlaps(portRanges(rule.ports), [[port, port]]) &&
  (rule.interfaceIn === '' || rule.interfaceIn === iface) &&
  (rule.destination === '' || (destination !== undefined && addressMatch(rule.destination, destination) === 'yes'));

/**
 * The first-match verdict of `rules` for `port`/tcp arriving on `iface` for `destination`: `anyone`
 * is what a source no rule names meets (`fallthrough` when no rule decides); `from` lists the
 * sources allowed by name before that.
 */
export const portVerdict = (
  rules: readonly GuardRule[],
  port: number,
  iface: string,
  destination: string | undefined,
  fallthrough: RuleVerdict['anyone'],
): RuleVerdict => {
  const from: string[] = [];
  for (const rule of rules) {
    if (!applies(rule, port, iface, destination)) continue;
    if (rule.source === '') return { anyone: rule.allow ? 'allow' : 'block', from };
    if (rule.allow && !from.includes(rule.source)) from.push(rule.source);
  }
  return { anyone: fallthrough, from };
};

/**
 * ufw's verdict for `port`/tcp arriving on `iface` (the public interface) for `destination`.
 * Without an enabled firewall whose chains are loaded (`loaded`: the kernel has them), everyone is allowed.
 */
export const ufwVerdict = (ufw: UfwState, iface: string, port: number, destination?: string, loaded = true): RuleVerdict => {
  if (!ufw.installed || !ufw.enabled || !loaded) return { anyone: 'allow', from: [] };
  // Application rules (`dapp`) name their ports in ufw's app profiles, not in the rule.
  const rules = ufw.rules.v4.filter((rule) => rule.dapp === '').map((rule) => ufwGuardRule(rule, 'v4'));
  return portVerdict(rules, port, iface, destination, ufw.defaultIncoming === 'allow' ? 'allow' : 'block');
};
