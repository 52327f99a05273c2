// The per-command data of the bash and zsh scripts, as one shell function both shells run: given a
// command name it sets `flags` (every flag word), `values` (|flag=kind| for flags that take a value),
// `subcommands` and `arguments` (|subcommand=kind|, '' for a command without subcommands).

import { flagWords, type CommandSpec } from './command-spec.ts';

const table = (entries: ReadonlyArray<readonly [string, string]>): string =>
  entries.length === 0 ? '' : `|${entries.map(([key, value]) => `${key}=${value}`).join('|')}|`;

const commandCase = (command: CommandSpec): string => {
  const flags = command.flags.flatMap(flagWords);
  const values = command.flags.flatMap((flag) => (flag.value ? flagWords(flag).map((word) => [word, flag.value!] as const) : []));
  return [
    `    ${command.name})`,
    `      flags='${flags.join(' ')}'`,
    `      values='${table(values)}'`,
    `      subcommands='${command.subcommands.join(' ')}'`,
    `      arguments='${table(Object.entries(command.arguments))}' ;;`,
  ].join('\n');
};

export const specFunction = (commands: readonly CommandSpec[]): string =>
  ['_casfleet_spec() {', '  case $1 in', ...commands.map(commandCase), '    *) return 1 ;;', '  esac', '}'].join('\n');

/** The command names, as the first word's candidates. */
export const commandWords = (commands: readonly CommandSpec[]): string => [...commands.map((command) => command.name), '--help', '--version'].join(' ');
