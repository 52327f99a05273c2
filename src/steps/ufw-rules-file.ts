// user.rules / user6.rules exactly as ufw 0.36.2 writes them (backend_iptables.py _write_rules,
// _get_rules_from_formatted and _get_logging_rules; common.py UFWRule.format_rule), so casfleet
// can change rules without starting ufw's python (~0.13 s of host CPU per run). ufw rebuilds the
// whole file from its rule list and settings on every rule change: a header declaring its chains
// (the rate-limit chains only when the kernel can rate-limit), per rule a `### tuple ###` line
// followed by the iptables lines the rule becomes, the LOGGING section for LOGLEVEL and the default
// policies, and the RATE LIMITING section. Same input, same bytes: test/steps/ufw-rules-file.test.ts
// holds files ufw wrote, test/lab/ufw-rules-writer.test.ts compares with real ufw on lab hosts.
//
// What the writer leaves to ufw's python (ufw-batch.ts falls back when `writerProblem` says so):
// application rules (their ports come from profiles in applications.d), interface names ufw's
// reader would not take back (`in_\w+`), ports that are not numbers, and a limit rule where the file
// has no rate-limit chain (ufw skips such a rule with a warning instead of writing it).
import type { UfwChainPolicy, UfwFileFormat } from '../facts/ufw.ts';
import { encodeUfwComment, TUPLE_PREFIX, type UfwFamily, type UfwRule } from '../facts/ufw-tuple.ts';
import { ANY_ADDRESS } from './cidr.ts';

const [MEDIUM, HIGH, FULL] = [200, 300, 400];
const LOG_LEVELS: Readonly<Record<string, number>> = { off: 0, low: 100, medium: MEDIUM, high: HIGH, full: FULL };
const LIMIT_ARGS = '-m limit --limit 3/min --limit-burst 10';
const DIRECTIONS = ['input', 'output', 'forward'] as const;
type Direction = (typeof DIRECTIONS)[number];

/** ufw's chain prefix of a family: `ufw-…`, `ufw6-…`. */
export const prefixOf = (family: UfwFamily): string => (family === 'v6' ? 'ufw6' : 'ufw');

/** Why the writer cannot write `rule` as ufw would (then ufw's python must), or undefined. */
export const writerProblem = (rule: UfwRule, family: UfwFamily, format: UfwFileFormat): string | undefined => {
  if (rule.dapp || rule.sapp) return 'an application rule';
  if (![rule.interfaceIn, rule.interfaceOut].every((name) => /^\w*$/.test(name))) return 'an interface name ufw reads back differently';
  if (![rule.dport, rule.sport].every((port) => port === 'any' || /^\d+(?::\d+)?(?:,\d+(?::\d+)?)*$/.test(port))) return 'a named port';
  if (!/^[a-z0-9]+$/.test(rule.proto)) return 'an unusual protocol';
  if (rule.action === 'limit' && !limitSupported(family, format)) return 'a limit rule where the file has no rate-limit chain';
  return undefined;
};

// ufw declares the rate-limit chains when the kernel can rate-limit (backend.py initcaps); a file
// ufw wrote tells which. The package's template user.rules declares them and user6.rules does not,
// whatever the kernel: there the writer assumes what every supported kernel has (xt_recent), a
// template file being replaced by the first rule change anyway.
const limitSupported = (family: UfwFamily, format: UfwFileFormat): boolean =>
  format.files[family].writtenByUfw ? format.files[family].limitChain : true;

const isMulti = (rule: UfwRule): boolean => /[,:]/.test(rule.dport) || /[,:]/.test(rule.sport);

// The protocol and, for port lists and ranges, the multiport match.
const protoArgs = (rule: UfwRule): string => {
  if (rule.proto === 'any') return ' -p all';
  if (!isMulti(rule)) return ` -p ${rule.proto}`;
  if (rule.dport !== 'any' && rule.sport !== 'any')
    return ` -p ${rule.proto} -m multiport --dports ${rule.dport} -m multiport --sports ${rule.sport}`;
  if (rule.dport !== 'any') return ` -p ${rule.proto} -m multiport --dports ${rule.dport}`;
  return ` -p ${rule.proto} -m multiport${rule.sport !== 'any' ? ` --sports ${rule.sport}` : ''}`;
};

const targetArgs = (rule: UfwRule): string => {
  const log = rule.log ? `_${rule.log}` : '';
  if (rule.action === 'allow') return ` -j ACCEPT${log}`;
  if (rule.action === 'reject') return ` -j REJECT${log}${rule.proto === 'tcp' ? ' --reject-with tcp-reset' : ''}`;
  if (rule.action === 'limit') return ` -j LIMIT${log}`;
  return ` -j DROP${log}`;
};

const isAnyAddress = (address: string): boolean => address === ANY_ADDRESS.v4 || address === ANY_ADDRESS.v6;

/** common.py UFWRule.format_rule: the iptables arguments of a rule (before ufw's adjustments). */
const formatRuleArgs = (rule: UfwRule): string => {
  const single = !isMulti(rule);
  const text = [
    rule.interfaceIn ? ` -i ${rule.interfaceIn}` : '',
    rule.interfaceOut ? ` -o ${rule.interfaceOut}` : '',
    protoArgs(rule),
    isAnyAddress(rule.dst) ? '' : ` -d ${rule.dst}`,
    single && rule.dport !== 'any' ? ` --dport ${rule.dport}` : '',
    isAnyAddress(rule.src) ? '' : ` -s ${rule.src}`,
    single && rule.sport !== 'any' ? ` --sport ${rule.sport}` : '',
    targetArgs(rule),
  ];
  return text.join('').trim();
};

/** backend_iptables.py _get_rules_from_formatted: the lines one rule becomes, each ending in \n. */
const expandRuleLine = (line: string, prefix: string, suffix: string): string[] => {
  const snippets: string[] = [];
  if (/-p all /.test(line)) {
    if (/port /.test(line)) {
      const tcp = /-j (REJECT(_log(-all)?)?)/.test(line)
        ? line.replace(/-j (REJECT(_log(-all)?)?)/g, '-j $1 --reject-with tcp-reset')
        : line;
      snippets.push(tcp.replace(/-p all /g, '-p tcp '), line.replace(/-p all /g, '-p udp '));
    } else snippets.push(line.replace(/-p all /g, ''));
  } else snippets.push(line);

  const log = /(.*)-j ([A-Z]+)_log(-all)?(.*)/g;
  const chain = /(-A|-D) ([a-zA-Z0-9-]+)/g;
  const logChain = `${prefix}-user-logging-${suffix}`;
  for (let i = 0; i < snippets.length; i += 1) {
    const s = snippets[i] as string;
    const match = /(.*)-j ([A-Z]+)_log(-all)?(.*)/.exec(s);
    if (!match) continue;
    const target = (match[2] ?? '').toLowerCase();
    const policy = target === 'accept' ? 'ALLOW' : target === 'limit' ? 'LIMIT' : 'BLOCK';
    let lstr = `${LIMIT_ARGS} -j LOG --log-prefix "[UFW ${policy}] "`;
    if (!/-j [A-Z]+_log-all/.test(s)) lstr = `-m conntrack --ctstate NEW ${lstr}`;
    snippets[i] = s.replace(log, '$1-j $2$4');
    snippets.splice(
      i,
      0,
      s.replace(log, `$1${lstr.replaceAll('$', '$$')}`).replace(chain, `$1 ${logChain}`),
      s.replace(log, '$1-j RETURN').replace(chain, `$1 ${logChain}`),
      s.replace(log, `$1-j ${logChain}`),
    );
  }

  for (let i = 0; i < snippets.length; i += 1) {
    const s = snippets[i] as string;
    if (!/ -j LIMIT/.test(s)) continue;
    snippets.splice(
      i,
      1,
      s.replace(/ -j LIMIT/g, ' -m conntrack --ctstate NEW -m recent --set'),
      s.replace(/ -j LIMIT/g, ` -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j ${prefix}-user-limit`),
      s.replace(/ -j LIMIT/g, ` -j ${prefix}-user-limit-accept`),
    );
    i += 2;
  }
  return snippets;
};

/** The `### tuple ###` line ufw stores for a rule (without its leading blank line). */
export const tupleLine = (rule: UfwRule): string => {
  const action = `${rule.route ? 'route:' : ''}${rule.action}${rule.log ? `_${rule.log}` : ''}`;
  let ifaces: string = rule.direction;
  if (rule.interfaceIn && rule.interfaceOut) ifaces = `in_${rule.interfaceIn}!out_${rule.interfaceOut}`;
  else if (rule.interfaceIn || rule.interfaceOut) ifaces = `${rule.direction}_${rule.interfaceIn || rule.interfaceOut}`;
  const comment = rule.comment ? ` comment=${encodeUfwComment(rule.comment)}` : '';
  return `${TUPLE_PREFIX} ${action} ${rule.proto} ${rule.dport} ${rule.dst} ${rule.sport} ${rule.src} ${ifaces}${comment}`;
};

const ruleText = (rule: UfwRule, prefix: string): string => {
  const suffix = rule.route ? 'forward' : rule.direction === 'out' ? 'output' : 'input';
  const lines = expandRuleLine(`-A ${prefix}-user-${suffix} ${formatRuleArgs(rule)}\n`, prefix, suffix);
  return `\n${tupleLine(rule)}\n${lines.join('')}`;
};

const policyWord = (policy: UfwChainPolicy): string => (policy === 'accept' ? 'allow' : policy === 'reject' ? 'reject' : 'deny');

/** _get_logging_rules as written to the file: the `-D` rules left out, the log prefixes quoted. */
const loggingLines = (prefix: string, format: UfwFileFormat): string[] => {
  const level = LOG_LEVELS[format.logLevel] ?? 0;
  if (level === 0) return DIRECTIONS.map((direction) => `-I ${prefix}-user-logging-${direction} -j RETURN`);
  const lines: string[] = [];
  const limited = level < HIGH ? ` ${LIMIT_ARGS}` : '';
  for (const direction of DIRECTIONS) {
    const blocks = policyWord(format.policies[direction as Direction]) !== 'allow';
    if (blocks || level >= MEDIUM) {
      lines.push(`-A ${prefix}-after-logging-${direction} -j LOG --log-prefix "[UFW ${blocks ? 'BLOCK' : 'ALLOW'}] "${limited}`);
    }
  }
  lines.push(
    level < MEDIUM
      ? `-I ${prefix}-logging-deny -m conntrack --ctstate INVALID -j RETURN${limited}`
      : `-A ${prefix}-logging-deny -m conntrack --ctstate INVALID -j LOG --log-prefix "[UFW AUDIT INVALID] "${limited}`,
    `-A ${prefix}-logging-deny -j LOG --log-prefix "[UFW BLOCK] "${limited}`,
    `-A ${prefix}-logging-allow -j LOG --log-prefix "[UFW ALLOW] "${limited}`,
  );
  if (level >= MEDIUM) {
    const audit = level < HIGH ? ` -m conntrack --ctstate NEW ${LIMIT_ARGS}` : level < FULL ? ` ${LIMIT_ARGS}` : '';
    for (const direction of DIRECTIONS) lines.push(`-I ${prefix}-before-logging-${direction} -j LOG --log-prefix "[UFW AUDIT] "${audit}`);
  }
  return lines;
};

const HEADER_CHAINS = [
  'user-input',
  'user-output',
  'user-forward',
  'before-logging-input',
  'before-logging-output',
  'before-logging-forward',
  'user-logging-input',
  'user-logging-output',
  'user-logging-forward',
  'after-logging-input',
  'after-logging-output',
  'after-logging-forward',
  'logging-deny',
  'logging-allow',
];

/** The whole user.rules (v4) or user6.rules (v6) ufw writes for `rules` in this order. */
export const ufwRulesFileText = (family: UfwFamily, rules: readonly UfwRule[], format: UfwFileFormat): string => {
  const prefix = prefixOf(family);
  const limit = limitSupported(family, format);
  const chains = [...HEADER_CHAINS, ...(limit ? ['user-limit', 'user-limit-accept'] : [])];
  let text = `*filter\n${chains.map((chain) => `:${prefix}-${chain} - [0:0]\n`).join('')}### RULES ###\n`;
  text += rules.map((rule) => ruleText(rule, prefix)).join('');
  text += '\n### END RULES ###\n\n### LOGGING ###\n';
  text += loggingLines(prefix, format)
    .map((line) => `${line}\n`)
    .join('');
  text += '### END LOGGING ###\n';
  if (limit) {
    text += '\n### RATE LIMITING ###\n';
    if (format.logLevel !== 'off') text += `-A ${prefix}-user-limit -m limit --limit 3/minute -j LOG --log-prefix "[UFW LIMIT BLOCK] "\n`;
    text += `-A ${prefix}-user-limit -j REJECT\n-A ${prefix}-user-limit-accept -j ACCEPT\n### END RATE LIMITING ###\n`;
  }
  return `${text}COMMIT\n`;
};
