// What the kernel really enforces, compared with what ufw's files say and with the ports that only
// ufw may open. Pure: from the ufw fact (files) and the kernel fact (iptables-save of both families)
// to a typed verdict the ufw step plans from and the audit reports:
// - drift: ufw's running user chains (ufw-user-*) differ from the `-A ufw-user-…` lines of
//   user.rules/user6.rules, ufw-before-input no longer reaches them, or the INPUT policy is not
//   DEFAULT_INPUT_POLICY. `ufw reload` rebuilds all of that from the files.
// - unhooked: INPUT lost its jump to ufw's chains (a hand `iptables -F INPUT`). ufw re-adds those
//   jumps only when its primary chains do not exist (ufw-init start), so neither reload nor enable
//   repairs it, and enabling would then set the DROP policy with nothing allowed: a lock-out.
// - foreign accepts: a rule outside ufw's user chains that accepts new TCP connections to a
//   protected port (or to every port), reachable from INPUT. ufw's before/after chains are searched
//   too (before.rules never accepts a TCP port by default); loopback, established/related and
//   broadcast/multicast accepts are the usual ones and are not reported.
// - forwarded ports: nat PREROUTING DNATs a protected port to another address and FORWARD lets
//   it through: those connections never pass the INPUT rules (Docker-published ports do this).
// Rules that CAS itself adds (the iptables lines of /batm/vpngen/firewall.rules) are recognised by
// their signature and never reported.
import type { IptablesDump } from '../facts/iptables-save.ts';
import { chainPolicy, chainRules, hasChain } from '../facts/iptables-save.ts';
import type { KernelFirewall } from '../facts/kernel-firewall.ts';
import { cachedIn, memoByIdentity, memoByText } from '../facts/memo.ts';
import type { UfwPolicy, UfwState } from '../facts/ufw.ts';
import type { UfwFamily } from '../facts/ufw-tuple.ts';
import { networkContains, parseNetwork } from './cidr.ts';
import {
  chainDifferences,
  destinationPorts,
  dnatDestination,
  type KernelRule,
  matchesTcp,
  onlyExistingConnections,
  option,
  parseOptions,
  parseSavedRule,
  ruleSignature,
  splitWords,
} from './iptables-rule.ts';
import { ALL_PORTS, covers, intersect, overlaps, type PortRange } from './port-ranges.ts';

export interface KernelRuleRef {
  readonly family: UfwFamily;
  readonly table: string;
  readonly chain: string;
  /** The rule as iptables-save prints it. */
  readonly text: string;
}

export interface ForeignAccept {
  readonly rule: KernelRuleRef;
  /** The protected ports it opens, or 'all' when it accepts new TCP connections to every port. */
  readonly ports: readonly PortRange[] | 'all';
  /** Chains passed from INPUT to reach it (`['INPUT']` for a rule in INPUT itself). */
  readonly via: readonly string[];
}

export interface ForwardedPort {
  readonly family: UfwFamily;
  /** Protected ports the DNAT rule takes (as they arrive, before translation). */
  readonly ports: readonly PortRange[];
  /** `--to-destination` as written (`172.17.0.2:80`). */
  readonly to: string;
  readonly dnat: KernelRuleRef;
  /** The FORWARD rule (or `FORWARD policy ACCEPT`) that lets the translated connection through; absent: FORWARD drops it. */
  readonly acceptedBy?: string;
  /** The kernel forwards packets of this family at all (ip_forward / forwarding = 1). */
  readonly forwarding: boolean;
}

export interface KernelTruth {
  /** Families whose tables could not be read, with the reason (then nothing else is known about them). */
  readonly unreadable: Partial<Record<UfwFamily, string>>;
  /** ufw's user chains exist in the kernel for every family ufw uses: its rules are loaded. */
  readonly ufwLoaded: boolean;
  /** Families whose INPUT chain no longer jumps to ufw's chains although they exist. */
  readonly ufwUnhooked: readonly UfwFamily[];
  /** How the loaded ufw chains and INPUT policy differ from ufw's files; empty when in sync (or not loaded). */
  readonly drift: readonly string[];
  readonly inputPolicy: Partial<Record<UfwFamily, string>>;
  readonly forwardPolicy: Partial<Record<UfwFamily, string>>;
  readonly forwarding: Partial<Record<UfwFamily, boolean>>;
  readonly foreignAccepts: readonly ForeignAccept[];
  /** Every DNAT of a protected port; the risky ones have `forwarding` and `acceptedBy`. */
  readonly forwardedPorts: readonly ForwardedPort[];
  /** Live rules recognised as CAS's own (from /batm/vpngen/firewall.rules). */
  readonly casRules: readonly KernelRuleRef[];
  /** Families where iptables-nft reported rules in the legacy backend too, which are not inspected. */
  readonly legacyTablesPresent: readonly UfwFamily[];
}

export interface KernelTruthInput {
  readonly ufw: UfwState;
  readonly kernel: KernelFirewall;
  /** Ports only ufw may open (the CAS ports): a foreign rule accepting one is reported. */
  readonly protectedPorts: readonly PortRange[];
  /**
   * The iptables backend's chain (instead of ufw): its rules are casfleet's plan, not foreign, and it
   * ends by dropping everything else on the public interface, so rules INPUT reaches after the jump
   * to it cannot let the internet in. Without a jump yet, the plan puts it first in INPUT.
   */
  readonly managedChain?: string;
  /**
   * Chains casfleet owns that are not the backend being planned (the iptables backend's chain while
   * ufw takes over from it): their rules are not foreign, and the next step removes them.
   */
  readonly ownChains?: readonly string[];
}

const PREFIX: Readonly<Record<UfwFamily, string>> = { v4: 'ufw', v6: 'ufw6' };
const RULES_FILE: Readonly<Record<UfwFamily, string>> = { v4: '/etc/ufw/user.rules', v6: '/etc/ufw/user6.rules' };
// ufw-init sets the built-in policy; REJECT is a DROP policy plus a REJECT rule in ufw-reject-input.
const KERNEL_POLICY: Readonly<Record<UfwPolicy, string>> = { allow: 'ACCEPT', deny: 'DROP', reject: 'DROP' };
const VERDICTS = new Set(['ACCEPT', 'DROP', 'REJECT', 'RETURN']);

const ref = (rule: KernelRule): KernelRuleRef => ({ family: rule.family, table: rule.table, chain: rule.chain, text: rule.text });

/** One table's rules by chain, parsed on first use (most of a dump is never looked at). */
interface TableRules {
  readonly family: UfwFamily;
  readonly table: string;
  chain(name: string): readonly KernelRule[];
  readonly chainNames: ReadonlySet<string>;
}

// A dump is read-only and shared by every host (and every read) that printed the same tables
// (parseIptablesSave), so its tables are grouped and parsed once for all of them.
const tablesOf = memoByIdentity((_dump: IptablesDump) => new Map<string, TableRules>());

const tableRules = (family: UfwFamily, dump: IptablesDump, table: string): TableRules =>
  cachedIn(tablesOf(dump), `${family} ${table}`, () => groupTable(family, dump, table));

const groupTable = (family: UfwFamily, dump: IptablesDump, table: string): TableRules => {
  const lines = new Map<string, { chain: string; text: string }[]>();
  for (const line of dump.tables[table]?.rules ?? []) {
    const chain = lines.get(line.chain);
    if (chain) chain.push(line);
    else lines.set(line.chain, [line]);
  }
  const parsed = new Map<string, KernelRule[]>();
  return {
    family,
    table,
    chainNames: new Set(Object.keys(dump.tables[table]?.chains ?? {})),
    chain: (name) => {
      let rules = parsed.get(name);
      if (!rules) {
        rules = (lines.get(name) ?? []).flatMap((line) => parseSavedRule(family, table, line.chain, line.text) ?? []);
        parsed.set(name, rules);
      }
      return rules;
    },
  };
};

const casKey = (family: UfwFamily, table: string, chain: string, signature: string): string => `${family}|${table}|${chain}|${signature}`;

// `iptables [-w] [-t nat] -I PREROUTING [1] <spec> [2>/dev/null]` segments of CAS's shell lines
// (checks with -C and deletions with -D add nothing). Variables cannot be resolved: such a rule
// simply is not recognised.
const casRuleKeys = (commands: readonly string[]): Set<string> => {
  const keys = new Set<string>();
  for (const segment of commands.flatMap((command) => command.split(/\|\||&&|;|\|/))) {
    const words = splitWords(segment.trim());
    const at = words?.findIndex((word) => /(^|\/)ip6?tables(-nft|-legacy)?$/.test(word)) ?? -1;
    if (!words || at === -1) continue;
    const family: UfwFamily = /ip6tables/.test(words[at] ?? '') ? 'v6' : 'v4';
    let table = 'filter';
    let chain: string | undefined;
    const spec: string[] = [];
    for (let i = at + 1; i < words.length; i += 1) {
      const word = words[i] as string;
      if (/^\d*[<>]/.test(word)) break;
      if (word === '-t' || word === '--table') {
        i += 1;
        table = words[i] ?? table;
      } else if (word === '-w' || word === '--wait') {
        if (/^\d+$/.test(words[i + 1] ?? '')) i += 1;
      } else if (['-A', '--append', '-I', '--insert'].includes(word)) {
        i += 1;
        chain = words[i];
        if (word.includes('I') && /^\d+$/.test(words[i + 1] ?? '')) i += 1;
      } else spec.push(word);
    }
    if (chain) keys.add(casKey(family, table, chain, ruleSignature({ options: parseOptions(spec) })));
  }
  return keys;
};

interface Reached {
  readonly rule: KernelRule;
  readonly via: readonly string[];
}

/** Rules reachable from `start`, in evaluation order, following jumps into chains not skipped. */
const reachableRules = (rules: TableRules, start: string, skip: (chain: string) => boolean): Reached[] => {
  const result: Reached[] = [];
  const visit = (chain: string, via: readonly string[]): void => {
    for (const rule of rules.chain(chain)) {
      result.push({ rule, via });
      if (
        rule.target &&
        !VERDICTS.has(rule.target) &&
        !via.includes(rule.target) &&
        !skip(rule.target) &&
        rules.chainNames.has(rule.target)
      ) {
        visit(rule.target, [...via, rule.target]);
      }
    }
  };
  visit(start, [start]);
  return result;
};

// Chains ufw builds from its policy (track, skip-to-policy) and from user.rules (user-*): the
// latter are compared with the files, the former follow DEFAULT_*_POLICY.
const UFW_GENERATED: Readonly<Record<UfwFamily, RegExp>> = {
  v4: new RegExp(`^${PREFIX.v4}-(user|track|skip-to-policy)-`),
  v6: new RegExp(`^${PREFIX.v6}-(user|track|skip-to-policy)-`),
};
const ufwGenerated =
  (family: UfwFamily) =>
  (chain: string): boolean =>
    UFW_GENERATED[family].test(chain);

const isUsualAccept = (rule: KernelRule): boolean => {
  const inIface = option(rule, 'in-interface');
  const dstType = option(rule, 'dst-type');
  return (
    (inIface !== undefined && !inIface.negated && inIface.values[0] === 'lo') ||
    onlyExistingConnections(rule) ||
    (dstType !== undefined && !dstType.negated && !dstType.values.join(',').split(',').includes('LOCAL'))
  );
};

// What INPUT reaches before the jump to the managed chain (nothing when it has no jump yet: the plan puts it first).
const beforeManagedChain = (reached: readonly Reached[], chain: string | undefined): readonly Reached[] => {
  if (chain === undefined) return reached;
  const jump = reached.findIndex(({ rule }) => rule.chain === 'INPUT' && rule.target === chain);
  return jump === -1 ? [] : reached.slice(0, jump);
};

// What INPUT reaches outside the chains ufw and casfleet own, per table (shared, see tableRules)
// and owned chains.
const reachedFromInput = memoByIdentity((_filter: TableRules) => new Map<string, Reached[]>());

const inputReaches = (filter: TableRules, managedChain: string | undefined, ownChains: readonly string[]): Reached[] =>
  cachedIn(reachedFromInput(filter), [managedChain ?? '', ...ownChains].join(' '), () => {
    const generated = ufwGenerated(filter.family);
    return reachableRules(filter, 'INPUT', (chain) => generated(chain) || chain === managedChain || ownChains.includes(chain));
  });

const foreignAccepts = (
  filter: TableRules,
  isCas: (rule: KernelRule) => boolean,
  protectedPorts: readonly PortRange[],
  { managedChain, ownChains = [] }: Pick<KernelTruthInput, 'managedChain' | 'ownChains'>,
): ForeignAccept[] =>
  beforeManagedChain(inputReaches(filter, managedChain, ownChains), managedChain).flatMap(({ rule, via }): ForeignAccept[] => {
    if (rule.target !== 'ACCEPT' || isCas(rule) || ownChains.includes(rule.chain) || !matchesTcp(rule) || isUsualAccept(rule)) return [];
    const ports = destinationPorts(rule);
    if (covers(ports, ALL_PORTS)) return [{ rule: ref(rule), ports: 'all', via }];
    const exposed = intersect(ports, protectedPorts);
    return exposed.length > 0 ? [{ rule: ref(rule), ports: exposed, via }] : [];
  });

type Match = 'yes' | 'no' | 'maybe';

// Options that do not narrow which packets match (or whose effect this check ignores on purpose).
const NEUTRAL = new Set([
  'match',
  'jump',
  'goto',
  'comment',
  'limit',
  'limit-burst',
  'log-prefix',
  'log-level',
  'reject-with',
  'to-destination',
  'to-ports',
  'to-source',
]);

/** Does a new TCP connection to `address`:`port` match this rule? 'maybe' where the rule looks at things not known here. */
const matchesConnection = (rule: KernelRule, address: string, port: number): Match => {
  if (!matchesTcp(rule) || onlyExistingConnections(rule)) return 'no';
  let verdict: Match = 'yes';
  for (const o of rule.options) {
    if (NEUTRAL.has(o.name) || o.name === 'protocol' || o.name === 'ctstate' || o.name === 'state') continue;
    if (o.name === 'destination') {
      const outer = parseNetwork(o.values[0] ?? '');
      const inner = parseNetwork(address);
      if (!outer || !inner) verdict = 'maybe';
      else if (networkContains(outer, inner) === o.negated) return 'no';
    } else if (o.name === 'dport' || o.name === 'dports') {
      if (!overlaps(destinationPorts(rule), [[port, port]])) return 'no';
    } else {
      verdict = 'maybe';
    }
  }
  return verdict;
};

/** Where FORWARD sends a new connection to `address`:`port`: accepted (by which rule) or not. */
const forwardVerdict = (filter: TableRules, policy: string | undefined, address: string, port: number): string | undefined => {
  const walk = (chain: string, via: readonly string[]): { accept: string } | 'drop' | 'continue' => {
    for (const rule of filter.chain(chain)) {
      const match = matchesConnection(rule, address, port);
      if (match === 'no') continue;
      if (rule.target === 'ACCEPT') return { accept: rule.text };
      if ((rule.target === 'DROP' || rule.target === 'REJECT') && match === 'yes') return 'drop';
      if (rule.target === 'RETURN' && match === 'yes') return 'continue';
      if (filter.chainNames.has(rule.target) && !via.includes(rule.target)) {
        const inner = walk(rule.target, [...via, rule.target]);
        if (typeof inner === 'object' || (inner === 'drop' && match === 'yes')) return inner;
      }
    }
    return 'continue';
  };
  const outcome = walk('FORWARD', ['FORWARD']);
  if (typeof outcome === 'object') return outcome.accept;
  return outcome === 'continue' && policy === 'ACCEPT' ? 'FORWARD policy ACCEPT' : undefined;
};

const forwardedPorts = (
  tables: { readonly filter: TableRules; readonly nat: TableRules },
  dump: IptablesDump,
  forwarding: boolean,
  isCas: (rule: KernelRule) => boolean,
  protectedPorts: readonly PortRange[],
): ForwardedPort[] =>
  reachableRules(tables.nat, 'PREROUTING', () => false).flatMap(({ rule }): ForwardedPort[] => {
    if (rule.target !== 'DNAT' || isCas(rule) || !matchesTcp(rule)) return [];
    const ports = intersect(destinationPorts(rule), protectedPorts);
    const to = dnatDestination(rule);
    if (ports.length === 0 || !to) return [];
    const port = to.ports?.[0] ?? (ports[0] as PortRange)[0];
    const acceptedBy = forwardVerdict(tables.filter, chainPolicy(dump, 'filter', 'FORWARD'), to.address, port);
    return [
      {
        family: rule.family,
        ports,
        to: option(rule, 'to-destination')?.values[0] ?? to.address,
        dnat: ref(rule),
        ...(acceptedBy ? { acceptedBy } : {}),
        forwarding,
      },
    ];
  });

/** How ufw's loaded user chains and the INPUT policy differ from ufw's files, one line per difference. */
const driftOf = (filter: TableRules, dump: IptablesDump, ufw: UfwState): string[] => {
  const { family } = filter;
  const prefix = PREFIX[family];
  const drift: string[] = [];
  const fileLines = ufw.fileRules[family].flatMap((text) => {
    const chain = text.split(' ')[1] ?? '';
    const rule = parseSavedRule(family, 'filter', chain, text);
    return rule ? [rule] : [];
  });
  const live = [...filter.chainNames].filter((chain) => chain.startsWith(`${prefix}-user-`)).flatMap((chain) => filter.chain(chain));
  for (const { chain, want, got, at } of chainDifferences(fileLines, live)) {
    if (want.length !== got.length) {
      drift.push(`[${family}] ${chain} runs ${got.length} rule${got.length === 1 ? '' : 's'}, ${RULES_FILE[family]} has ${want.length}`);
    } else {
      drift.push(`[${family}] ${chain} rule ${at + 1} runs as '${got[at]?.text}', ${RULES_FILE[family]} has '${want[at]?.text}'`);
    }
  }
  if (!chainRules(dump, 'filter', `${prefix}-before-input`).some((line) => line.text.endsWith(` -j ${prefix}-user-input`))) {
    drift.push(`[${family}] ${prefix}-before-input does not jump to ${prefix}-user-input`);
  }
  const policy = chainPolicy(dump, 'filter', 'INPUT');
  const expected = KERNEL_POLICY[ufw.defaultIncoming];
  if (policy !== expected) drift.push(`[${family}] the INPUT policy is ${policy ?? 'missing'}, DEFAULT_INPUT_POLICY says ${expected}`);
  return drift;
};

/** The kernel's view of the firewall, judged against ufw's files and the protected ports. */
// CAS's rule lines are the same on every host of a fleet (and in every read of one host).
const casRuleKeysOf = memoByText((_lines: string, commands: readonly string[]) => casRuleKeys(commands), 256);

export const analyseKernel = ({ ufw, kernel, protectedPorts, managedChain, ownChains }: KernelTruthInput): KernelTruth => {
  const casKeys = casRuleKeysOf(kernel.casRuleCommands.join('\n'), kernel.casRuleCommands);
  const casChains = new Set([...casKeys].map((key) => key.split('|', 3).join('|')));
  const isCas = (rule: KernelRule): boolean =>
    casChains.has(`${rule.family}|${rule.table}|${rule.chain}`) &&
    casKeys.has(casKey(rule.family, rule.table, rule.chain, ruleSignature(rule)));
  const truth = {
    unreadable: {} as Partial<Record<UfwFamily, string>>,
    ufwLoaded: true,
    ufwUnhooked: [] as UfwFamily[],
    drift: [] as string[],
    inputPolicy: {} as Partial<Record<UfwFamily, string>>,
    forwardPolicy: {} as Partial<Record<UfwFamily, string>>,
    forwarding: {} as Partial<Record<UfwFamily, boolean>>,
    foreignAccepts: [] as ForeignAccept[],
    forwardedPorts: [] as ForwardedPort[],
    casRules: [] as KernelRuleRef[],
    legacyTablesPresent: [] as UfwFamily[],
  };
  for (const family of ['v4', 'v6'] as const) {
    const state = kernel[family];
    const usedByUfw = family === 'v4' || ufw.ipv6;
    if (!state) continue;
    if (!state.ok) {
      truth.unreadable[family] = state.error;
      if (usedByUfw) truth.ufwLoaded = false;
      continue;
    }
    const { dump } = state;
    const tables = { filter: tableRules(family, dump, 'filter'), nat: tableRules(family, dump, 'nat') };
    const prefix = PREFIX[family];
    const inputPolicy = chainPolicy(dump, 'filter', 'INPUT');
    const forwardPolicy = chainPolicy(dump, 'filter', 'FORWARD');
    if (inputPolicy) truth.inputPolicy[family] = inputPolicy;
    if (forwardPolicy) truth.forwardPolicy[family] = forwardPolicy;
    truth.forwarding[family] = state.forwarding;
    if (dump.legacyTablesPresent) truth.legacyTablesPresent.push(family);
    for (const key of casChains) {
      const [keyFamily, table = '', chain = ''] = key.split('|');
      if (keyFamily === family) truth.casRules.push(...tableRules(family, dump, table).chain(chain).filter(isCas).map(ref));
    }
    if (
      hasChain(dump, 'filter', `${prefix}-before-input`) &&
      !chainRules(dump, 'filter', 'INPUT').some((line) => line.text.endsWith(` -j ${prefix}-before-input`))
    ) {
      truth.ufwUnhooked.push(family);
    }
    const loaded = hasChain(dump, 'filter', `${prefix}-user-input`);
    if (usedByUfw && !loaded) truth.ufwLoaded = false;
    if (usedByUfw && loaded && ufw.enabled) truth.drift.push(...driftOf(tables.filter, dump, ufw));
    truth.foreignAccepts.push(...foreignAccepts(tables.filter, isCas, protectedPorts, { managedChain, ownChains }));
    truth.forwardedPorts.push(...forwardedPorts(tables, dump, state.forwarding, isCas, protectedPorts));
  }
  return truth;
};
