// Reconciles the whole managed rule set, in order, per address family, and turns the difference
// into ufw CLI operations whose positions are computed on a simulation of ufw's lists (so every
// `insert N` is right at the moment it runs). Phases, for make-before-break:
//   A. insert/append missing rules (new allows exist before anything is removed);
//   B. replace in place rules whose match exists with another action or comment;
//   C. delete managed rules no longer wanted, then re-insert rules that had to move (ufw silently
//      skips inserting a rule whose match exists, so a move is delete-then-insert).
// Empirical ufw 0.36.2 facts this relies on (scratch netns, see ufw-batch.ts for the list):
// - positions are per family; a v6 rule is addressed as <number of v4 rules> + <v6 position>;
// - `insert N` past the end is "Invalid position": appending is a plain add;
// - `insert N` of a both-family rule puts the v6 copy before the v6 twin of the v4 rule at N, and
//   APPENDS it when that v4 rule has no twin (or, by an off-by-count bug, lands elsewhere when the twin
//   sits after position <v4 count>) — so v4 and v6 are inserted separately unless the merged form is
//   provably identical (then one ufw call does both, as `ufw insert N allow 22/tcp` would).
import { StepPlanError } from '../errors.ts';
import type { UfwFamily, UfwRule } from '../facts/ufw-tuple.ts';
import { formatRule, isFamilyAgnostic, isManaged, matchKey, ruleWords, sameRule, twinOf } from './ufw-model.ts';
import { heaviestOrderedSubsequence, UNMOVABLE_WEIGHT } from './ufw-order.ts';

export type UfwOpKind = 'insert' | 'append' | 'delete' | 'replace';

export interface UfwOp {
  readonly kind: UfwOpKind;
  readonly family: UfwFamily | 'both';
  readonly rule: UfwRule;
  /** The rule a `replace` overwrites. */
  readonly previous?: UfwRule;
  /** Arguments after `ufw`. */
  readonly words: readonly string[];
}

type Lists = Record<UfwFamily, UfwRule[]>;
type Desired = readonly Partial<Record<UfwFamily, UfwRule>>[];

interface FamilyPlan {
  readonly present: Map<number, UfwRule>;
  readonly replace: Map<number, UfwRule>;
  readonly stale: UfwRule[];
  readonly moved: Set<number>;
}

// ufw numbers app rules once per application, not per tuple (backend.get_rules_count).
const countRules = (rules: readonly UfwRule[]): number => {
  const apps = new Set<string>();
  let count = 0;
  for (const rule of rules) {
    const app =
      rule.dapp || rule.sapp
        ? [rule.dapp, rule.dport, rule.dst, rule.sapp, rule.sport, rule.src, rule.direction, rule.interfaceIn].join(' ')
        : '';
    if (app && apps.has(app)) continue;
    if (app) apps.add(app);
    count += 1;
  }
  return count;
};

// A managed rule already in place that lets SSH in is never moved (moving is delete + insert): other
// rules are reordered around it, so no batch ever leaves the host without its SSH allow.
const letsSshIn = (rule: UfwRule, sshPort: number | undefined): boolean =>
  sshPort !== undefined && rule.action === 'allow' && rule.dport === String(sshPort) && (rule.proto === 'tcp' || rule.proto === 'any');

const analyseFamily = (family: UfwFamily, list: readonly UfwRule[], desired: Desired, sshPort: number | undefined): FamilyPlan => {
  const byKey = new Map<string, number>();
  desired.forEach((entry, index) => {
    const rule = entry[family];
    if (!rule) return;
    const other = byKey.get(matchKey(rule));
    if (other !== undefined) {
      throw new StepPlanError(
        `desired rules #${other + 1} and #${index + 1} have the same match (${formatRule(rule)}): ufw keeps only one`,
      );
    }
    byKey.set(matchKey(rule), index);
  });
  const candidates: { rule: UfwRule; order: number; weight: number; managed: boolean }[] = [];
  const stale: UfwRule[] = [];
  for (const rule of list) {
    const index = byKey.get(matchKey(rule));
    const want = index === undefined ? undefined : desired[index]?.[family];
    if (isManaged(rule)) {
      if (index === undefined || !want) stale.push(rule);
      else {
        const weight = sameRule(rule, want) ? (letsSshIn(rule, sshPort) ? UNMOVABLE_WEIGHT : 2) : 1;
        candidates.push({ rule, order: index, weight, managed: true });
      }
    } else if (index !== undefined && want) {
      if (rule.action !== want.action) {
        throw new StepPlanError(
          `unmanaged rule "${formatRule(rule)}" [${family}] has the same match as managed "${formatRule(want)}": ufw keeps one rule per match, ` +
            `so casfleet cannot add its rule without replacing yours; delete it or give it a "casfleet:" comment`,
        );
      }
      candidates.push({ rule, order: index, weight: UNMOVABLE_WEIGHT, managed: false });
    }
  }
  const kept = new Set(heaviestOrderedSubsequence(candidates));
  const plan: FamilyPlan = { present: new Map(), replace: new Map(), stale, moved: new Set() };
  candidates.forEach((candidate, i) => {
    if (kept.has(i)) {
      plan.present.set(candidate.order, candidate.rule);
      if (candidate.weight === 1) plan.replace.set(candidate.order, candidate.rule);
    } else if (!candidate.managed) {
      throw new StepPlanError(
        `unmanaged rule "${formatRule(candidate.rule)}" [${family}] is out of the managed order and casfleet does not move it; reorder or delete it`,
      );
    } else {
      stale.push(candidate.rule);
      plan.moved.add(candidate.order);
    }
  });
  return plan;
};

type Slot = { readonly kind: 'insert'; readonly at: number } | { readonly kind: 'append' };

/** Where desired rule `index` goes: before the next desired rule present, else after the previous one. */
const slotFor = (list: readonly UfwRule[], present: ReadonlyMap<number, UfwRule>, index: number): Slot => {
  const orders = [...present.keys()].sort((a, b) => a - b);
  const later = orders.find((order) => order > index);
  if (later !== undefined) return { kind: 'insert', at: list.indexOf(present.get(later) as UfwRule) };
  const earlier = orders.filter((order) => order < index).pop();
  if (earlier === undefined) return { kind: 'append' };
  const at = list.indexOf(present.get(earlier) as UfwRule) + 1;
  return at >= list.length ? { kind: 'append' } : { kind: 'insert', at };
};

/** Computes the ordered ufw operations that turn `current` into the desired managed set. */
export const reconcileRules = (
  current: Readonly<Record<UfwFamily, readonly UfwRule[]>>,
  desired: Desired,
  ipv6: boolean,
  sshPort?: number,
): { ops: UfwOp[]; final: Lists } => {
  const families: UfwFamily[] = ipv6 ? ['v4', 'v6'] : ['v4'];
  const lists: Lists = { v4: [...current.v4], v6: ipv6 ? [...current.v6] : [] };
  const plans = { v4: analyseFamily('v4', lists.v4, desired, sshPort), v6: analyseFamily('v6', lists.v6, desired, sshPort) };
  const ops: UfwOp[] = [];
  // v6 positions are global: ufw subtracts the current v4 count (frontend.set_rule).
  const position = (family: UfwFamily, at: number): string =>
    String(countRules(lists[family].slice(0, at)) + 1 + (family === 'v6' ? countRules(lists.v4) : 0));

  const insertBoth = (index: number, fams: UfwFamily[]): void => {
    const slots = fams.map((family) => slotFor(lists[family], plans[family].present, index));
    const [slot4, slot6] = slots;
    const rule4 = desired[index]?.v4;
    if (fams.length === 2 && rule4 && slot4 && slot6 && isFamilyAgnostic(rule4) && mergeableInsert(slot4, slot6)) {
      const words = slot4.kind === 'insert' ? ['insert', position('v4', slot4.at), ...ruleWords(rule4, 'both')] : ruleWords(rule4, 'both');
      ops.push({ kind: slot4.kind, family: 'both', rule: rule4, words });
      for (const [i, family] of fams.entries()) place(family, index, slots[i] as Slot, false);
      return;
    }
    for (const family of fams) place(family, index, slotFor(lists[family], plans[family].present, index), true);
  };
  // ufw's own v6 placement for a both-family insert at v4 slot `slot4` (see header comment).
  const mergeableInsert = (slot4: Slot, slot6: Slot): boolean => {
    if (slot4.kind === 'append') return slot6.kind === 'append';
    const twin = twinOf(lists.v4[slot4.at] as UfwRule, 'v6');
    const t = twin ? lists.v6.findIndex((rule) => sameRule(rule, twin)) : -1;
    if (t === -1) return slot6.kind === 'append';
    return slot6.kind === 'insert' && slot6.at === t && t + 1 <= countRules(lists.v4) + 1;
  };
  const place = (family: UfwFamily, index: number, slot: Slot, emit: boolean): void => {
    const rule = desired[index]?.[family] as UfwRule;
    if (emit) {
      const words = slot.kind === 'insert' ? ['insert', position(family, slot.at), ...ruleWords(rule, family)] : ruleWords(rule, family);
      ops.push({ kind: slot.kind, family, rule, words });
    }
    if (slot.kind === 'insert') lists[family].splice(slot.at, 0, rule);
    else lists[family].push(rule);
    plans[family].present.set(index, rule);
  };
  const missing = (index: number, moved: boolean): UfwFamily[] =>
    families.filter((family) => desired[index]?.[family] && !plans[family].present.has(index) && plans[family].moved.has(index) === moved);

  for (const index of desired.keys()) insertBoth(index, missing(index, false));

  desired.forEach((entry, index) => {
    const fams = families.filter((family) => plans[family].replace.has(index));
    const rule4 = entry.v4;
    const merged = fams.length === 2 && rule4 !== undefined && isFamilyAgnostic(rule4);
    for (const family of merged ? (['v4'] as const) : fams) {
      const rule = entry[family] as UfwRule;
      const previous = plans[family].replace.get(index) as UfwRule;
      ops.push({ kind: 'replace', family: merged ? 'both' : family, rule, previous, words: ruleWords(rule, merged ? 'both' : family) });
    }
    for (const family of fams) {
      const previous = plans[family].replace.get(index) as UfwRule;
      const rule = entry[family] as UfwRule;
      lists[family][lists[family].indexOf(previous)] = rule;
      plans[family].present.set(index, rule);
    }
  });

  const stale6 = [...plans.v6.stale];
  for (const rule of lists.v4.filter((r) => plans.v4.stale.includes(r))) {
    const twin = ipv6 ? twinOf(rule, 'v6') : undefined;
    const twinAt = twin ? stale6.findIndex((r) => sameRule(r, twin)) : -1;
    ops.push({
      kind: 'delete',
      family: twinAt === -1 ? 'v4' : 'both',
      rule,
      words: ['delete', ...ruleWords(rule, twinAt === -1 ? 'v4' : 'both')],
    });
    lists.v4.splice(lists.v4.indexOf(rule), 1);
    if (twinAt !== -1) lists.v6.splice(lists.v6.indexOf(stale6.splice(twinAt, 1)[0] as UfwRule), 1);
  }
  for (const rule of lists.v6.filter((r) => stale6.includes(r))) {
    ops.push({ kind: 'delete', family: 'v6', rule, words: ['delete', ...ruleWords(rule, 'v6')] });
    lists.v6.splice(lists.v6.indexOf(rule), 1);
  }

  for (const index of desired.keys()) insertBoth(index, missing(index, true));
  for (const family of families) assertConverges(family, lists[family], desired);
  return { ops, final: lists };
};

// Self-check of the simulation: the desired rules of a family now appear exactly once each, in order.
const assertConverges = (family: UfwFamily, list: readonly UfwRule[], desired: Desired): void => {
  const wanted = desired.flatMap((entry) => (entry[family] ? [entry[family]] : []));
  const keys = new Set(wanted.map(matchKey));
  const got = list.filter((rule) => keys.has(matchKey(rule)));
  const ok = got.length === wanted.length && got.every((rule, i) => matchKey(rule) === matchKey(wanted[i] as UfwRule));
  if (!ok) throw new StepPlanError(`internal: the ${family} plan does not reach the desired order (please report this with the ufw fact)`);
};
