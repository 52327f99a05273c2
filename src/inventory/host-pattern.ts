// Ansible host patterns (--limit, a play's hosts), pure: the caller passes a reader for `@file`
// parts (see host-pattern-file.ts) so nothing here touches the disk. Semantics are ansible-core's
// (InventoryManager, 2.14), checked against Ansible's own output in test/fixtures/ansible/:
//   splitting    with a comma anywhere, parts are separated by commas only (`a:b,c` is `a:b` and
//                `c`); without one, a pattern that is one host address stays whole (`fe80::1`),
//                otherwise ':' and whitespace separate parts (not inside [ ]);
//   `name`       a part that is exactly a host name is that host; otherwise groups matching the part
//                give their hosts (the group's own first, then its children's), and hosts are also
//                matched when no group matched or the part is a glob or regex (`.`, `?`, `*`, `[`);
//   `cas-0*`     fnmatch globs; `all` and `*` match everything;
//   `~regex`     a Python regular expression (translated, python-regex.ts), matched from the start;
//   `&part`, `!part`   intersection, exclusion (never the shortcut to a host: `!web` is group web);
//   `part[0]`, `part[1:3]`, `part[2:]`, `part[1-3]`   a subscript of the part's hosts (inclusive),
//                over the matches as listed, duplicates included;
//   `@file`      the patterns in a file, one per line, not split further.
// Processing order is Ansible's: every plain part (union), then every `&`, then every `!`,
// whatever order they were written in; only `&`/`!` parts mean "all hosts, then …".
// Unlike Ansible, a part that matches nothing is an error rather than a warning: with `!cnary`
// a typo would otherwise silently put the canary in the blast radius. The result is in inventory
// order (first appearance in the file); Ansible lists hosts by a walk of its group tree instead.

import { UsageError } from '../errors.ts';
import { isAnsibleAddress } from './ansible-address.ts';
import { closestName } from './closest-name.ts';
import { translatePythonRegex } from './python-regex.ts';
import type { Inventory } from './types.ts';

/** Returns the text of a `@file` pattern file; throws UsageError when it cannot. */
export type PatternFileReader = (file: string) => string;

// Ansible's fallback split: runs of anything but whitespace, ':' and brackets, or whole [ ] groups.
const COLON_PARTS = /(?:[^\s:[\]]|\[[^\]]*\])+/g;

/**
 * Splits a pattern into parts as Ansible's split_host_pattern does, except that what its fallback
 * split cannot read is an error: Ansible silently drops an unbalanced `[` or `]`, which turns
 * `~cas-[` into `~cas-` (every cas-* host) and `~[` into the empty regex (every host).
 */
export const splitHostPattern = (pattern: string): string[] => {
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else if (isAnsibleAddress(pattern)) parts = [pattern];
  else {
    parts = pattern.match(COLON_PARTS) ?? [];
    const dropped = pattern.replace(COLON_PARTS, '').replace(/[\s:]/g, '');
    if (dropped !== '') {
      throw new UsageError(
        `host pattern '${pattern}' has an unbalanced '${dropped.charAt(0)}': it would be dropped and select more hosts than meant (close the brackets, or separate parts with commas)`,
      );
    }
  }
  return parts.map((part) => part.trim()).filter((part) => part !== '');
};

interface Part {
  /** As the user wrote it, for messages. */
  readonly text: string;
  readonly operator: '' | '&' | '!';
  readonly expression: string;
  /** Ansible's (start, end): end undefined picks one host, 'last' runs to the end. */
  readonly subscript?: { readonly start: number; readonly end?: number | 'last' };
}

// Ansible's PATTERN_WITH_SUBSCRIPT, including the old `[x-y]` range form; not for `~regex` parts.
const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/;

const toPart = (text: string): Part => {
  const operator = text.startsWith('&') || text.startsWith('!') ? (text.charAt(0) as '&' | '!') : '';
  const body = text.slice(operator.length);
  const match = body.startsWith('~') ? null : SUBSCRIPT.exec(body);
  if (!match) return { text, operator, expression: body };
  const [, expression = '', index, start, , end] = match;
  // Like Ansible, an end of 0 (`[0:0]`) is no end at all: the single host at start.
  const subscript =
    index !== undefined
      ? { start: Number(index) }
      : end === ''
        ? { start: Number(start), end: 'last' as const }
        : Number(end) === 0
          ? { start: Number(start) }
          : { start: Number(start), end: Number(end) };
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
  const { source, flags } = translatePythonRegex(part.expression.slice(1));
  // An empty regex matches every name: a pattern that lost its regex must not select the fleet.
  if (source === '')
    throw new UsageError(
      `host pattern '${part.text}' has an empty regular expression, which would match every host (use all for every host)`,
    );
  try {
    // Python's re.match: anchored at the start only.
    return new RegExp(`^(?:${source})`, flags);
  } catch (error) {
    throw new UsageError(`host pattern '${part.text}' is not a valid regular expression: ${(error as Error).message}`);
  }
};

/**
 * A group's hosts as Ansible's Group.get_hosts() lists them: its own hosts, then its children's,
 * level by level, each host once. Hand-built inventories without `ownHosts` give `hosts` as is.
 */
const groupHosts = (inventory: Inventory, name: string): string[] => {
  const seen = new Set<string>();
  const visited = new Set([name]);
  let level = [name];
  while (level.length > 0) {
    const next: string[] = [];
    for (const groupName of level) {
      const group = inventory.groups.get(groupName);
      for (const host of group?.ownHosts ?? group?.hosts ?? []) seen.add(host);
      for (const child of group?.ownHosts ? group.children : []) {
        if (!visited.has(child)) {
          visited.add(child);
          next.push(child);
        }
      }
    }
    level = next;
  }
  return [...seen];
};

/** The hosts one part stands for, as Ansible lists them (duplicates kept), or undefined when it names nothing. */
const hostsOf = (inventory: Inventory, part: Part): string[] | undefined => {
  const matcher = matcherFor(part);
  const groups = [...inventory.groups.keys()].filter((group) => matcher.test(group));
  const hosts = groups.flatMap((group) => groupHosts(inventory, group));
  const special = part.expression.startsWith('~') || GLOB_SPECIALS.test(part.expression) || part.expression.includes('.');
  // A loop, not push(...matches): a spread of a large inventory's hosts overflows the call stack.
  if (groups.length === 0 || special) for (const host of inventory.hosts.keys()) if (matcher.test(host)) hosts.push(host);
  if (hosts.length === 0) return undefined;
  const { subscript } = part;
  if (!subscript) return hosts;
  if (subscript.end === undefined) {
    const host = hosts.at(subscript.start);
    if (host === undefined) {
      throw new UsageError(
        `host pattern '${part.text}': index ${subscript.start} is out of range ('${part.expression}' has ${hosts.length} host${hosts.length === 1 ? '' : 's'})`,
      );
    }
    return [host];
  }
  const picked = hosts.slice(subscript.start, subscript.end === 'last' ? undefined : subscript.end + 1);
  return picked.length > 0 ? picked : undefined;
};

// Lines of a pattern file are patterns as they stand (Ansible does not split them); blank lines
// and `#` comments are skipped, where Ansible would warn that they match nothing.
const expandFiles = (parts: readonly string[], readPatternFile: PatternFileReader | undefined): string[] =>
  parts.flatMap((part) => {
    if (!part.startsWith('@')) return [part];
    if (!readPatternFile) throw new UsageError(`host pattern '${part}': pattern files are not available here`);
    const lines = readPatternFile(part.slice(1))
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    if (lines.length === 0) throw new UsageError(`host pattern file '${part.slice(1)}' has no patterns`);
    return lines;
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
    // Ansible resolves a part that is exactly a host name to that host, before trying groups of the
    // same name; `!name`, `&name` and `name[0]` are not host names and go through the groups.
    const hosts = inventory.hosts.has(part.text) ? [part.text] : hostsOf(inventory, part);
    if (hosts === undefined) {
      // Only plain names get a suggestion: a regex or glob was not a typo of one name.
      const name = part.text.replace(/^[!&]/, '');
      const guess = /[~*?[\]]/.test(name) ? undefined : closestName(name, [...inventory.groups.keys(), ...inventory.hosts.keys()]);
      // `cas-0[1-3]` looks like a glob but is Ansible's subscript of `cas-0`: say so.
      const subscript = part.subscript
        ? `: ${name.slice(part.expression.length)} is a subscript of '${part.expression}' (to match cas-01…cas-03 write a regex: ~${part.expression}[1-3]$)`
        : '';
      throw new UsageError(`host pattern '${part.text}' matches no host or group${guess ? ` (did you mean '${guess}'?)` : ''}${subscript}`);
    }
    if (part.operator === '') for (const host of hosts) selected.add(host);
    else if (part.operator === '&') selected = new Set(hosts.filter((host) => selected.has(host)));
    else for (const host of hosts) selected.delete(host);
  }
  if (selected.size === 0) throw new UsageError(`host pattern '${pattern}' selects no hosts`);
  return [...selected].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
};
