// `casfleet completion bash`: a completion function for bash 4+. Commands and flags are written into
// the script; playbooks, hosts, labs and runs are asked from casfleet itself when Tab is pressed
// (`casfleet __complete <kind>`), with the inventory (-i) or lab (--name) already on the line.

import type { CommandSpec } from './command-spec.ts';
import { ASK_FUNCTION, commandWords, KIND_FUNCTION, specFunction } from './shell-functions.ts';

export const bashCompletion = (
  commands: readonly CommandSpec[],
  version: string,
): string => `# casfleet ${version} completion for bash (from \`casfleet completion bash\`). Load it with
#   source <(casfleet completion bash)                            # this shell
#   casfleet completion bash > /etc/bash_completion.d/casfleet     # every new shell
${specFunction(commands)}

${KIND_FUNCTION}

${ASK_FUNCTION}

_casfleet_dynamic() {
  _casfleet_ask "$1" "\${COMP_WORDS[0]}" "\${COMP_WORDS[@]:2:COMP_CWORD-2}"
}

_casfleet_words() {
  mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

_casfleet_files() {
  compopt -o filenames 2>/dev/null
  mapfile -t COMPREPLY < <(compgen "$1" -- "$2")
}

_casfleet() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  COMPREPLY=()
  if ((COMP_CWORD == 1)); then
    _casfleet_words '${commandWords(commands)}' "$cur"
    return
  fi
  local flags='' values='' subcommands='' arguments='' kind=''
  _casfleet_spec "\${COMP_WORDS[1]}" || return
  _casfleet_kind "$cur" "\${COMP_WORDS[@]:2:COMP_CWORD-2}"
  case $kind in
    flag) _casfleet_words "$flags" "$cur" ;;
    subcommand) _casfleet_words "$subcommands" "$cur" ;;
    file) _casfleet_files -f "$cur" ;;
    directory) _casfleet_files -d "$cur" ;;
    playbook)
      if [[ $cur == */* ]]; then
        _casfleet_files -f "$cur"
      else
        _casfleet_words "$(_casfleet_dynamic playbook)" "$cur"
      fi ;;
    hosts)
      # A pattern may list several: complete the part after the last comma.
      local head=''
      if [[ $cur == *,* ]]; then head=\${cur%,*},; fi
      mapfile -t COMPREPLY < <(compgen -P "$head" -W "$(_casfleet_dynamic hosts)" -- "\${cur##*,}") ;;
    lab|run) _casfleet_words "$(_casfleet_dynamic "$kind")" "$cur" ;;
  esac
}

complete -F _casfleet casfleet
`;
