// `casfleet completion fish`: fish's declarative completions, one line per command and flag; the
// same dynamic candidates as bash and zsh, from `casfleet __complete <kind>`.

import { type CommandSpec, flagWords, type ValueKind } from './command-spec.ts';

// How fish offers a value of each kind: files, directories, or words from casfleet.
const FISH_VALUES: Readonly<Record<ValueKind, string>> = {
  file: '-r -F',
  directory: "-x -a '(__fish_complete_directories)'",
  playbook: "-x -a '(__casfleet_playbooks)'",
  hosts: "-x -a '(__fish_complete_list , __casfleet_hosts)'",
  lab: "-x -a '(__casfleet_dynamic lab)'",
  run: "-x -a '(__casfleet_dynamic run)'",
  text: '-x',
};

const quote = (text: string): string => `'${text}'`;

// The condition of a completion line: on COMMAND's line (and where its SUBCOMMAND, or with '' its
// first argument, is due).
const at = (...words: string[]): string => `-n "__casfleet_at ${words.join(' ')}"`;

const commandLines = (command: CommandSpec): string[] => {
  const lines = command.flags.map((flag) =>
    [
      `complete -c casfleet ${at(command.name)} -l ${flag.long}`,
      ...(flag.short ? [`-s ${flag.short}`] : []),
      ...(flag.value ? [FISH_VALUES[flag.value]] : []),
    ].join(' '),
  );
  if (command.subcommands.length > 0) {
    lines.push(`complete -c casfleet ${at(command.name, "''")} -a ${quote(command.subcommands.join(' '))}`);
  }
  for (const [subcommand, kind] of Object.entries(command.arguments)) {
    lines.push(`complete -c casfleet ${at(command.name, subcommand || "''")} ${FISH_VALUES[kind]}`);
  }
  return lines;
};

const valuedCase = (command: CommandSpec): string => {
  const words = command.flags.filter((flag) => flag.value).flatMap(flagWords);
  return `        case ${command.name}\n            string split ' ' -- ${quote(words.join(' '))}`;
};

export const fishCompletion = (
  commands: readonly CommandSpec[],
  version: string,
): string => `# casfleet ${version} completion for fish (from \`casfleet completion fish\`). Load it with
#   casfleet completion fish | source                                    # this shell
#   casfleet completion fish > ~/.config/fish/completions/casfleet.fish  # every new shell

# The flags of a command that take a value.
function __casfleet_valued
    switch $argv[1]
${commands.map(valuedCase).join('\n')}
    end
end

# The arguments on the command line so far: flags and the values they take left out.
function __casfleet_arguments
    set -l tokens (commandline -opc)
    set -l valued (__casfleet_valued $tokens[2])
    set -l skip 0
    for token in $tokens[3..-1]
        if test $skip = 1
            set skip 0
        else if string match -q -- '-*' $token
            contains -- $token $valued; and set skip 1
        else
            echo $token
        end
    end
end

# True on the command line of COMMAND; with SUBCOMMAND '' while its first argument is due, with a
# subcommand while the argument after it is due.
function __casfleet_at --argument-names command subcommand
    set -l tokens (commandline -opc)
    test (count $tokens) -ge 2 -a "$tokens[2]" = "$command"; or return 1
    test (count $argv) -ge 2; or return 0
    set -l arguments (__casfleet_arguments)
    if test -z "$subcommand"
        test (count $arguments) -eq 0
    else
        test (count $arguments) -eq 1 -a "$arguments[1]" = "$subcommand"
    end
end

# Candidates only casfleet knows, for the inventory or lab named on the command line.
function __casfleet_dynamic --argument-names kind
    set -l tokens (commandline -opc)
    set -l context
    for i in (seq 3 (math (count $tokens) - 1))
        switch $tokens[$i]
            case -i --inventory
                set -a context --inventory (string replace -r '^~' $HOME -- $tokens[(math $i + 1)])
            case --name
                set -a context --name $tokens[(math $i + 1)]
        end
    end
    $tokens[1] __complete $kind $context 2>/dev/null
end

function __casfleet_hosts
    __casfleet_dynamic hosts
end

# Playbook names, and files once a path is being typed.
function __casfleet_playbooks
    __casfleet_dynamic playbook
    set -l token (commandline -ct)
    string match -q -- '*/*' $token; and __fish_complete_path $token
end

complete -c casfleet -f
complete -c casfleet -n 'test (count (commandline -opc)) -eq 1' -a ${quote(commands.map((command) => command.name).join(' '))}
complete -c casfleet -n 'test (count (commandline -opc)) -eq 1' -l help -l version
${commands.flatMap(commandLines).join('\n')}
`;
