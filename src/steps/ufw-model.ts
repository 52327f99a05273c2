// Pure helpers over ufw rules: identity (what ufw considers "the same rule"), the desired rules per
// address family, human formatting, and the ufw CLI words that describe a rule.
import { memoByIdentity } from '../facts/memo.ts';
import type { UfwFamily, UfwRule } from '../facts/ufw-tuple.ts';
import { ANY_ADDRESS, parseCidr } from './cidr.ts';
import { isManagedComment, type ManagedRule, shortComment } from './ufw-managed-rule.ts';

// Rules are read-only values, and a rule parsed from a file is shared by every host whose file holds
// the same line (parseUfwTuple): a planner that compares rules pairwise asks for the same rule's key
// and text many times over, across the fleet: both are kept with the rule (memoByIdentity).

/**
 * ufw keeps at most one rule per "match" in a family: everything except action, log type and comment
 * (common.py UFWRule.match). Adding a rule whose match exists REPLACES that rule in place; inserting
 * one is silently skipped ("Skipping inserting existing rule", exit 0). So this key is the identity.
 */
export const matchKey = memoByIdentity((rule: UfwRule): string =>
  [
    rule.proto,
    rule.dport,
    rule.dst,
    rule.sport,
    rule.src,
    rule.direction,
    rule.interfaceIn,
    rule.interfaceOut,
    rule.route,
    rule.dapp,
    rule.sapp,
  ].join('|'),
);

/** Same match, action, log type and comment: ufw's exact match (UFWRule.match == 0). */
export const sameRule = (a: UfwRule, b: UfwRule): boolean =>
  matchKey(a) === matchKey(b) && a.action === b.action && a.log === b.log && a.comment === b.comment;

/** A rule casfleet owns: its comment starts with `casfleet:`; route and app rules are never ours. */
export const isManaged = (rule: UfwRule): boolean => isManagedComment(rule.comment) && !rule.route && rule.dapp === '' && rule.sapp === '';

const isAny = (address: string): boolean => address === ANY_ADDRESS.v4 || address === ANY_ADDRESS.v6;

/** True when the rule's addresses are "anywhere" (so it has a twin in the other family). */
export const isFamilyAgnostic = (rule: UfwRule): boolean => isAny(rule.src) && isAny(rule.dst);

/** The same rule as it would be stored in the other family (ufw's _fix_anywhere); undefined if it has addresses. */
export const twinOf = (rule: UfwRule, family: UfwFamily): UfwRule | undefined =>
  isFamilyAgnostic(rule) ? { ...rule, src: ANY_ADDRESS[family], dst: ANY_ADDRESS[family] } : undefined;

/** One desired rule in one family, with the index of the ManagedRule it came from. */
export interface DesiredRule {
  readonly index: number;
  readonly rule: UfwRule;
}

/**
 * The ufw rules a ManagedRule stands for: v4 and (when ufw uses IPv6) v6 for a rule without `from`;
 * only the address's own family otherwise. `iface` is the resolved interface ('' for none).
 */
export const expandManagedRule = (rule: ManagedRule, iface: string, ipv6: boolean): Partial<Record<UfwFamily, UfwRule>> => {
  const source = rule.from === undefined ? undefined : parseCidr(rule.from);
  const families: UfwFamily[] = source ? [source.family] : ipv6 ? ['v4', 'v6'] : ['v4'];
  const result: Partial<Record<UfwFamily, UfwRule>> = {};
  for (const family of families) {
    result[family] = {
      action: rule.action,
      log: '',
      proto: rule.proto ?? 'any',
      dport: Array.isArray(rule.port) ? `${rule.port[0]}:${rule.port[1]}` : String(rule.port),
      dst: ANY_ADDRESS[family],
      sport: 'any',
      src: source ? source.text : ANY_ADDRESS[family],
      direction: 'in',
      interfaceIn: iface,
      interfaceOut: '',
      route: false,
      dapp: '',
      sapp: '',
      comment: rule.comment,
    };
  }
  return result;
};

/** `allow 12000:12050/tcp in on eth0 (admin VPN)`: the rule as people read it (comment prefix dropped). */
export const formatRule = memoByIdentity((rule: UfwRule): string => {
  const words: string[] = [rule.route ? `route ${rule.action}` : rule.action];
  if (rule.log) words.push(rule.log);
  if (rule.dapp) words.push(rule.dapp);
  else if (rule.dport !== 'any') words.push(rule.proto === 'any' ? rule.dport : `${rule.dport}/${rule.proto}`);
  else if (rule.proto !== 'any') words.push(`proto ${rule.proto}`);
  if (rule.interfaceIn) words.push(`in on ${rule.interfaceIn}`);
  if (rule.interfaceOut) words.push(`out on ${rule.interfaceOut}`);
  else if (rule.direction === 'out' && !rule.interfaceIn) words.push('out');
  if (!isAny(rule.src) || rule.sport !== 'any' || rule.sapp) {
    words.push(`from ${isAny(rule.src) ? 'any' : rule.src}`);
    if (rule.sapp) words.push(`app ${rule.sapp}`);
    else if (rule.sport !== 'any') words.push(`port ${rule.sport}`);
  }
  if (!isAny(rule.dst)) words.push(`to ${rule.dst}`);
  if (rule.comment) words.push(`(${shortComment(rule.comment)})`);
  return words.join(' ');
});

/**
 * The ufw CLI words for a (non-route, non-app) rule. `family` pins the address family: with explicit
 * `from 0.0.0.0/0 to 0.0.0.0/0` ufw touches only user.rules, with `::/0` only user6.rules (verified:
 * the stored tuple is identical to the one `ufw allow 22/tcp` writes); 'both' writes `any` and lets
 * ufw do both files, as `ufw allow 22/tcp` does. Word order follows ufw's grammar: direction and
 * interface must come before `log` ("allow log in on eth0" is "Invalid interface clause").
 */
export const ruleWords = (rule: UfwRule, family: UfwFamily | 'both'): string[] => {
  const address = (value: string): string => (family === 'both' && isAny(value) ? 'any' : value);
  const words: string[] = [rule.action];
  if (rule.interfaceIn) words.push('in', 'on', rule.interfaceIn);
  else if (rule.direction === 'out') words.push('out');
  if (rule.interfaceOut) words.push('on', rule.interfaceOut);
  if (rule.log) words.push(rule.log);
  words.push('from', address(rule.src));
  if (rule.sport !== 'any') words.push('port', rule.sport);
  words.push('to', address(rule.dst));
  if (rule.dport !== 'any') words.push('port', rule.dport);
  if (rule.proto !== 'any') words.push('proto', rule.proto);
  if (rule.comment) words.push('comment', rule.comment);
  return words;
};
