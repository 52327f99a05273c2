// `casfleet completion zsh`: the same completion as bash's, as a zsh completion function (works
// sourced after compinit, or saved as _casfleet in a folder of $fpath).

import type { CommandSpec } from './command-spec.ts';
import { commandWords, specFunction } from './spec-function.ts';

export const zshCompletion = (commands: readonly CommandSpec[], version: string): string => `#compdef casfleet
# casfleet ${version} completion for zsh (from \`casfleet completion zsh\`). Load it with
#   source <(casfleet completion zsh)                              # this shell, after compinit
#   casfleet completion zsh > "\${fpath[1]}/_casfleet"              # every new shell
${specFunction(commands)}

# Candidates only casfleet knows, for the inventory or lab named on the command line.
_casfleet_dynamic() {
  local i
  local -a context
  for ((i = 3; i < CURRENT - 1; i++)); do
    case $words[i] in
      -i|--inventory) context+=(--inventory "\${words[i+1]/#\\~/$HOME}") ;;
      --name) context+=(--name "$words[i+1]") ;;
    esac
  done
  "$words[1]" __complete "$1" "\${context[@]}" 2>/dev/null
}

_casfleet() {
  local cur=$words[CURRENT] prev=$words[CURRENT-1]
  if ((CURRENT == 2)); then
    compadd -- ${commandWords(commands)}
    return
  fi
  local flags='' values='' subcommands='' arguments='' kind='' subcommand='' position=0 i word
  _casfleet_spec "$words[2]" || return
  if [[ $prev == -* && $values == *"|$prev="* ]]; then
    kind=\${values#*"|$prev="}
    kind=\${kind%%|*}
  elif [[ $cur == -* ]]; then
    compadd -- \${=flags}
    return
  else
    # Which argument the cursor is on: flags and the values they take do not count.
    for ((i = 3; i < CURRENT; i++)); do
      word=$words[i]
      if [[ $word == -* ]]; then
        if [[ $values == *"|$word="* ]]; then ((i++)); fi
      else
        ((position++))
        if ((position == 1)); then subcommand=$word; fi
      fi
    done
    if [[ -n $subcommands ]]; then
      if ((position == 0)); then
        compadd -- \${=subcommands}
        return
      fi
      ((position--))
    else
      subcommand=''
    fi
    if ((position == 0)) && [[ $arguments == *"|$subcommand="* ]]; then
      kind=\${arguments#*"|$subcommand="}
      kind=\${kind%%|*}
    fi
  fi
  case $kind in
    file) _files ;;
    directory) _files -/ ;;
    playbook)
      if [[ $cur == */* ]]; then
        _files
      else
        compadd -- \${(f)"$(_casfleet_dynamic playbook)"}
      fi ;;
    hosts)
      # A pattern may list several: complete the part after the last comma.
      compset -P '*,'
      compadd -- \${(f)"$(_casfleet_dynamic hosts)"} ;;
    lab|run) compadd -- \${(f)"$(_casfleet_dynamic $kind)"} ;;
  esac
}

if [[ $funcstack[1] == _casfleet ]]; then
  _casfleet "$@"
else
  compdef _casfleet casfleet
fi
`;
