// `casfleet completion zsh`: the same completion as bash's, as a zsh completion function (works
// sourced after compinit, or saved as _casfleet in a folder of $fpath).

import type { CommandSpec } from './command-spec.ts';
import { ASK_FUNCTION, commandWords, KIND_FUNCTION, specFunction } from './shell-functions.ts';

export const zshCompletion = (commands: readonly CommandSpec[], version: string): string => `#compdef casfleet
# casfleet ${version} completion for zsh (from \`casfleet completion zsh\`). Load it with
#   source <(casfleet completion zsh)                              # this shell, after compinit
#   casfleet completion zsh > "\${fpath[1]}/_casfleet"              # every new shell
${specFunction(commands)}

${KIND_FUNCTION}

${ASK_FUNCTION}

_casfleet_dynamic() {
  _casfleet_ask "$1" "$words[1]" "\${(@)words[3,CURRENT-1]}"
}

_casfleet() {
  local cur=$words[CURRENT]
  if ((CURRENT == 2)); then
    compadd -- ${commandWords(commands)}
    return
  fi
  local flags='' values='' subcommands='' arguments='' kind=''
  _casfleet_spec "$words[2]" || return
  _casfleet_kind "$cur" "\${(@)words[3,CURRENT-1]}"
  case $kind in
    flag) compadd -- \${=flags} ;;
    subcommand) compadd -- \${=subcommands} ;;
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
