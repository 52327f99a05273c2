// casfleet completion bash|zsh|fish: print a shell completion script. Its commands and flags come
// from the command registry (main.ts) and each command's own option table, so whatever is added
// there is completed; playbooks, hosts, labs and runs are asked at Tab time (casfleet __complete).

import { bashCompletion } from '../completion/bash-completion.ts';
import { type CommandSpec, commandSpec } from '../completion/command-spec.ts';
import { fishCompletion } from '../completion/fish-completion.ts';
import { zshCompletion } from '../completion/zsh-completion.ts';
import { UsageError } from '../errors.ts';
import { packageInfo } from '../package-info.ts';
import { EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import { COMMANDS, isHiddenCommand } from './main.ts';
import { describeCommandLine, parseCommandLine } from './parse-options.ts';

export const COMPLETION_HELP = `Usage: casfleet completion <bash|zsh|fish>

Print a completion script for the shell: commands, flags, built-in playbooks and those in
./playbooks, and the host and group names of the inventory given with -i (else of the lab).

Examples:
  source <(casfleet completion bash)                                   # bash, this shell
  casfleet completion bash > /etc/bash_completion.d/casfleet           # bash, every new shell
  casfleet completion zsh > "\${fpath[1]}/_casfleet"                    # zsh (or source it after compinit)
  casfleet completion fish > ~/.config/fish/completions/casfleet.fish  # fish
`;

const SHELLS = {
  bash: bashCompletion,
  zsh: zshCompletion,
  fish: fishCompletion,
} as const satisfies Record<string, (commands: readonly CommandSpec[], version: string) => string>;

const isShell = (name: string): name is keyof typeof SHELLS => Object.hasOwn(SHELLS, name);

/** Every command of the registry but the hidden ones, described from its own option table. */
export const completionSpecs = async (): Promise<CommandSpec[]> => {
  const specs: CommandSpec[] = [];
  for (const [name, load] of Object.entries(COMMANDS)) {
    if (!isHiddenCommand(name)) specs.push(commandSpec(name, await describeCommandLine(await load())));
  }
  return specs;
};

export const completionCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(
    argv,
    { help: { type: 'boolean', short: 'h' } } as const,
    'completion',
    Object.keys(SHELLS),
  );
  const [shell, ...rest] = positionals;
  if (values.help || !shell) {
    process.stdout.write(COMPLETION_HELP);
    return values.help ? EXIT_OK : EXIT_USAGE;
  }
  if (!isShell(shell)) throw new UsageError(`no completion for '${shell}'; shells: ${Object.keys(SHELLS).join(', ')}`);
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest.join(' ')}`);
  process.stdout.write(SHELLS[shell](await completionSpecs(), packageInfo().version));
  return EXIT_OK;
};
