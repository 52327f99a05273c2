// Ansible host patterns (--limit, a play's hosts), pure: the caller passes a reader for `@file`
// parts (see host-pattern-file.ts) so nothing here touches the disk.
//
// Grammar, as in Ansible's InventoryManager:
//   parts separated by ',' or ':' (not inside [ ]);
//   `name`         a host or a group (a group gives all its hosts, through children);
//   `cas-0*`, `?`  fnmatch globs over group and host names; `all` and `*` match everything;
//   `~regex`       a regular expression, matched from the start of the name;
//   `&part`        intersection, `!part` exclusion;
//   `part[0]`, `part[1:3]`, `part[2:]`   a subscript of the part's hosts (inclusive range);
//   `@file`        the patterns in a file, one per line.
// Processing order is Ansible's: every plain part (union), then every `&`, then every `!`,
// whatever order they were written in; only `&`/`!` parts mean "all hosts, then …".
// Unlike Ansible, a part that matches nothing is an error rather than a warning: with `!cnary`
// a typo would otherwise silently put the canary in the blast radius.

import { z } from 'zod';
import { UsageError } from '../errors.ts';
import type { Inventory } from './types.ts';
import { closestName } from './closest-name.ts';

/** Returns the text of a `@file` pattern file; throws UsageError when it cannot. */
export type PatternFileReader = (file: string) => string;

/** Splits a pattern into parts at ',' and ':' that are outside brackets. */
export const splitHostPattern = (pattern: string): string[] => {
  const trimmed = pattern.trim();
  // A bare IPv6 address is one host, not parts separated by colons.
  if (z.ipv6().safeParse(trimmed).success) return [trimmed];
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of trimmed) {
    if (char === '[') depth += 1;
    if (char === ']') depth = Math.max(0, depth - 1);
    if ((char === ',' || char === ':') && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
};

interface Part {
  /** As the user wrote it, for messages. */
  readonly text: string;
  readonly operator: '' | '&' | '!';
  readonly expression: string;
  readonly subscript?: { readonly start: number; readonly end?: number | 'last' };
}

// Ansible's subscript syntax; not applied to `~regex` parts, where brackets are regex syntax.
const SUBSCRIPT = /^(.+)\[(?:(-?\d+)|(\d+):(\d*))\]$/;

const toPart = (text: string): Part => {
  const operator = text.startsWith('&') || text.startsWith('!') ? (text.charAt(0) as '&' | '!') : '';
  const body = text.slice(operator.length);
  const match = body.startsWith('~') ? null : SUBSCRIPT.exec(body);
  if (!match) return { text, operator, expression: body };
  const [, expression = '', index, start, end] = match;
  const subscript = index !== undefined ? { start: Number(index) } : { start: Number(start), end: end === '' ? ('last' as const) : Number(end) };
  return { text, operator, expression, subscript };
};

const GLOB_SPECIALS = /[*?[]/;

// fnmatch: `*`, `?`, `[seq]`, `[!seq]`; everything else literal; the whole name must match.
const globToRegExp = (glob: string): RegExp => {
  let source = '';
  for (let index = 0; index < glob.length; index += 1) {
    const char = glob.charAt(index);
    const close = char === '[' ? glob.indexOf(']', index + 2) : -1;
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (close > 0) {
      const set = glob.slice(index + 1, close);
      const negated = set.startsWith('!');
      // Inside a RegExp class a backslash and a leading `^` mean something they do not mean to fnmatch.
      const members = (negated ? set.slice(1) : set).replaceAll('\\', '\\\\').replace(/^\^/, '\\^');
      source += `[${negated ? '^' : ''}${members}]`;
      index = close;
    } else source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
};

const matcherFor = (part: Part): RegExp => {
  if (!part.expression.startsWith('~')) return globToRegExp(part.expression);
  try {
    // Python's re.match: anchored at the start only.
    return new RegExp(`^(?:${part.expression.slice(1)})`);
  } catch (error) {
    throw new UsageError(`host pattern '${part.text}' is not a valid regular expression: ${(error as Error).message}`);
  }
};

/** The hosts one part stands for (in inventory order), or undefined when it names nothing. */
const hostsOf = (inventory: Inventory, part: Part, order: ReadonlyMap<string, number>): string[] | undefined => {
  let hosts: string[];
  if (inventory.hosts.has(part.expression)) {
    // Ansible resolves a plain host name before trying groups with the same name.
    hosts = [part.expression];
  } else {
    const matcher = matcherFor(part);
    const found = new Set<string>();
    const groups = [...inventory.groups.values()].filter((group) => matcher.test(group.name));
    for (const group of groups) for (const host of group.hosts) found.add(host);
    const special = part.expression.startsWith('~') || GLOB_SPECIALS.test(part.expression) || part.expression.includes('.');
    let matchedHost = false;
    if (groups.length === 0 || special) {
      for (const host of inventory.hosts.keys()) {
        if (matcher.test(host)) {
          found.add(host);
          matchedHost = true;
        }
      }
    }
    if (groups.length === 0 && !matchedHost) return undefined;
    hosts = [...found].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  }
  const { subscript } = part;
  if (!subscript) return hosts;
  if (subscript.end === undefined) {
    const host = hosts.at(subscript.start);
    if (host === undefined) {
      throw new UsageError(`host pattern '${part.text}': index ${subscript.start} is out of range ('${part.expression}' has ${hosts.length} host${hosts.length === 1 ? '' : 's'})`);
    }
    return [host];
  }
  return hosts.slice(subscript.start, subscript.end === 'last' ? undefined : subscript.end + 1);
};

const expandFiles = (parts: readonly string[], readPatternFile: PatternFileReader | undefined): string[] =>
  parts.flatMap((part) => {
    if (!part.startsWith('@')) return [part];
    if (!readPatternFile) throw new UsageError(`host pattern '${part}': pattern files are not available here`);
    const lines = readPatternFile(part.slice(1))
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    if (lines.length === 0) throw new UsageError(`host pattern file '${part.slice(1)}' has no patterns`);
    return lines.flatMap(splitHostPattern);
  });

/**
 * The names of the hosts a pattern selects, in inventory order and without duplicates.
 * Throws UsageError when a part matches no host or group, or when nothing is selected.
 */
export const selectHosts = (inventory: Inventory, pattern: string, readPatternFile?: PatternFileReader): string[] => {
  const parts = expandFiles(splitHostPattern(pattern), readPatternFile).map(toPart);
  if (parts.length === 0) throw new UsageError('empty host pattern: name hosts or groups, or use all');
  const order = new Map([...inventory.hosts.keys()].map((host, index) => [host, index]));
  const plain = parts.filter((part) => part.operator === '');
  const ordered = [
    ...(plain.length > 0 ? plain : [toPart('all')]),
    ...parts.filter((part) => part.operator === '&'),
    ...parts.filter((part) => part.operator === '!'),
  ];
  let selected = new Set<string>();
  for (const part of ordered) {
    const hosts = hostsOf(inventory, part, order);
    if (hosts === undefined) {
      // Only plain names get a suggestion: a regex or glob was not a typo of one name.
      const name = part.text.replace(/^[!&]/, '');
      const guess = /[~*?[\]]/.test(name) ? undefined : closestName(name, [...inventory.groups.keys(), ...inventory.hosts.keys()]);
      throw new UsageError(`host pattern '${part.text}' matches no host or group${guess ? ` (did you mean '${guess}'?)` : ''}`);
    }
    if (part.operator === '') for (const host of hosts) selected.add(host);
    else if (part.operator === '&') selected = new Set(hosts.filter((host) => selected.has(host)));
    else for (const host of hosts) selected.delete(host);
  }
  if (selected.size === 0) throw new UsageError(`host pattern '${pattern}' selects no hosts`);
  return [...selected].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
};
