// Warnings about rules casfleet does not own but that fight the managed policy. casfleet never
// touches unmanaged rules (other admins' rules, GB-guide leftovers such as `ufw allow 7777/tcp`), but
// an operator must know when one of them opens a port the policy keeps closed, or shadows a managed
// allow by denying the same traffic earlier in the list.

import type { UfwPolicy } from '../facts/ufw.ts';
import type { UfwFamily, UfwRule } from '../facts/ufw-tuple.ts';
import { ANY_ADDRESS } from './cidr.ts';
import { covers, overlaps, portRanges } from './port-ranges.ts';
import { isManagedComment } from './ufw-managed-rule.ts';
import { formatRule, isManaged, matchKey } from './ufw-model.ts';

const isAllow = (rule: UfwRule): boolean => rule.action === 'allow' || rule.action === 'limit';
const isIncoming = (rule: UfwRule): boolean => rule.direction === 'in' && !rule.route;

// `wide` lets through at least all the traffic of `narrow` (same or any proto, ports, source, interface).
const isWider = (wide: UfwRule, narrow: UfwRule, family: UfwFamily): boolean =>
  (wide.proto === 'any' || wide.proto === narrow.proto) &&
  covers(portRanges(wide.dport), portRanges(narrow.dport)) &&
  (wide.src === ANY_ADDRESS[family] || wide.src === narrow.src) &&
  (wide.interfaceIn === '' || wide.interfaceIn === narrow.interfaceIn) &&
  wide.sport === 'any' &&
  wide.dst === ANY_ADDRESS[family];

/**
 * Warnings for the rule lists as they will be after the plan. `desiredKeys` are the match keys of
 * desired rules (unmanaged rules equal to a desired one are part of the policy, not against it).
 */
export const unmanagedRuleWarnings = (
  final: Readonly<Record<UfwFamily, readonly UfwRule[]>>,
  desiredKeys: ReadonlySet<string>,
  defaultIncoming: UfwPolicy,
): string[] => {
  const warnings = new Set<string>();
  for (const family of ['v4', 'v6'] as const) {
    const list = final[family];
    const managedAllows = list.filter((rule) => isManaged(rule) && isAllow(rule) && isIncoming(rule));
    list.forEach((rule, position) => {
      if (isManaged(rule)) return;
      if (desiredKeys.has(matchKey(rule))) {
        warnings.add(`desired rule "${formatRule(rule)}" is provided by an unmanaged rule (no casfleet comment), left as it is`);
        return;
      }
      if (isManagedComment(rule.comment)) {
        warnings.add(`rule "${formatRule(rule)}" has a casfleet comment but is a route/app rule: casfleet does not manage it`);
        return;
      }
      if (!isIncoming(rule)) return;
      if (isAllow(rule) && defaultIncoming !== 'allow' && !managedAllows.some((allow) => isWider(allow, rule, family))) {
        warnings.add(`unmanaged rule "${formatRule(rule)}" opens traffic the managed policy keeps closed (casfleet leaves it in place)`);
      }
      if (!isAllow(rule)) {
        const shadowed = list
          .slice(position + 1)
          .filter((later) => isManaged(later) && isAllow(later) && isIncoming(later) && isWider(rule, later, family));
        for (const allow of shadowed) {
          warnings.add(
            `unmanaged rule "${formatRule(rule)}" comes first and blocks managed "${formatRule(allow)}" (casfleet leaves it in place)`,
          );
        }
      }
    });
  }
  return [...warnings];
};

/**
 * True when, in rule order, some allow/limit rule lets TCP traffic to `port` in and no earlier
 * deny/reject rule blocks all of what it allows: enabling ufw with these rules keeps SSH reachable.
 */
export const keepsPortOpen = (rules: readonly UfwRule[], family: UfwFamily, port: number): boolean =>
  rules.some(
    (rule, position) =>
      isAllow(rule) &&
      isIncoming(rule) &&
      (rule.proto === 'tcp' || rule.proto === 'any') &&
      overlaps(portRanges(rule.dport), [[port, port]]) &&
      !rules.slice(0, position).some((earlier) => !isAllow(earlier) && isIncoming(earlier) && isWider(earlier, rule, family)),
  );
