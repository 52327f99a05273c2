// Host entries as Ansible writes them in both inventory formats: `cas-[01:10]` ranges (numeric
// with zero padding, alphabetic, optional step) and a `:port` suffix. Pure string work.

import { z } from 'zod';

export type HostSpec =
  | { readonly ok: true; readonly names: readonly string[]; readonly port?: number }
  | { readonly ok: false; readonly message: string };

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

const failure = (message: string): HostSpec => ({ ok: false, message });

/**
 * The most hosts one entry may stand for. A fleet of CAS servers is hundreds of hosts, thousands
 * at most; `cas-[0:99999999]` is a typo, and expanding it would run casfleet out of memory.
 */
export const MAX_HOSTS_PER_ENTRY = 10_000;

const tooMany = (text: string, count: number | undefined): string =>
  `host '${text}' stands for ${count ?? `more than ${MAX_HOSTS_PER_ENTRY}`} hosts; one entry may stand for at most ${MAX_HOSTS_PER_ENTRY}`;

/** Expands the first `[begin:end(:step)]` and recurses for the next one, as Ansible does. */
const expandRanges = (text: string, whole = text): string[] | string => {
  const open = text.indexOf('[');
  if (open < 0) return text.includes(']') ? `unbalanced ']' in host '${text}'` : [text];
  const close = text.indexOf(']', open);
  if (close < 0) return `unclosed '[' in host '${text}'`;
  const head = text.slice(0, open);
  const tail = text.slice(close + 1);
  const bounds = text.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3) return `host range '[${bounds.join(':')}]' must be [begin:end] or [begin:end:step]`;
  const [begin = '', end = '', stepText = '1'] = bounds;
  if (end === '') return `host range '[${bounds.join(':')}]' has no end`;
  if (!/^[1-9]\d*$/.test(stepText)) return `host range step '${stepText}' must be a positive integer`;
  const step = Number(stepText);
  const items: string[] = [];
  if (LETTERS.includes(begin) && begin.length === 1 && end.length === 1 && LETTERS.includes(end)) {
    const from = LETTERS.indexOf(begin);
    const to = LETTERS.indexOf(end);
    if (from > to) return `host range '[${bounds.join(':')}]' must not go backwards`;
    // At most 52 letters: never too many on its own.
    for (let index = from; index <= to; index += step) items.push(LETTERS.charAt(index));
  } else {
    const first = begin === '' ? '0' : begin;
    if (!/^\d+$/.test(first) || !/^\d+$/.test(end)) return `host range '[${bounds.join(':')}]' must be numbers or single letters`;
    // A leading zero asks for zero padding, and then both ends must have the same width.
    const width = first.length > 1 && first.startsWith('0') ? first.length : 0;
    if (width > 0 && end.length !== width) return `host range '[${bounds.join(':')}]' must have begin and end of the same width`;
    if (Number(first) > Number(end)) return `host range '[${bounds.join(':')}]' must not go backwards`;
    // Counted before anything is listed: a range of a hundred million names is refused, not built.
    const count = Math.floor((Number(end) - Number(first)) / step) + 1;
    if (count > MAX_HOSTS_PER_ENTRY) return tooMany(whole, whole === text ? count : undefined);
    for (let value = Number(first); value <= Number(end); value += step) items.push(String(value).padStart(width, '0'));
  }
  const names: string[] = [];
  for (const item of items) {
    const rest = expandRanges(`${head}${item}${tail}`, whole);
    if (typeof rest === 'string') return rest;
    for (const name of rest) names.push(name);
    // Several ranges multiply (`r[1:200]-n[1:200]`): stop as soon as the product is too many.
    if (names.length > MAX_HOSTS_PER_ENTRY) return tooMany(whole, undefined);
  }
  return names;
};

/** Indexes of the `:` characters that are not inside a `[…]` range. */
const colonsOutsideBrackets = (text: string): number[] => {
  const found: number[] = [];
  let depth = 0;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === '[') depth += 1;
    else if (char === ']') depth -= 1;
    else if (char === ':' && depth === 0) found.push(index);
  }
  return found;
};

const IPV6 = z.ipv6();

/**
 * `cas-01`, `cas-[01:10]`, `cas-01:2222`, `[2001:db8::1]:2222` or a bare IPv6 address → the host
 * names it stands for and the port it sets, if any.
 */
export const parseHostSpec = (text: string): HostSpec => {
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(text);
  if (bracketed?.[1] !== undefined && IPV6.safeParse(bracketed[1]).success) {
    return { ok: true, names: [bracketed[1]], ...(bracketed[2] !== undefined ? { port: Number(bracketed[2]) } : {}) };
  }
  const colons = colonsOutsideBrackets(text);
  let name = text;
  let port: number | undefined;
  if (colons.length === 1) {
    const at = colons[0] as number;
    const portText = text.slice(at + 1);
    if (!/^\d+$/.test(portText)) return failure(`'${text}' is not a host: what follows ':' must be a port number`);
    name = text.slice(0, at);
    port = Number(portText);
  } else if (colons.length > 1) {
    // Several colons outside brackets: an IPv6 address, which can only carry a port in brackets.
    return IPV6.safeParse(text).success ? { ok: true, names: [text] } : failure(`'${text}' is not a host name or address`);
  }
  if (name === '') return failure(`'${text}' has no host name`);
  const names = expandRanges(name);
  if (typeof names === 'string') return failure(names);
  return { ok: true, names, ...(port !== undefined ? { port } : {}) };
};
