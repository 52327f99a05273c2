// The timers on a host (see timer-commands.ts), as a fact: each with its due time, mechanism and
// state. `lost` is an armed timer whose process or systemd unit is gone (the host rebooted, someone
// killed it): it will never fire, which matters to whoever relies on it.
import { FactError } from '../errors.ts';
import type { Fact } from '../facts/fact.ts';
import { factLines, splitWord } from '../facts/fact-output.ts';
import { TIMER_DIR_CHECK_RETURN, TIMER_PROCESS_TAG, TIMER_SLEEPER_FUNCTION } from './timer-commands.ts';
import { parseRunResult, type TimerRunResult } from './timer-outcome.ts';

export type HostTimerMechanism = 'systemd' | 'process';
export type HostTimerState = 'armed' | 'lost' | 'firing' | 'fired' | 'disarming';

export interface HostTimer {
  readonly id: string;
  /** Epoch seconds (the host's clock). */
  readonly due: number;
  readonly armedAt: number;
  readonly mechanism: HostTimerMechanism;
  readonly state: HostTimerState;
  /** Set once a fired timer's script has ended. */
  readonly result?: TimerRunResult;
}

const FACT_ID = 'host.timers';

// Record lines are indented under their `timer <id>` line; result and log lines as the fire script
// wrote them (a last line without its newline gets one). This runs in the facts of every apply and
// again after its changes (the transaction's own timer is there), so the files are read with the
// shell's own `read`, not sed/cat: an armed timer costs one process, the check that its sleeper
// (process mechanism; none when its PID is gone) or its units (systemd) still run; a claimed one
// one more (readlink). A function, not a subshell, so that no gathering forks for it: a refused
// directory returns 3 (the fact's exit status) where a subshell exited; its variables stay set in
// the gathering shell, where every other fact sets its own before use.
// A sleeper is alive while timer_sleeper says so (the disarm's own test).
// A second `mechanism` line makes the mechanism unknown (no liveness check), as sed printing both did.
const SCRIPT = `casfleet_timers() {
${TIMER_DIR_CHECK_RETURN}
${TIMER_SLEEPER_FUNCTION}
timer_lines() { while IFS= read -r line || [ -n "$line" ]; do printf '%s%s\\n' "$1" "$line"; done <"$2"; }
if [ -d "$d" ]; then
  for f in "$d"/*.due; do
    [ -f "$f" ] || continue
    id=\${f##*/}; id=\${id%.due}
    echo "timer $id"
    mechanism=
    while IFS= read -r line || [ -n "$line" ]; do
      printf '  %s\\n' "$line"
      case $line in 'mechanism '*) mechanism=\${mechanism:+several}\${line#mechanism } ;; esac
    done <"$f"
    claim=none
    if [ -L "$d/$id.claim" ]; then claim=$(exec readlink "$d/$id.claim" 2>/dev/null) || claim=none; fi
    echo "  claim $claim"
    alive=no
    case $mechanism in
      systemd) systemctl is-active --quiet "${TIMER_PROCESS_TAG}-$id.timer" "${TIMER_PROCESS_TAG}-$id.service" 2>/dev/null && alive=yes ;;
      process)
        pid=
        read -r pid 2>/dev/null <"$d/$id.pid" || :
        case $pid in ''|*[!0-9]*) ;; *) if timer_sleeper "$pid" "$id"; then alive=yes; fi ;; esac ;;
    esac
    echo "  alive $alive"
    if [ -f "$d/$id.result" ]; then
      timer_lines '  ' "$d/$id.result"
      if [ -f "$d/$id.log" ]; then timer_lines '  | ' "$d/$id.log"; fi
    fi
  done
fi
echo end
}
casfleet_timers`;

interface TimerRecord {
  id: string;
  fields: Map<string, string>;
  resultLines: string[];
}

const stateOf = (claim: string, alive: boolean, hasResult: boolean): HostTimerState => {
  if (claim === 'fire') return hasResult ? 'fired' : 'firing';
  if (claim === 'disarm') return 'disarming';
  return alive ? 'armed' : 'lost';
};

const toTimer = ({ id, fields, resultLines }: TimerRecord): HostTimer => {
  const number = (key: string): number => {
    const value = fields.get(key) ?? '';
    if (!/^\d+$/.test(value)) throw new FactError(`${FACT_ID}: timer ${id}: expected "${key} <epoch seconds>", got "${value}"`);
    return Number(value);
  };
  const mechanism = fields.get('mechanism');
  if (mechanism !== 'systemd' && mechanism !== 'process')
    throw new FactError(`${FACT_ID}: timer ${id}: unknown mechanism "${mechanism ?? ''}"`);
  const claim = fields.get('claim') ?? 'none';
  const hasResult = resultLines.length > 0;
  return {
    id,
    due: number('due'),
    armedAt: number('armed'),
    mechanism,
    state: stateOf(claim, fields.get('alive') === 'yes', hasResult),
    ...(hasResult ? { result: parseRunResult(`${FACT_ID}: timer ${id}`, resultLines) } : {}),
  };
};

export const parseHostTimers = (output: string): readonly HostTimer[] => {
  const records: TimerRecord[] = [];
  for (const line of factLines(FACT_ID, output)) {
    if (line.startsWith('timer ')) {
      records.push({ id: line.slice('timer '.length), fields: new Map(), resultLines: [] });
      continue;
    }
    const current = records[records.length - 1];
    if (!current || !line.startsWith('  ')) throw new FactError(`${FACT_ID}: unexpected line "${line}"`);
    const text = line.slice(2);
    const [word, value] = splitWord(text);
    if (text.startsWith('|') || ['exit', 'started', 'ended'].includes(word)) current.resultLines.push(text);
    else current.fields.set(word, value);
  }
  return records.map(toTimer);
};

/** casfleet's timers on the host, in id order. */
// Inline: the script is a subshell of its own already (its directory check exits), so the gather's
// usual subshell around it would only cost one more fork.
export const hostTimers: Fact<readonly HostTimer[]> = { id: FACT_ID, script: SCRIPT, inline: true, parse: parseHostTimers };
