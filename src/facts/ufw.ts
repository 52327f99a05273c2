// The ufw state of a host, read from ufw's own files instead of spawning `ufw status` (ufw is a
// python program: ~0.13 s CPU per run; the shell's read loop over four small files
// spawns no process).
//
// What ufw itself reads (backend.py _get_defaults/use_ipv6, verified on ufw 0.36.2):
// - /etc/ufw/ufw.conf ENABLED=yes|no: enabled "on boot" and, for ufw, "enabled";
// - /etc/default/ufw IPV6=yes (ufw also requires /proc/sys/net/ipv6 to exist) and
//   DEFAULT_INPUT_POLICY="DROP"|"ACCEPT"|"REJECT" (= deny|allow|reject); values are unquoted and
//   lower-cased, the last assignment wins;
// - user.rules / user6.rules: the ordered rules (see ufw-tuple.ts); user6.rules only when IPv6 is used.
// - the `-A ufw-user-…` lines of user.rules / user6.rules: what ufw loads into its user chains;
// - what ufw's own writer of those files takes besides the rules (steps/ufw-rules-file.ts): LOGLEVEL
//   in ufw.conf, the output and forward policies, and per file whether ufw wrote it (its
//   `### END RULES ###` marker; the package ships files without) and whether it declares the
//   rate-limit chain (ufw declares it exactly when the kernel can rate-limit).
// ENABLED=yes does not prove the rules are loaded or unchanged (a reboot without the ufw unit, an
// `iptables -F`…): the kernel's side is the firewall.kernel fact (kernel-firewall.ts), compared
// with these files by steps/kernel-truth.ts.

import { FactError } from '../errors.ts';
import type { Fact } from './fact.ts';
import { factLines, splitWord, yesNo } from './fact-output.ts';
import { walkPath } from './path-walk.ts';
import { parseUfwTuple, TUPLE_PREFIX, type UfwRule } from './ufw-tuple.ts';

export type { UfwAction, UfwFamily, UfwLog, UfwRule } from './ufw-tuple.ts';

export type UfwPolicy = 'allow' | 'deny' | 'reject';

export interface UfwState {
  readonly installed: boolean;
  /** ENABLED=yes in /etc/ufw/ufw.conf. */
  readonly enabled: boolean;
  /** IPV6=yes and the kernel has IPv6: ufw keeps a v6 twin of every rule without a v4-only address. */
  readonly ipv6: boolean;
  /** DEFAULT_INPUT_POLICY; 'allow' when ufw is not installed (nothing filters). */
  readonly defaultIncoming: UfwPolicy;
  /** MANAGE_BUILTINS=yes makes ufw flush the built-in chains (and CAS's own rules) on every start. */
  readonly manageBuiltins: boolean;
  /** /batm/vpngen/firewall.rules exists: CAS's terminal-VPN rules, to re-source after a ufw restart. */
  readonly vpngenRules: boolean;
  /** Rules in ufw's order, per file. */
  readonly rules: { readonly v4: readonly UfwRule[]; readonly v6: readonly UfwRule[] };
  /** The `-A ufw-user-…` / `-A ufw6-user-…` lines of user.rules / user6.rules, in file order. */
  readonly fileRules: { readonly v4: readonly string[]; readonly v6: readonly string[] };
  /** What writing user*.rules the way ufw does needs besides the rules; null when a setting is missing. */
  readonly fileFormat: UfwFileFormat | null;
}

/** A setting of /etc/default/ufw's DEFAULT_*_POLICY, lower-cased as ufw reads it. */
export type UfwChainPolicy = 'accept' | 'drop' | 'reject';

export interface UfwRulesFileState {
  /** The file carries ufw's `### END RULES ###` marker: ufw wrote it (the package's template has none). */
  readonly writtenByUfw: boolean;
  /** The file declares ufw[6]-user-limit. */
  readonly limitChain: boolean;
}

export interface UfwFileFormat {
  /** LOGLEVEL of ufw.conf (off, low, medium, high, full), lower-cased. */
  readonly logLevel: string;
  readonly policies: { readonly input: UfwChainPolicy; readonly output: UfwChainPolicy; readonly forward: UfwChainPolicy };
  readonly files: Readonly<Record<'v4' | 'v6', UfwRulesFileState>>;
}

const CONF = '/etc/ufw/ufw.conf';
const DEFAULTS = '/etc/default/ufw';
const RULES4 = '/etc/ufw/user.rules';
const RULES6 = '/etc/ufw/user6.rules';
/** The files a change of ufw's rules, policy or enablement writes. */
export const UFW_FILES: readonly string[] = [RULES4, RULES6, CONF, DEFAULTS];
/** The rule file of each address family. */
export const UFW_RULE_FILES: Readonly<Record<'v4' | 'v6', string>> = { v4: RULES4, v6: RULES6 };
const FACT_ID = 'ufw.state';
const END_RULES = '### END RULES ###';
const LIMIT_CHAIN = { v4: ':ufw-user-limit - [0:0]', v6: ':ufw6-user-limit - [0:0]' } as const;

/**
 * Sets ufw_found to yes when a file named ufw is on the PATH, executable or not (as bash's `command
 * -v` answered): casfleet writes and loads the rules without the ufw command, which only the python
 * fallback runs, so a ufw package whose command is broken still counts as installed.
 */
export const UFW_FOUND = `ufw_found=no
${walkPath(`if [ -e "\${d:-.}/ufw" ] && [ ! -d "\${d:-.}/ufw" ]; then ufw_found=yes; break; fi`)}`;

// Inline (no subshell): it sets every variable it reads. The lines wanted from the files come from
// one grep: dash, which runs the scripts on Debian and Ubuntu, reads a file with `read` one byte per
// system call, and the four files are about 7 KB (about 11 ms of host CPU; the grep, about 4). Each
// pattern is anchored as the parser reads the line: by its start, or whole.
const ereLiteral = (text: string): string => text.replace(/[[\].*^$]/g, '\\$&');
const WANTED_LINES = [
  `^(ENABLED=|IPV6=|LOGLEVEL=|DEFAULT_.*_POLICY=|MANAGE_BUILTINS=|${ereLiteral(TUPLE_PREFIX)}|-A ufw-user-|-A ufw6-user-)`,
  `^(${[END_RULES, LIMIT_CHAIN.v4, LIMIT_CHAIN.v6].map(ereLiteral).join('|')})$`,
];
const SCRIPT = `PATH="$PATH:/usr/sbin:/sbin"
${UFW_FOUND}
echo "installed $ufw_found"
if [ -d /proc/sys/net/ipv6 ]; then echo 'kernel-ipv6 yes'; else echo 'kernel-ipv6 no'; fi
if [ -f /batm/vpngen/firewall.rules ]; then echo 'vpngen-rules yes'; else echo 'vpngen-rules no'; fi
ufw_files=
for f in ${CONF} ${DEFAULTS} ${RULES4} ${RULES6}; do
  [ -r "$f" ] || continue
  echo "file $f"
  ufw_files="$ufw_files $f"
done
[ -z "$ufw_files" ] || grep -a -H -E ${WANTED_LINES.map((pattern) => `-e '${pattern}'`).join(' ')} --$ufw_files
echo end`;

const POLICIES: Readonly<Record<string, UfwPolicy>> = { drop: 'deny', accept: 'allow', reject: 'reject' };

const settingValue = (raw: string): string =>
  raw
    .trim()
    .toLowerCase()
    .replace(/^["']|["']$/g, '');

const CHAIN_POLICIES: readonly string[] = ['accept', 'drop', 'reject'];

const fileFormat = (
  settings: ReadonlyMap<string, string>,
  markers: Readonly<Record<'v4' | 'v6', ReadonlySet<string>>>,
): UfwFileFormat | null => {
  const [input, output, forward] = ['INPUT', 'OUTPUT', 'FORWARD'].map((chain) => settings.get(`DEFAULT_${chain}_POLICY`) ?? '');
  const logLevel = settings.get('LOGLEVEL');
  if (logLevel === undefined || ![input, output, forward].every((policy) => CHAIN_POLICIES.includes(policy ?? ''))) return null;
  const file = (family: 'v4' | 'v6'): UfwRulesFileState => ({
    writtenByUfw: markers[family].has(END_RULES),
    limitChain: markers[family].has(LIMIT_CHAIN[family]),
  });
  return {
    logLevel,
    policies: { input: input as UfwChainPolicy, output: output as UfwChainPolicy, forward: forward as UfwChainPolicy },
    files: { v4: file('v4'), v6: file('v6') },
  };
};

/** Parses the output of the ufw fact script. */
export const parseUfwState = (output: string): UfwState => {
  const flags = new Map<string, string>();
  const files = new Set<string>();
  const settings = new Map<string, string>();
  const rules = { v4: [] as UfwRule[], v6: [] as UfwRule[] };
  const fileRules = { v4: [] as string[], v6: [] as string[] };
  const markers = { v4: new Set<string>(), v6: new Set<string>() };
  for (const line of factLines(FACT_ID, output)) {
    const match = /^(\/etc\/[a-z/.0-9]+):(.*)$/.exec(line);
    if (match) {
      const [, file = '', text = ''] = match;
      if (file === RULES4 || file === RULES6) {
        const family = file === RULES4 ? 'v4' : 'v6';
        if (new RegExp(`^-A ufw${family === 'v6' ? '6' : ''}-user-\\S+ `).test(text)) fileRules[family].push(text);
        else if (text === END_RULES || text === LIMIT_CHAIN[family]) markers[family].add(text);
        else if (text.startsWith(TUPLE_PREFIX)) rules[family].push(parseUfwTuple(text));
        else throw new FactError(`${FACT_ID}: unexpected line from ${file}: "${text}"`);
      } else if (file === CONF || file === DEFAULTS) {
        const [key = '', value = ''] = text.split(/=(.*)/s);
        settings.set(key, settingValue(value));
      } else {
        throw new FactError(`${FACT_ID}: unexpected file in output: "${line}"`);
      }
      continue;
    }
    const [word, rest] = splitWord(line);
    if (word === 'file') files.add(rest);
    else if (['installed', 'kernel-ipv6', 'vpngen-rules'].includes(word)) flags.set(word, rest);
    else throw new FactError(`${FACT_ID}: unexpected line "${line}"`);
  }
  const installed = yesNo(FACT_ID, flags, 'installed');
  const vpngenRules = yesNo(FACT_ID, flags, 'vpngen-rules');
  if (!installed) {
    return {
      installed,
      enabled: false,
      ipv6: false,
      defaultIncoming: 'allow',
      manageBuiltins: false,
      vpngenRules,
      rules: { v4: [], v6: [] },
      fileRules: { v4: [], v6: [] },
      fileFormat: null,
    };
  }
  for (const file of [CONF, DEFAULTS, RULES4]) {
    if (!files.has(file)) throw new FactError(`${FACT_ID}: ufw is installed but ${file} is missing or unreadable`);
  }
  const policy = POLICIES[settings.get('DEFAULT_INPUT_POLICY') ?? ''];
  if (policy === undefined) {
    throw new FactError(`${FACT_ID}: bad or missing DEFAULT_INPUT_POLICY in ${DEFAULTS}: "${settings.get('DEFAULT_INPUT_POLICY') ?? ''}"`);
  }
  const enabled = settings.get('ENABLED') === 'yes';
  const ipv6 = settings.get('IPV6') === 'yes' && yesNo(FACT_ID, flags, 'kernel-ipv6');
  if (ipv6 && !files.has(RULES6)) throw new FactError(`${FACT_ID}: IPV6=yes but ${RULES6} is missing or unreadable`);
  return {
    installed,
    enabled,
    ipv6,
    defaultIncoming: policy,
    manageBuiltins: settings.get('MANAGE_BUILTINS') === 'yes',
    vpngenRules,
    // ufw ignores user6.rules when IPv6 is off, so do we.
    rules: { v4: rules.v4, v6: ipv6 ? rules.v6 : [] },
    fileRules: { v4: fileRules.v4, v6: ipv6 ? fileRules.v6 : [] },
    fileFormat: fileFormat(settings, markers),
  };
};

/** ufw installation, enablement, default incoming policy and ordered v4/v6 rules. */
export const ufwState: Fact<UfwState> = { id: FACT_ID, script: SCRIPT, inline: true, parse: parseUfwState };
