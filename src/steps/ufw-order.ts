// Which existing rules can stay where they are. The rules of the managed set that already exist
// (plus unmanaged rules that happen to be exactly a desired rule) must appear in the desired order;
// the largest-weight subsequence already in that order is kept, everything else managed is moved.
// Weights: an unmanaged rule can never move (we do not touch it), an exact managed rule saves two
// ufw operations (delete + insert), a managed rule with the right match but another action/comment
// saves one (it is replaced in place).

export interface OrderCandidate {
  /** Position of the desired rule this existing rule stands for. */
  readonly order: number;
  readonly weight: number;
}

export const UNMOVABLE_WEIGHT = 1_000_000;

/** Indexes (into `items`, ascending) of the heaviest subsequence whose `order` strictly increases. */
export const heaviestOrderedSubsequence = (items: readonly OrderCandidate[]): number[] => {
  const best: number[] = [];
  const previous: number[] = [];
  items.forEach((item, i) => {
    best[i] = item.weight;
    previous[i] = -1;
    for (let j = 0; j < i; j += 1) {
      const candidate = items[j];
      if (candidate !== undefined && candidate.order < item.order && (best[j] ?? 0) + item.weight > (best[i] ?? 0)) {
        best[i] = (best[j] ?? 0) + item.weight;
        previous[i] = j;
      }
    }
  });
  let end = -1;
  best.forEach((weight, i) => {
    if (end === -1 || weight > (best[end] ?? 0)) end = i;
  });
  const chain: number[] = [];
  for (let i = end; i !== -1; i = previous[i] ?? -1) chain.unshift(i);
  return chain;
};
