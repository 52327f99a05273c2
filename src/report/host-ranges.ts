// Host lists short enough to read in a fleet summary: `cas-001…cas-046, cas-050`. A run of names
// that differ only by a trailing number of the same width, each one more than the last, becomes
// `first…last`. The order given is kept (it is the inventory order), so nothing is sorted; a run
// only continues with the very next name. Widths must match so `cas-9…cas-10` never hides whether
// names are zero-padded.

const TRAILING_NUMBER = /^(.*?)(\d+)$/;

/** Items (single names or ranges) shown before `… +N more`. */
export const DEFAULT_HOST_LIST_LIMIT = 8;

interface Run {
  readonly first: string;
  last: string;
  hosts: number;
  readonly prefix?: string;
  width?: number;
  lastNumber?: bigint;
}

const numbered = (name: string): { prefix: string; digits: string } | undefined => {
  const match = TRAILING_NUMBER.exec(name);
  return match ? { prefix: match[1]!, digits: match[2]! } : undefined;
};

const continues = (run: Run, name: string): boolean => {
  const parts = numbered(name);
  return (
    parts !== undefined &&
    run.lastNumber !== undefined &&
    parts.prefix === run.prefix &&
    parts.digits.length === run.width &&
    BigInt(parts.digits) === run.lastNumber + 1n
  );
};

const startRun = (name: string): Run => {
  const parts = numbered(name);
  if (!parts) return { first: name, last: name, hosts: 1 };
  // BigInt: a name may end in more digits than a double holds exactly.
  return { first: name, last: name, hosts: 1, prefix: parts.prefix, width: parts.digits.length, lastNumber: BigInt(parts.digits) };
};

// Two neighbours read better as `a, b` than as a range.
const formatRun = (run: Run): string[] =>
  run.hosts === 1 ? [run.first] : run.hosts === 2 ? [run.first, run.last] : [`${run.first}…${run.last}`];

/** `cas-001…cas-046, cas-050`, cut to `limit` items with `… +N more` (N hosts). */
export const compactHostNames = (names: readonly string[], limit = DEFAULT_HOST_LIST_LIMIT): string => {
  const runs: Run[] = [];
  for (const name of names) {
    const run = runs.at(-1);
    if (run && continues(run, name)) {
      run.last = name;
      run.hosts += 1;
      run.lastNumber! += 1n;
    } else runs.push(startRun(name));
  }
  const items: string[] = [];
  let shown = 0;
  for (const run of runs) {
    const parts = formatRun(run);
    // The first run always shows, however small the limit: a list of only "… +N more" says nothing.
    if (items.length > 0 && items.length + parts.length > limit) break;
    items.push(...parts);
    shown += run.hosts;
  }
  const hidden = names.length - shown;
  return (hidden > 0 ? [...items, `… +${hidden} more`] : items).join(', ');
};
