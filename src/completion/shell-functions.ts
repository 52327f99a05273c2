// What the bash and zsh scripts share, as shell functions both shells run: the per-command data
// and the reading of the command line that decides what the word at the cursor is.

import { type CommandSpec, flagWords } from './command-spec.ts';

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

/**
 * `_casfleet_spec COMMAND` sets `flags` (every flag word), `values` (|flag=kind| for the flags that
 * take a value), `subcommands` and `arguments` (|subcommand=kind|, '' for a command without).
 */
export const specFunction = (commands: readonly CommandSpec[]): string =>
  ['_casfleet_spec() {', '  case $1 in', ...commands.map(commandCase), '    *) return 1 ;;', '  esac', '}'].join('\n');

/**
 * `_casfleet_kind CURRENT WORDS…` (WORDS: those between the command and the cursor) sets `kind` to
 * what the word at the cursor is: the kind of the value a flag before it takes, `flag`,
 * `subcommand`, the kind of the command's argument, or '' when nothing is due there.
 */
export const KIND_FUNCTION = `_casfleet_kind() {
  local cur=$1 word prev='' skip=0 position=0 subcommand=''
  shift
  # Flags and the values they take are not arguments.
  for word; do
    if ((skip)); then
      skip=0
    elif [[ $word == -* ]]; then
      if [[ $values == *"|$word="* ]]; then skip=1; fi
    else
      position=$((position + 1))
      if ((position == 1)); then subcommand=$word; fi
    fi
    prev=$word
  done
  kind=''
  if ((skip)); then
    kind=\${values#*"|$prev="}
    kind=\${kind%%|*}
  elif [[ $cur == -* ]]; then
    kind=flag
  else
    if [[ -n $subcommands ]]; then
      if ((position == 0)); then
        kind=subcommand
        return
      fi
      position=$((position - 1))
    else
      subcommand=''
    fi
    if ((position == 0)) && [[ $arguments == *"|$subcommand="* ]]; then
      kind=\${arguments#*"|$subcommand="}
      kind=\${kind%%|*}
    fi
  fi
}`;

/**
 * `_casfleet_ask KIND CASFLEET WORDS…` prints the candidates only casfleet knows (`casfleet __complete
 * KIND`), for the inventory (-i) or lab (--name) given among WORDS.
 */
export const ASK_FUNCTION = `_casfleet_ask() {
  local kind=$1 casfleet=$2 word previous=''
  local -a context
  shift 2
  for word; do
    case $previous in
      -i|--inventory) context+=(--inventory "\${word/#\\~/$HOME}") ;;
      --name) context+=(--name "$word") ;;
    esac
    previous=$word
  done
  "$casfleet" __complete "$kind" "\${context[@]}" 2>/dev/null
}`;

/** The command names, as the first word's candidates. */
export const commandWords = (commands: readonly CommandSpec[]): string =>
  [...commands.map((command) => command.name), '--help', '--version'].join(' ');
