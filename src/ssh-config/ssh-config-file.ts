// Reads the OpenSSH client configuration files casfleet consults, following `Include` (globs,
// `~`, paths relative to ~/.ssh for user files and /etc/ssh for the system file, 16 levels deep as
// OpenSSH allows). Missing files are simply absent, like OpenSSH's; unreadable ones are errors.

import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { parseSshConfigLines, type SshConfigLine } from './ssh-config-lines.ts';

export const USER_SSH_CONFIG = '~/.ssh/config';
export const SYSTEM_SSH_CONFIG = '/etc/ssh/ssh_config';

const MAX_INCLUDE_DEPTH = 16;

export interface SshConfigFile {
  readonly path: string;
  readonly lines: readonly SshConfigLine[];
}

export const expandHome = (path: string, home: string = homedir()): string =>
  path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;

const globSegment = (segment: string): RegExp =>
  new RegExp(
    `^${segment
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/** glob(3) for Include: wildcards in any path segment, results sorted; hidden files only when asked for. */
const expandGlob = (pattern: string): string[] => {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const segments = pattern.split('/');
  let paths = [pattern.startsWith('/') ? '/' : '.'];
  for (const segment of segments.filter((part, index) => part !== '' || index > 0)) {
    if (segment === '') continue;
    if (!/[*?[]/.test(segment)) {
      paths = paths.map((path) => join(path, segment));
      continue;
    }
    const matcher = globSegment(segment);
    paths = paths.flatMap((path) => {
      try {
        return readdirSync(path)
          .filter((name) => matcher.test(name) && (segment.startsWith('.') || !name.startsWith('.')))
          .sort()
          .map((name) => join(path, name));
      } catch {
        return [];
      }
    });
  }
  return paths;
};

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ConfigError(`cannot read ssh config ${path}`, [{ path: '', message: code ?? String(error) }], { cause: error });
  }
};

const readLines = (path: string, system: boolean, depth: number): SshConfigLine[] | undefined => {
  const text = readText(path);
  if (text === undefined) return undefined;
  let lines: SshConfigLine[];
  try {
    lines = parseSshConfigLines(text, path);
  } catch (error) {
    throw new ConfigError(`cannot parse ssh config ${path}`, [{ path: '', message: (error as Error).message }], { cause: error });
  }
  return lines.map((line) => {
    if (line.keyword !== 'include') return line;
    if (depth >= MAX_INCLUDE_DEPTH) {
      throw new ConfigError(`ssh config ${line.source}: Include nested more than ${MAX_INCLUDE_DEPTH} deep`, []);
    }
    const included = line.args.flatMap((arg) => {
      const expanded = expandHome(arg);
      const absolute = isAbsolute(expanded) ? expanded : join(system ? '/etc/ssh' : expandHome('~/.ssh'), expanded);
      return expandGlob(absolute).flatMap((file) => {
        const nested = readLines(file, system, depth + 1);
        return nested === undefined ? [] : [nested];
      });
    });
    return { ...line, included };
  });
};

/**
 * The files to evaluate, in OpenSSH's order: `--ssh-config FILE` alone (like `ssh -F`), `none` for
 * no file at all, or by default ~/.ssh/config then /etc/ssh/ssh_config. Files that do not exist are
 * left out.
 */
export const readSshConfig = (given: string | undefined): SshConfigFile[] => {
  if (given === 'none') return [];
  const files =
    given === undefined
      ? [
          { path: expandHome(USER_SSH_CONFIG), system: false },
          { path: SYSTEM_SSH_CONFIG, system: true },
        ]
      : [{ path: expandHome(given), system: false }];
  return files.flatMap(({ path, system }) => {
    const lines = readLines(path, system, 0);
    // Like `ssh -F`, a file asked for by name must exist.
    if (lines === undefined && given !== undefined) throw new ConfigError(`ssh config ${path} does not exist`, []);
    return lines === undefined ? [] : [{ path, lines }];
  });
};
