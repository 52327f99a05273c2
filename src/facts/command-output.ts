// The raw output of one read-only diagnostic command (`iptables-save`, `ufw status verbose`, …),
// for the support bundle, which forwards what the host printed rather than casfleet's reading of
// it. The output travels as base64 so nothing it prints can break the gather framing.
import { FactError } from '../errors.ts';
import type { Fact } from './fact.ts';
import { factLines, splitWord } from './fact-output.ts';

export interface CommandOutput {
  /** The program exists on the host. */
  readonly present: boolean;
  /** Exit status (124: timed out); null when the program is missing. */
  readonly exitCode: number | null;
  /** stdout and stderr as printed (UTF-8), '' when missing. */
  readonly output: string;
}

export const COMMAND_TIMEOUT_S = 30;

/** A fact printing `command`'s output when `program` is installed; `command` is trusted shell text. */
export const commandOutputFact = (id: string, program: string, command: string): Fact<CommandOutput> => {
  const factId = `command:${id}`;
  const script = `(
PATH="$PATH:/usr/sbin:/sbin"
if command -v ${program} >/dev/null 2>&1; then
  echo 'present yes'
  out=$(exec timeout ${COMMAND_TIMEOUT_S} ${command} 2>&1 </dev/null); echo "exit $?"
  echo content
  printf '%s\\n' "$out" | base64
else
  echo 'present no'
fi
echo end
)`;
  const parse = (output: string): CommandOutput => {
    const [first = '', second = '', marker, ...body] = factLines(factId, output);
    if (first === 'present no' && second === '') return { present: false, exitCode: null, output: '' };
    const [word, code] = splitWord(second);
    if (first !== 'present yes' || word !== 'exit' || !/^\d+$/.test(code) || marker !== 'content') {
      throw new FactError(`${factId}: unexpected output "${[first, second, marker].join(' | ')}"`);
    }
    const base64 = body.join('');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new FactError(`${factId}: output is not base64`);
    return { present: true, exitCode: Number(code), output: Buffer.from(base64, 'base64').toString('utf8') };
  };
  return { id: factId, script, parse };
};
