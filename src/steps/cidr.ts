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

/** Parses `a.b.c.d[/n]` or an IPv6 address `[/n]` into ufw's stored form; undefined when invalid. */
export const parseCidr = (text: string): Cidr | undefined => {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) return undefined;
  const v4 = parseV4(address);
  if (v4) {
    const prefix = prefixText === undefined ? 32 : Number(prefixText);
    if (prefix > 32) return undefined;
    const value = v4.reduce((sum, octet) => sum * 256 + octet, 0);
    const mask = prefix === 0 ? 0 : 2 ** 32 - 2 ** (32 - prefix);
    const network = Number((BigInt(value) & BigInt(mask)).toString());
    const octets = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
    return { family: 'v4', text: prefix === 32 ? octets.join('.') : `${octets.join('.')}/${prefix}` };
  }
  const v6 = parseV6(address);
  if (v6) {
    const prefix = prefixText === undefined ? 128 : Number(prefixText);
    if (prefix > 128) return undefined;
    return { family: 'v6', text: prefix === 128 ? formatV6(v6) : `${formatV6(v6)}/${prefix}` };
  }
  return undefined;
};

/** ufw's "anywhere" address per family (what `any` becomes in the rules files). */
export const ANY_ADDRESS: Readonly<Record<UfwFamily, string>> = { v4: '0.0.0.0/0', v6: '::/0' };

/** An address or network as numbers, for containment tests and for spotting host bits. */
export interface Network {
  readonly family: UfwFamily;
  /** The address as written (host bits included), as an integer of 32 or 128 bits. */
  readonly address: bigint;
  readonly prefix: number;
}

const WIDTH: Readonly<Record<UfwFamily, number>> = { v4: 32, v6: 128 };

const toBigInt = (parts: readonly number[], bitsPerPart: number): bigint =>
  parts.reduce((sum, part) => (sum << BigInt(bitsPerPart)) | BigInt(part), 0n);

const maskOf = (family: UfwFamily, prefix: number): bigint => {
  const width = BigInt(WIDTH[family]);
  return prefix === 0 ? 0n : ((1n << width) - 1n) ^ ((1n << (width - BigInt(prefix))) - 1n);
};

/**
 * Parses `a.b.c.d[/n]` or an IPv6 address `[/n]`. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
 * what a dual-stack sshd reports for an IPv4 client) is the IPv4 address it carries: the kernel
 * filters those packets with the IPv4 rules.
 */
export const parseNetwork = (text: string): Network | undefined => {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && prefixText === undefined) return parseNetwork(mapped[1] ?? '');
  const v4 = parseV4(address);
  const family: UfwFamily | undefined = v4 ? 'v4' : parseV6(address) ? 'v6' : undefined;
  if (!family) return undefined;
  const prefix = prefixText === undefined ? WIDTH[family] : Number(prefixText);
  if (prefix > WIDTH[family]) return undefined;
  return { family, address: v4 ? toBigInt(v4, 8) : toBigInt(parseV6(address) ?? [], 16), prefix };
};

/** The network part only (host bits cleared). */
export const networkOf = (network: Network): Network => ({ ...network, address: network.address & maskOf(network.family, network.prefix) });

/** True when the address has bits set beyond its prefix (`10.8.0.5/24`, `1::/0`). */
export const hasHostBits = (network: Network): boolean => networkOf(network).address !== network.address;

/** True when every address of `inner` is in `outer` (same family only). */
export const networkContains = (outer: Network, inner: Network): boolean =>
  outer.family === inner.family &&
  outer.prefix <= inner.prefix &&
  (inner.address & maskOf(outer.family, outer.prefix)) === networkOf(outer).address;

/** `10.8.0.0/24`, `fd00::/64`; a single host without its prefix. */
export const formatNetwork = (network: Network): string => {
  const { family, address, prefix } = network;
  const text =
    family === 'v4'
      ? [24n, 16n, 8n, 0n].map((shift) => String((address >> shift) & 255n)).join('.')
      : formatV6(Array.from({ length: 8 }, (_, i) => Number((address >> BigInt(112 - 16 * i)) & 0xffffn)));
  return prefix === WIDTH[family] ? text : `${text}/${prefix}`;
};

/**
 * The shortest prefix a source list may hold: a /1 is half of every IPv4 address, so a list of
 * shorter networks (`0.0.0.0/1`, `128.0.0.0/1`) lets (nearly) everyone in while reading like a
 * restriction. A /8 (one of the largest allocations, 16 million addresses) and an IPv6 /16 are the
 * widest networks taken.
 */
export const MIN_SOURCE_PREFIX: Readonly<Record<UfwFamily, number>> = { v4: 8, v6: 16 };

/** True when a source is wider than MIN_SOURCE_PREFIX allows (a /0 included). */
export const isWideSource = (network: Network): boolean => network.prefix < MIN_SOURCE_PREFIX[network.family];

/**
 * Why `text` is not a plain address or network, or undefined when it is. ufw silently clears IPv4
 * host bits and keeps IPv6 ones (matching a different network than written); either way `10.8.0.5/24`
 * or `1::/0` is almost always a typo, so it is refused with the two readings that were probably meant.
 */
export const cidrProblem = (text: string): string | undefined => {
  const network = parseNetwork(text);
  if (!network) return 'expected an IPv4/IPv6 address or CIDR such as 203.0.113.7 or 10.8.0.0/24';
  if (!hasHostBits(network)) return undefined;
  const host = formatNetwork({ ...network, prefix: WIDTH[network.family] });
  const meant =
    network.prefix === 0
      ? `the host ${host}? (${formatNetwork(networkOf(network))} would be every ${network.family === 'v4' ? 'IPv4' : 'IPv6'} address)`
      : `the network ${formatNetwork(networkOf(network))}, or the host ${host}?`;
  return `${text} has host bits set after /${network.prefix}: did you mean ${meant}`;
};

/**
 * The address as iptables-save prints a `-s` match (iptables 1.8, nf_tables and legacy alike):
 * host bits cleared in both families, the prefix always written (`10.8.0.7/32`, `2001:db8::/64`).
 */
export const iptablesCidr = (text: string): Cidr | undefined => {
  const network = parseNetwork(text);
  if (!network) return undefined;
  const address = formatNetwork({ ...networkOf(network), prefix: WIDTH[network.family] });
  return { family: network.family, text: `${address}/${network.prefix}` };
};
