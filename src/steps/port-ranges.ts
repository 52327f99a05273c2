// Port sets as inclusive ranges, shared by everything that asks "does this rule match that port":
// ufw's port text (`any`, `22`, `13000:13010`, `80,443`), iptables' `--dport(s)`, and the CAS ports.

export type PortRange = readonly [number, number];

export const ALL_PORTS: readonly PortRange[] = [[1, 65535]];

/** ufw or iptables port text (`any`, `22`, `13000:13010`, `80,443`) as inclusive ranges. */
export const portRanges = (text: string): PortRange[] =>
  text === 'any'
    ? [...ALL_PORTS]
    : text.split(',').map((part) => {
        const [low = '0', high] = part.split(':');
        return [Number(low), Number(high ?? low)] as const;
      });

/** Every port of `inner` is in `outer`. */
export const covers = (outer: readonly PortRange[], inner: readonly PortRange[]): boolean =>
  inner.every(([low, high]) => outer.some(([a, b]) => a <= low && high <= b));

export const overlaps = (a: readonly PortRange[], b: readonly PortRange[]): boolean =>
  a.some(([lowA, highA]) => b.some(([lowB, highB]) => lowA <= highB && lowB <= highA));

/** The parts of `ranges` that lie in `within` (both as ranges). */
export const intersect = (ranges: readonly PortRange[], within: readonly PortRange[]): PortRange[] =>
  ranges.flatMap(([low, high]) =>
    within.flatMap(([a, b]): PortRange[] => (Math.max(low, a) <= Math.min(high, b) ? [[Math.max(low, a), Math.min(high, b)]] : [])),
  );

/** The ports of 1-65535 not in `ranges`. */
export const complement = (ranges: readonly PortRange[]): PortRange[] => {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const result: PortRange[] = [];
  let next = 1;
  for (const [low, high] of sorted) {
    if (low > next) result.push([next, low - 1]);
    next = Math.max(next, high + 1);
  }
  if (next <= 65535) result.push([next, 65535]);
  return result;
};

/** `7777`, `12000:12050`, joined with commas. */
export const formatPorts = (ranges: readonly PortRange[]): string =>
  ranges.map(([low, high]) => (low === high ? String(low) : `${low}:${high}`)).join(',');
