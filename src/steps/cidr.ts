// Address normalisation exactly as ufw stores addresses (util.normalize_address, ufw 0.36.2), so a
// desired rule compares equal to the tuple ufw wrote for it:
// - IPv4: host bits are cleared (`10.8.0.5/24` → `10.8.0.0/24`, ufw warns "Rule changed after
//   normalization"), `/32` is dropped (`10.8.0.7/32` → `10.8.0.7`);
// - IPv6: written the way inet_ntop writes it (lower case, longest run of two or more zero groups
//   compressed, first run on a tie), `/128` dropped, host bits KEPT (ufw does not mask v6).
import type { UfwFamily } from '../facts/ufw-tuple.ts';

export interface Cidr {
  readonly family: UfwFamily;
  /** The address as ufw stores it in user.rules / user6.rules. */
  readonly text: string;
}

const parseV4 = (address: string): number[] | undefined => {
  const parts = address.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)) return undefined;
  return parts.map(Number);
};

const parseV6 = (address: string): number[] | undefined => {
  if (!/^[0-9a-fA-F:]+$/.test(address) || address.includes(':::')) return undefined;
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): string[] => (half ? half.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...tail];
  if (!all.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  return all.map((group) => parseInt(group, 16));
};

/** inet_ntop(AF_INET6) formatting: longest run (≥2) of zero groups becomes `::`. */
const formatV6 = (groups: readonly number[]): string => {
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length += 1;
    if (length > bestLength) [bestStart, bestLength] = [start, length];
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
};

interface ParsedAddress {
  readonly family: UfwFamily;
  /** Octets (v4) or 16-bit groups (v6). */
  readonly parts: readonly number[];
  readonly prefix: number;
}

const parseAddress = (text: string): ParsedAddress | undefined => {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) return undefined;
  const v4 = parseV4(address);
  const v6 = v4 ? undefined : parseV6(address);
  const parts = v4 ?? v6;
  if (!parts) return undefined;
  const family: UfwFamily = v4 ? 'v4' : 'v6';
  const bits = family === 'v4' ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  return prefix > bits ? undefined : { family, parts, prefix };
};

/** The parts with every bit past `prefix` cleared (`width` bits per part). */
const masked = (parts: readonly number[], prefix: number, width: number): number[] =>
  parts.map((part, i) => {
    const keep = Math.min(width, Math.max(0, prefix - i * width));
    return keep === 0 ? 0 : part & ~((1 << (width - keep)) - 1) & ((1 << width) - 1);
  });

/** Parses `a.b.c.d[/n]` or an IPv6 address `[/n]` into ufw's stored form; undefined when invalid. */
export const parseCidr = (text: string): Cidr | undefined => {
  const parsed = parseAddress(text);
  if (!parsed) return undefined;
  const { family, parts, prefix } = parsed;
  if (family === 'v4') {
    const octets = masked(parts, prefix, 8);
    return { family, text: prefix === 32 ? octets.join('.') : `${octets.join('.')}/${prefix}` };
  }
  return { family, text: prefix === 128 ? formatV6(parts) : `${formatV6(parts)}/${prefix}` };
};

/**
 * The address as iptables-save prints a `-s` match (iptables 1.8, nf_tables and legacy alike):
 * host bits cleared in both families, the prefix always written (`10.8.0.7/32`, `2001:db8::/64`).
 */
export const iptablesCidr = (text: string): Cidr | undefined => {
  const parsed = parseAddress(text);
  if (!parsed) return undefined;
  const { family, parts, prefix } = parsed;
  const address = family === 'v4' ? masked(parts, prefix, 8).join('.') : formatV6(masked(parts, prefix, 16));
  return { family, text: `${address}/${prefix}` };
};

/** ufw's "anywhere" address per family (what `any` becomes in the rules files). */
export const ANY_ADDRESS: Readonly<Record<UfwFamily, string>> = { v4: '0.0.0.0/0', v6: '::/0' };
