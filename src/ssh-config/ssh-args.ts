// ssh command-line options as Ansible passes them (ansible_ssh_common_args, ansible_ssh_extra_args),
// turned into ssh_config lines that sit before every config file: on ssh's command line they are
// obtained first, so they win. Options that only tune OpenSSH's own process (ControlMaster, -C…)
// mean nothing to casfleet's single connection and are reported as ignored.

import { ConfigError } from '../errors.ts';
import type { SshConfigLine } from './ssh-config-lines.ts';

export interface SshArgs {
  readonly lines: readonly SshConfigLine[];
  /** Options that were understood but have no effect in casfleet. */
  readonly ignored: readonly string[];
}

/** POSIX shell words (quotes and backslashes), as Ansible's shlex.split reads these vars. */
export const shellWords = (text: string): string[] => {
  const words: string[] = [];
  let current: string | undefined;
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charAt(index);
    if (char === "'") {
      const end = text.indexOf("'", index + 1);
      if (end < 0) throw new Error('unclosed single quote');
      current = (current ?? '') + text.slice(index + 1, end);
      index = end;
    } else if (char === '"') {
      let value = '';
      for (index += 1; index < text.length && text.charAt(index) !== '"'; index += 1) {
        if (text.charAt(index) === '\\' && '"\\$`'.includes(text.charAt(index + 1))) index += 1;
        value += text.charAt(index);
      }
      if (index >= text.length) throw new Error('unclosed double quote');
      current = (current ?? '') + value;
    } else if (char === '\\') {
      current = (current ?? '') + text.charAt(index + 1);
      index += 1;
    } else if (/\s/.test(char)) {
      if (current !== undefined) words.push(current);
      current = undefined;
    } else {
      current = (current ?? '') + char;
    }
  }
  if (current !== undefined) words.push(current);
  return words;
};

// -o keywords casfleet applies; everything else given with -o is ignored (and said so).
const APPLIED = new Set([
  'hostname',
  'user',
  'port',
  'identityfile',
  'identitiesonly',
  'identityagent',
  'proxyjump',
  'proxycommand',
  'userknownhostsfile',
  'stricthostkeychecking',
  'connecttimeout',
  'serveraliveinterval',
  'serveralivecountmax',
  'hashknownhosts',
]);
const FLAG_OPTIONS: Readonly<Record<string, string>> = { '-J': 'proxyjump', '-i': 'identityfile', '-p': 'port', '-l': 'user' };
// Flags without an argument, and flags with one, that only shape OpenSSH's own process.
const IGNORED_SWITCHES = /^-[46AaCfGgKkMNnqsTtvVXxYy]+$/;
const IGNORED_WITH_ARGUMENT = new Set(['-b', '-c', '-D', '-E', '-e', '-I', '-L', '-m', '-O', '-Q', '-R', '-S', '-W', '-w', '-B', '-P']);

/** Parses `-J bastion -o ProxyJump=x -o 'User ops' -oPort=2222 -i key …`; `source` names the var. */
export const parseSshArgs = (text: string, source: string): SshArgs => {
  let words: string[];
  try {
    words = shellWords(text);
  } catch (error) {
    throw new ConfigError(`${source}: ${(error as Error).message}`, []);
  }
  const lines: SshConfigLine[] = [];
  const ignored: string[] = [];
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index]!;
    const flag = word.slice(0, 2);
    const attached = word.length > 2 ? word.slice(2) : undefined;
    const argument = (): string => {
      if (attached !== undefined) return attached;
      index += 1;
      const next = words[index];
      if (next === undefined) throw new ConfigError(`${source}: ${flag} needs an argument`, []);
      return next;
    };
    if (flag === '-o') {
      const option = argument();
      const match = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(option);
      if (!match) throw new ConfigError(`${source}: -o ${option} is not Keyword=value`, []);
      const keyword = match[1]!.toLowerCase();
      if (!APPLIED.has(keyword)) {
        ignored.push(`-o ${option}`);
        continue;
      }
      const value = match[2]!.trim();
      lines.push({ keyword, args: keyword === 'userknownhostsfile' ? value.split(/\s+/) : [value], source });
    } else if (FLAG_OPTIONS[flag] !== undefined) {
      lines.push({ keyword: FLAG_OPTIONS[flag]!, args: [argument()], source });
    } else if (IGNORED_SWITCHES.test(word)) {
      ignored.push(word);
    } else if (IGNORED_WITH_ARGUMENT.has(flag)) {
      ignored.push(`${flag} ${argument()}`);
    } else if (flag === '-F') {
      throw new ConfigError(`${source}: -F is not supported here; give the file with --ssh-config`, []);
    } else {
      throw new ConfigError(`${source}: '${word}' is not an ssh option casfleet understands`, []);
    }
  }
  return { lines, ignored };
};
