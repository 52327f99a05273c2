// `casfleet completion bash`: a completion function for bash 4+. Commands and flags are written into
// the script; playbooks, hosts, labs and runs are asked from casfleet itself when Tab is pressed
// (`casfleet __complete <kind>`), with the inventory (-i) or lab (--name) already on the line.

import type { CommandSpec } from './command-spec.ts';
import { commandWords, specFunction } from './spec-function.ts';

export const bashCompletion = (commands: readonly CommandSpec[], version: string): string => `# casfleet ${version} completion for bash (from \`casfleet completion bash\`). Load it with
#   source <(casfleet completion bash)                            # this shell
#   casfleet completion bash > /etc/bash_completion.d/casfleet     # every new shell
${specFunction(commands)}

# Candidates only casfleet knows, for the inventory or lab named on the command line.
_casfleet_dynamic() {
  local i context=()
  for ((i = 2; i < COMP_CWORD - 1; i++)); do
    case \${COMP_WORDS[i]} in
      -i|--inventory) context+=(--inventory "\${COMP_WORDS[i+1]/#\\~/$HOME}") ;;
      --name) context+=(--name "\${COMP_WORDS[i+1]}") ;;
    esac
  done
  "\${COMP_WORDS[0]}" __complete "$1" "\${context[@]}" 2>/dev/null
}

_casfleet_words() {
  mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

_casfleet() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  COMPREPLY=()
  if ((COMP_CWORD == 1)); then
    _casfleet_words '${commandWords(commands)}' "$cur"
    return
  fi
  local flags='' values='' subcommands='' arguments='' kind='' subcommand='' position=0 i word
  _casfleet_spec "\${COMP_WORDS[1]}" || return
  if [[ $prev == -* && $values == *"|$prev="* ]]; then
    kind=\${values#*"|$prev="}
    kind=\${kind%%|*}
  elif [[ $cur == -* ]]; then
    _casfleet_words "$flags" "$cur"
    return
  else
    # Which argument the cursor is on: flags and the values they take do not count.
    for ((i = 2; i < COMP_CWORD; i++)); do
      word=\${COMP_WORDS[i]}
      if [[ $word == -* ]]; then
        if [[ $values == *"|$word="* ]]; then ((i++)); fi
      else
        ((position++))
        if ((position == 1)); then subcommand=$word; fi
      fi
    done
    if [[ -n $subcommands ]]; then
      if ((position == 0)); then
        _casfleet_words "$subcommands" "$cur"
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
    file)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    directory)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    playbook)
      if [[ $cur == */* ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      else
        _casfleet_words "$(_casfleet_dynamic playbook)" "$cur"
      fi ;;
    hosts)
      # A pattern may list several: complete the part after the last comma.
      local head=''
      if [[ $cur == *,* ]]; then head=\${cur%,*},; fi
      mapfile -t COMPREPLY < <(compgen -P "$head" -W "$(_casfleet_dynamic hosts)" -- "\${cur##*,}") ;;
    lab|run)
      _casfleet_words "$(_casfleet_dynamic "$kind")" "$cur" ;;
  esac
}

complete -F _casfleet casfleet
`;
