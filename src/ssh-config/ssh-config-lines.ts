// One OpenSSH client configuration file as a list of lines with their positions, parsed by the
// `ssh-config` package (quoting, `=` separators, comments, Host/Match blocks). Only the syntax comes
// from the package: its compute() runs `Match exec` commands in a shell and does DNS lookups, and it
// does not follow Include, so the meaning of the lines is evaluated here (evaluate-ssh-config.ts).

import SSHConfig from 'ssh-config';

export interface SshConfigLine {
  /** The keyword in lower case (`hostname`, `identityfile`, `host`, `match`, `include`…). */
  readonly keyword: string;
  /** The arguments, unquoted. */
  readonly args: readonly string[];
  /** `file:line`, for messages. */
  readonly source: string;
  /** For `include`: the lines of every file it names, in glob order (filled by the reader). */
  readonly included?: readonly (readonly SshConfigLine[])[];
}

type ParsedValue = string | readonly { readonly val: string }[];
interface ParsedLine {
  readonly type: number;
  readonly param?: string;
  readonly value?: ParsedValue;
  readonly before: string;
  readonly after: string;
  readonly config?: readonly ParsedLine[];
}

const newlines = (text: string): number => text.split('\n').length - 1;

/** Parses the text of one file; throws Error (with `file:line`) on broken quoting. */
export const parseSshConfigLines = (text: string, file: string): SshConfigLine[] => {
  let parsed: readonly ParsedLine[];
  try {
    parsed = SSHConfig.parse(text) as unknown as readonly ParsedLine[];
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
  const lines: SshConfigLine[] = [];
  let line = 1;
  const walk = (items: readonly ParsedLine[]): void => {
    for (const item of items) {
      line += newlines(item.before);
      if (item.type === SSHConfig.DIRECTIVE && item.param) {
        const value = item.value ?? '';
        const args = typeof value === 'string' ? (value === '' ? [] : [value]) : value.map((part) => part.val);
        lines.push({ keyword: item.param.toLowerCase(), args, source: `${file}:${line}` });
      }
      // A Host/Match line's own line break comes before the lines of its block.
      line += newlines(item.after);
      if (item.config) walk(item.config);
    }
  };
  walk(parsed);
  return lines;
};
