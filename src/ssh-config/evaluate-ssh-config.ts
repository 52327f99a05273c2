// What the OpenSSH client configuration says for one destination, with OpenSSH's rules
// (readconf.c): lines are read top to bottom, `Host` and `Match` start blocks that apply when they
// match, the first value obtained for a keyword wins (IdentityFile accumulates), `Include` is read
// in place (only inside an active block), and `Match final`/`canonical` ask for a second pass.
// Pure: files are read by ssh-config-file.ts. `Match exec` is never run: reaching one is an error.

import { ConfigError } from '../errors.ts';
import type { SshConfigFile } from './ssh-config-file.ts';
import type { SshConfigLine } from './ssh-config-lines.ts';

export interface SshConfigSetting {
  readonly args: readonly string[];
  /** `file:line` where it was set. */
  readonly source: string;
}

export interface SshConfigQuery {
  /** The destination as ssh would be given it (ansible_host, else the inventory name). */
  readonly host: string;
  readonly localUser: string;
  /** A user set before the config is read (inventory, -u): what `Match user` sees. */
  readonly user?: string;
}

export interface SshConfigResult {
  /** First value obtained per keyword (lower case). */
  readonly values: ReadonlyMap<string, SshConfigSetting>;
  /** Every IdentityFile, in order. */
  readonly identityFiles: readonly SshConfigSetting[];
}

/** OpenSSH's match_pattern: `*` and `?` globs over the whole (lower-cased) text. */
const globMatches = (pattern: string, text: string): boolean =>
  new RegExp(
    `^${pattern
      .toLowerCase()
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(text.toLowerCase());

/** A pattern list (`a,b*,!c` or separate words): a matching negated entry rejects outright. */
export const patternListMatches = (patterns: readonly string[], text: string): boolean => {
  let matched = false;
  for (const pattern of patterns.flatMap((word) => word.split(','))) {
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), text)) return false;
    } else if (pattern !== '' && globMatches(pattern, text)) {
      matched = true;
    }
  }
  return matched;
};

/** `%h` and `%%` in a HostName, as OpenSSH expands it before `Match host` looks at it. */
export const expandHostName = (hostName: string, original: string): string =>
  hostName.replace(/%([h%])/g, (_all, token: string) => (token === 'h' ? original : '%'));

const CRITERIA_WITH_ARGUMENT = new Set(['host', 'originalhost', 'user', 'localuser', 'exec', 'localnetwork', 'tagged']);

class Evaluation {
  readonly values = new Map<string, SshConfigSetting>();
  readonly identityFiles: SshConfigSetting[] = [];
  wantFinal = false;

  constructor(
    private readonly query: SshConfigQuery,
    private readonly final: boolean,
  ) {}

  currentHost(): string {
    // In the final pass the host is the final host name already (OpenSSH's options->hostname).
    if (this.final) return this.query.host;
    const hostName = this.values.get('hostname')?.args[0];
    return hostName === undefined ? this.query.host : expandHostName(hostName, this.query.host);
  }

  private matchLine(line: SshConfigLine): boolean {
    const args = [...line.args];
    let result = true;
    for (let index = 0; index < args.length; index += 1) {
      const word = args[index]!;
      const negate = word.startsWith('!');
      const criterion = (negate ? word.slice(1) : word).toLowerCase();
      let matched: boolean;
      if (criterion === 'all') matched = true;
      else if (criterion === 'canonical' || criterion === 'final') {
        if (criterion === 'final') this.wantFinal = true;
        matched = this.final;
      } else if (CRITERIA_WITH_ARGUMENT.has(criterion)) {
        const argument = args[index + 1];
        index += 1;
        if (argument === undefined) throw new ConfigError(`ssh config ${line.source}: Match ${criterion} needs an argument`, []);
        const patterns = [argument];
        if (criterion === 'host') matched = patternListMatches(patterns, this.currentHost());
        else if (criterion === 'originalhost') matched = patternListMatches(patterns, this.query.host);
        else if (criterion === 'user')
          matched = patternListMatches(patterns, this.query.user ?? this.values.get('user')?.args[0] ?? this.query.localUser);
        else if (criterion === 'localuser') matched = patternListMatches(patterns, this.query.localUser);
        else if (criterion === 'tagged') matched = patternListMatches(patterns, this.values.get('tag')?.args[0] ?? '');
        else {
          // Only decisive when everything before it matched: then refuse rather than guess.
          if (!result) continue;
          throw new ConfigError(
            `ssh config ${line.source}: casfleet does not evaluate Match ${criterion} (it would run or probe something); use Host or Match host for ${this.query.host}`,
            [],
          );
        }
      } else {
        throw new ConfigError(`ssh config ${line.source}: unknown Match criterion '${word}'`, []);
      }
      if (matched === negate) result = false;
    }
    return result;
  }

  private set(line: SshConfigLine): void {
    if (line.keyword === 'identityfile') {
      // OpenSSH ignores an identity file it already has.
      if (!this.identityFiles.some((known) => known.args[0] === line.args[0]))
        this.identityFiles.push({ args: line.args, source: line.source });
      return;
    }
    // ProxyJump and ProxyCommand compete: whichever is obtained first keeps the other out.
    if (
      (line.keyword === 'proxyjump' && this.values.has('proxycommand')) ||
      (line.keyword === 'proxycommand' && this.values.has('proxyjump'))
    )
      return;
    if (!this.values.has(line.keyword)) this.values.set(line.keyword, { args: line.args, source: line.source });
  }

  private noteFinal(lines: readonly SshConfigLine[]): void {
    for (const line of lines) {
      if (line.keyword === 'match' && line.args.some((word) => word.toLowerCase() === 'final')) this.wantFinal = true;
      for (const file of line.included ?? []) this.noteFinal(file);
    }
  }

  lines(lines: readonly SshConfigLine[]): void {
    let active = true;
    for (const line of lines) {
      if (line.keyword === 'host') active = patternListMatches(line.args, this.query.host);
      else if (line.keyword === 'match') active = this.matchLine(line);
      else if (line.keyword === 'include') {
        // An Include inside an inactive block sets nothing, but OpenSSH still reads it, and a
        // `Match final` in it still asks for the final pass. Its own Host lines only act inside it.
        for (const file of line.included ?? []) {
          if (active) this.lines(file);
          else this.noteFinal(file);
        }
      } else if (active) this.set(line);
    }
  }
}

export const evaluateSshConfig = (files: readonly SshConfigFile[], query: SshConfigQuery): SshConfigResult => {
  const first = new Evaluation(query, false);
  for (const file of files) first.lines(file.lines);
  if (!first.wantFinal) return { values: first.values, identityFiles: first.identityFiles };
  // `Match final`: everything is read again for the final host name; values from the first pass stay.
  const finalPass = new Evaluation({ ...query, host: first.currentHost() }, true);
  for (const [keyword, setting] of first.values) finalPass.values.set(keyword, setting);
  finalPass.identityFiles.push(...first.identityFiles);
  for (const file of files) finalPass.lines(file.lines);
  return { values: finalPass.values, identityFiles: finalPass.identityFiles };
};
