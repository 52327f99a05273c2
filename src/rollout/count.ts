// Host counts as rollout settings take them — a number of hosts (`2`) or a percentage (`20%`) — and
// the arithmetic that turns a percentage into hosts. Only whole percentages: Ansible's `serial` fails
// on `12.5%` too (it calls int() on the digits), and whole numbers keep the arithmetic exact.

export type Count = { readonly kind: 'count'; readonly value: number } | { readonly kind: 'percent'; readonly value: number };

const WHOLE = /^\d+$/;
const PERCENT = /^(\d+)\s*%$/;

/** A count (≥ 0) or a percentage (any whole number) from text or a number; undefined otherwise. */
export const readCount = (input: string | number): Count | undefined => {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? { kind: 'count', value: input } : undefined;
  const text = input.trim();
  if (WHOLE.test(text)) {
    const value = Number(text);
    return Number.isSafeInteger(value) ? { kind: 'count', value } : undefined;
  }
  const percent = PERCENT.exec(text)?.[1];
  return percent === undefined ? undefined : { kind: 'percent', value: Number(percent) };
};

/** A failure budget: any count, or 0%–100%. */
export const readBudget = (input: string | number): Count | undefined => {
  const count = readCount(input);
  return count && (count.kind === 'count' || count.value <= 100) ? count : undefined;
};

/** A batch (or canary) size: at least 1 host, or 1%–100%. */
export const readSize = (input: string | number): Count | undefined => {
  const count = readCount(input);
  return count && count.value >= 1 && (count.kind === 'count' || count.value <= 100) ? count : undefined;
};

/**
 * The hosts a count stands for out of `total`: a count as is, a percentage rounded `down` or `up`.
 * Computed on integers: Ansible's `int(pct / 100.0 * n)` is floating point and can land one below
 * (29% of 100 hosts gives 28 there); we give the exact floor.
 */
export const hostsFor = (count: Count, total: number, round: 'down' | 'up'): number => {
  if (count.kind === 'count') return count.value;
  const hundredths = count.value * total;
  return round === 'down' ? Math.floor(hundredths / 100) : Math.ceil(hundredths / 100);
};

/** `2` or `20%`, as a user writes it. */
export const formatCount = (count: Count): string => (count.kind === 'count' ? String(count.value) : `${count.value}%`);
