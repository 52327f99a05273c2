// What one iptables rule matches, read from its text: the words of an `iptables-save` line (or of an
// `iptables -I …` command in CAS's firewall.rules), the options with their negation, and a
// signature that two spellings of the same rule share. iptables-save adds what the tools leave
// implicit (`-m tcp` after `-p tcp`, `/32`, `--reject-with icmp-port-unreachable`, `--name DEFAULT`
// of `recent`, `3/min` for ufw's `3/minute`) and reorders options; the signature keeps only what
// decides which packets match and where they go, so ufw's own file lines and the running rules
// compare equal, and a rule flushed, added or changed by hand does not.
import { cachedIn, memoByIdentity, memoByText } from '../facts/memo.ts';
import type { UfwFamily } from '../facts/ufw-tuple.ts';
import { formatNetwork, parseNetwork } from './cidr.ts';
import { ALL_PORTS, complement, type PortRange, portRanges } from './port-ranges.ts';

export interface RuleOption {
  /** Long name without dashes: `source`, `dport`, `ctstate`, `jump`, `to-destination`. */
  readonly name: string;
  readonly negated: boolean;
  readonly values: readonly string[];
}

export interface KernelRule {
  readonly family: UfwFamily;
  readonly table: string;
  readonly chain: string;
  /** The rule as the kernel dump (or the command) wrote it, for messages. */
  readonly text: string;
  readonly options: readonly RuleOption[];
  /** `-j`/`-g` target; '' for a rule without one (it only counts or sets state, e.g. `recent --set`). */
  readonly target: string;
}

/** Shell-like word splitting: '…' literal, "…" and bare words with backslash escapes. Undefined on an unclosed quote. */
export const splitWords = (text: string): string[] | undefined => {
  if (!/['"\\]/.test(text)) return text.split(/\s+/).filter(Boolean);
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
    } else if (char === '\\' && i + 1 < text.length) {
      i += 1;
      word = (word ?? '') + text[i];
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= '';
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (quote) return undefined;
  if (word !== undefined) words.push(word);
  return words;
};

const SHORT: Readonly<Record<string, string>> = {
  s: 'source',
  d: 'destination',
  i: 'in-interface',
  o: 'out-interface',
  p: 'protocol',
  m: 'match',
  j: 'jump',
  g: 'goto',
  f: 'fragment',
};
const LONG: Readonly<Record<string, string>> = {
  'destination-port': 'dport',
  'source-port': 'sport',
  'destination-ports': 'dports',
  'source-ports': 'sports',
};
const isOptionWord = (word: string): boolean => /^--?[A-Za-z]/.test(word);

/** Options of a rule specification (the words after `-A CHAIN`). */
export const parseOptions = (words: readonly string[]): RuleOption[] => {
  const options: RuleOption[] = [];
  let negated = false;
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] as string;
    if (word === '!') {
      negated = true;
      continue;
    }
    if (!isOptionWord(word)) continue;
    const bare = word.replace(/^--?/, '');
    const name = word.startsWith('--') ? (LONG[bare] ?? bare) : (SHORT[bare] ?? bare);
    const values: string[] = [];
    while (i + 1 < words.length && words[i + 1] !== '!' && !isOptionWord(words[i + 1] as string)) {
      i += 1;
      values.push(words[i] as string);
    }
    options.push({ name, negated, values });
    negated = false;
  }
  return options;
};

// One memo per family and table (a handful: the tables iptables-save prints), keyed by the line.
const savedRuleMemos = new Map<string, (text: string) => KernelRule | undefined>();

const savedRulesOf = (family: UfwFamily, table: string): ((text: string) => KernelRule | undefined) =>
  cachedIn(savedRuleMemos, `${family} ${table}`, () =>
    memoByText((text) => {
      const words = splitWords(text);
      if (!words) return undefined;
      const options = parseOptions(words.slice(2));
      const target = options.find((option) => option.name === 'jump' || option.name === 'goto')?.values[0] ?? '';
      return { family, table, chain: words[1] ?? '', text, options, target };
    }),
  );

/** A rule from an iptables-save `-A CHAIN …` line; undefined when its quoting is broken. */
export const parseSavedRule = (family: UfwFamily, table: string, chain: string, text: string): KernelRule | undefined => {
  const rule = savedRulesOf(family, table)(text);
  return rule === undefined || rule.chain === chain ? rule : { ...rule, chain };
};

export const option = (rule: KernelRule, name: string): RuleOption | undefined => rule.options.find((o) => o.name === name);

const ADDRESS_OPTIONS = new Set(['source', 'destination']);
const LIST_OPTIONS = new Set(['ctstate', 'state']);
// What decides which packets a rule matches and where they go. Logging prefixes, rate limits,
// counters, comments and module loads (`-m tcp`) are left out: they differ between spellings.
const SIGNATURE_OPTIONS = new Set([
  'source',
  'destination',
  'in-interface',
  'out-interface',
  'protocol',
  'sport',
  'dport',
  'sports',
  'dports',
  'ports',
  'ctstate',
  'state',
  'set',
  'update',
  'rcheck',
  'remove',
  'dst-type',
  'src-type',
  'icmp-type',
  'icmpv6-type',
  'to-ports',
  'to-destination',
  'to-source',
  'jump',
  'goto',
]);

const normalValue = (name: string, values: readonly string[]): string => {
  if (ADDRESS_OPTIONS.has(name)) {
    return values
      .map((value) => {
        const network = parseNetwork(value);
        return network ? formatNetwork(network) : value;
      })
      .join(' ');
  }
  if (LIST_OPTIONS.has(name)) return values.join(',').split(',').sort().join(',');
  if (name === 'protocol') return values.join(' ').toLowerCase();
  return values.join(' ');
};

// By the options' identity: a parsed rule is shared by every dump that holds its line (parseSavedRule).
const signatureOf = memoByIdentity((options: readonly RuleOption[]): string =>
  options
    .filter((o) => SIGNATURE_OPTIONS.has(o.name))
    .map((o) => `${o.negated ? '!' : ''}${o.name}=${normalValue(o.name, o.values)}`)
    .sort()
    .join(' '),
);

/** The rule's match-and-target signature: equal for two spellings of the same rule. */
export const ruleSignature = ({ options }: Pick<KernelRule, 'options'>): string => signatureOf(options);

/** One chain where two rule lists differ: the rules of each, and the first position whose signatures differ (-1: one list only runs longer). */
export interface ChainDifference {
  readonly chain: string;
  readonly want: readonly KernelRule[];
  readonly got: readonly KernelRule[];
  readonly at: number;
}

/** The chains (sorted) where `got` does not run `want`'s rules in order, compared by signature. */
export const chainDifferences = (want: readonly KernelRule[], got: readonly KernelRule[]): ChainDifference[] =>
  [...new Set([...want, ...got].map((rule) => rule.chain))].sort().flatMap((chain) => {
    const wanted = want.filter((rule) => rule.chain === chain);
    const running = got.filter((rule) => rule.chain === chain);
    const at = wanted.findIndex((rule, i) => running[i] === undefined || ruleSignature(rule) !== ruleSignature(running[i] as KernelRule));
    return at === -1 && wanted.length === running.length ? [] : [{ chain, want: wanted, got: running, at }];
  });

/** True unless the rule is limited to protocols other than TCP (the CAS services are all TCP). */
export const matchesTcp = (rule: KernelRule): boolean => {
  const proto = option(rule, 'protocol');
  if (!proto) return true;
  const tcp = ['tcp', '6'].includes((proto.values[0] ?? '').toLowerCase());
  return proto.negated ? !tcp : tcp || proto.values[0] === 'all';
};

/**
 * The destination ports a rule lets through. Source-port and `--ports` matches (either side) are
 * chosen by the sender, so they do not limit what an outsider can reach: they count as all ports.
 */
export const destinationPorts = (rule: KernelRule): PortRange[] => {
  if (option(rule, 'sport') || option(rule, 'sports') || option(rule, 'ports')) return [...ALL_PORTS];
  const ports = option(rule, 'dport') ?? option(rule, 'dports');
  if (!ports) return [...ALL_PORTS];
  const ranges = portRanges(ports.values.join(','));
  return ports.negated ? complement(ranges) : ranges;
};

/** Only packets of existing connections (ESTABLISHED/RELATED): never a new connection from outside. */
export const onlyExistingConnections = (rule: KernelRule): boolean => {
  const state = option(rule, 'ctstate') ?? option(rule, 'state');
  if (!state || state.negated) return false;
  const states = state.values.join(',').split(',');
  return !states.includes('NEW') && !states.includes('DNAT') && !states.includes('UNTRACKED');
};

/** The destination a DNAT rule rewrites to: address (or range) and port (or range), as written. */
export const dnatDestination = (rule: KernelRule): { readonly address: string; readonly ports?: PortRange } | undefined => {
  const value = option(rule, 'to-destination')?.values[0];
  if (!value) return undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+)(?:-(\d+))?)?$/.exec(value);
  const plain = /^([^:]+)(?::(\d+)(?:-(\d+))?)?$/.exec(value);
  const match = bracketed ?? (rule.family === 'v4' ? plain : undefined);
  if (!match) return { address: value };
  const [, address = '', low, high] = match;
  return low === undefined ? { address } : { address, ports: [Number(low), Number(high ?? low)] };
};
