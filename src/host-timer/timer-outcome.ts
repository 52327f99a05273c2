// What a disarm or fire-now printed (see timer-commands.ts), parsed: who won the timer's claim and,
// when its script ran, the exit status, times and log. Pure, so the protocol is tested without a host.
import { FactError } from '../errors.ts';
import { factLines, splitWord } from '../facts/fact-output.ts';

/** disarmed: will never fire · fired: the script ran (result attached) · firing: still running · absent: no such timer. */
export type TimerOutcomeState = 'disarmed' | 'fired' | 'firing' | 'absent';

/** A fired timer's script: its exit status, when it ran (epoch seconds) and what it printed. */
export interface TimerRunResult {
  readonly exitCode: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly log: readonly string[];
}

export interface TimerOutcome {
  readonly id: string;
  readonly state: TimerOutcomeState;
  readonly result?: TimerRunResult;
}

const STATES: readonly TimerOutcomeState[] = ['disarmed', 'fired', 'firing', 'absent'];

/** Reads `exit N`, `started N`, `ended N` and `| log` lines (the lines after a timer's state). */
export const parseRunResult = (where: string, lines: readonly string[]): TimerRunResult => {
  const numbers = new Map<string, number>();
  const log: string[] = [];
  for (const line of lines) {
    if (line === '|' || line.startsWith('| ')) {
      log.push(line.slice(2));
      continue;
    }
    const [word, value] = splitWord(line);
    if (!['exit', 'started', 'ended'].includes(word) || !/^\d+$/.test(value)) throw new FactError(`${where}: unexpected line "${line}"`);
    numbers.set(word, Number(value));
  }
  const number = (key: string): number => {
    const value = numbers.get(key);
    if (value === undefined) throw new FactError(`${where}: no "${key}" line in the timer's result`);
    return value;
  };
  return { exitCode: number('exit'), startedAt: number('started'), endedAt: number('ended'), log };
};

export const parseTimerOutcome = (output: string): TimerOutcome => {
  const where = 'timer outcome';
  const [head = '', ...rest] = factLines(where, output);
  const match = /^timer (\S+) (\S+)$/.exec(head);
  const state = match?.[2] as TimerOutcomeState | undefined;
  if (!match || !state || !STATES.includes(state))
    throw new FactError(`${where}: expected "timer <id> ${STATES.join('|')}", got "${head}"`);
  const id = match[1] ?? '';
  if (state !== 'fired') {
    if (rest.length > 0) throw new FactError(`${where}: unexpected output after "${head}"`);
    return { id, state };
  }
  return { id, state, result: parseRunResult(where, rest) };
};
