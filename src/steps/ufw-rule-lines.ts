// ufw keeps each rule twice in user.rules / user6.rules: a `### tuple ###` line, which is what ufw
// lists (`ufw status`, and what casfleet plans from), and the `-A ufw-user-…` lines under it, which
// are what ufw loads into the kernel (a reload, a reboot). ufw itself always writes both from the
// tuple, so they agree; a file edited by hand (`sed` on an `-A` line) or half-restored can make
// them disagree, and then `ufw status` and every plan read from the tuples show a rule the kernel
// will not run: a deny of 7777 whose line says ACCEPT opens the admin GUI at the next reload while
// everything reports it closed. Compared as the kernel-truth check compares the file with the
// running chains (rule signatures per chain: what decides which packets match and where they go),
// against the lines ufw writes for the tuples (ufw-rules-file.ts), so a spelling ufw versions
// differ in does not count. Only where that writer mirrors every rule of the family (writerProblem).
import { UFW_RULE_FILES, type UfwFamily, type UfwRule, type UfwState } from '../facts/ufw.ts';
import { chainDifferences, type KernelRule, parseSavedRule } from './iptables-rule.ts';
import { prefixOf, ufwRulesFileText, writerProblem } from './ufw-rules-file.ts';

export interface RuleLinesMismatch {
  readonly family: UfwFamily;
  /** The file whose lines differ from its tuples. */
  readonly path: string;
  /** The first difference, for people. */
  readonly detail: string;
  /** The `-A` user-chain lines ufw writes for the file's tuples (what a rewrite of the file gives). */
  readonly expected: readonly string[];
}

const chainOf = (line: string): string => line.split(' ')[1] ?? '';

const rulesOf = (family: UfwFamily, lines: readonly string[]): KernelRule[] =>
  lines.flatMap((line) => parseSavedRule(family, 'filter', chainOf(line), line) ?? []);

// The package's template files (which ufw replaces at its first rule change) carry a rate-limit
// section of their own (user6.rules' declares no chain for it): judged only in a file ufw wrote.
const comparedLines = (ufw: UfwState, family: UfwFamily, lines: readonly string[]): readonly string[] =>
  ufw.fileFormat?.files[family].writtenByUfw ? lines : lines.filter((line) => !/^ufw6?-user-limit(-accept)?$/.test(chainOf(line)));

/** The `-A` lines of ufw's user chains that ufw writes for `rules` (the rule lines and the rate-limit section). */
export const userChainLines = (family: UfwFamily, rules: readonly UfwRule[], ufw: UfwState): string[] | undefined => {
  const format = ufw.fileFormat;
  if (format === null || rules.some((rule) => writerProblem(rule, family, format) !== undefined)) return undefined;
  const prefix = `-A ${prefixOf(family)}-user-`;
  return ufwRulesFileText(family, rules, format)
    .split('\n')
    .filter((line) => line.startsWith(prefix));
};

const firstDifference = (family: UfwFamily, have: readonly string[], want: readonly string[]): string | undefined => {
  const [first] = chainDifferences(rulesOf(family, want), rulesOf(family, have));
  if (first === undefined) return undefined;
  const { chain, want: wanted, got, at } = first;
  if (at === -1) return `${chain} has ${got.length} rule lines, its tuples give ${wanted.length}`;
  return got[at] === undefined
    ? `${chain} lacks '${wanted[at]?.text}', which its tuples give`
    : `${chain} rule ${at + 1} is '${got[at]?.text}', its tuples give '${wanted[at]?.text}'`;
};

/** The rule files whose `-A` lines are not those ufw writes for their tuples (hand-edited). */
export const ruleLinesMismatches = (ufw: UfwState): RuleLinesMismatch[] => {
  if (!ufw.installed) return [];
  const families: UfwFamily[] = ufw.ipv6 ? ['v4', 'v6'] : ['v4'];
  return families.flatMap((family) => {
    const expected = userChainLines(family, ufw.rules[family], ufw);
    if (expected === undefined) return [];
    const detail = firstDifference(family, comparedLines(ufw, family, ufw.fileRules[family]), comparedLines(ufw, family, expected));
    return detail === undefined ? [] : [{ family, path: UFW_RULE_FILES[family], detail, expected }];
  });
};

/** The ufw state as it is once the mismatched files are rewritten from their tuples. */
export const withRewrittenRuleLines = (ufw: UfwState, mismatches: readonly RuleLinesMismatch[]): UfwState => {
  if (mismatches.length === 0) return ufw;
  const fileRules = { ...ufw.fileRules };
  for (const { family, expected } of mismatches) fileRules[family] = expected;
  return { ...ufw, fileRules };
};
