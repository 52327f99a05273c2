// CAS service status from `/batm/batm-manage info`.
//
// GB documents only WHAT `info` shows (Master, Admin and Gate running or stopped, plus an "Admin IP"
// such as 10.3.2.2:7777), not its exact text or exit codes [I] (research/cas-domain.md §4). So the
// parser is deliberately loose: any output line naming a service and a state word counts
// ("Gate: running", "gate service is RUNNING", "Master ... stopped"), case-insensitively; "not
// running", "inactive" and "dead" count as stopped. A service the output does not mention is simply
// absent from `services`, and the raw lines are kept so a failed check can show what was printed.
// `info` may start a JVM; the script bounds it with `timeout` so a hung CAS cannot hang the fact.
import { FactError } from '../errors.ts';
import type { Fact } from './fact.ts';
import { factLines, splitWord } from './fact-output.ts';

export type BatmServiceState = 'running' | 'stopped';

export interface BatmInfo {
  /** /batm/batm-manage exists and is executable. */
  readonly present: boolean;
  /** Exit status of `batm-manage info` (124 = timed out); null when not present. */
  readonly exitCode: number | null;
  /** Lower-case service name (master, admin, gate) → state, for the services the output mentions. */
  readonly services: Readonly<Record<string, BatmServiceState>>;
  /** "Admin IP" from the output, e.g. `10.3.2.2:7777`, when shown. */
  readonly adminIp?: string;
  /** The output of `info`, line by line (stdout and stderr). */
  readonly output: readonly string[];
}

export const BATM_MANAGE = '/batm/batm-manage';
const FACT_ID = 'batm.info';
export const BATM_INFO_TIMEOUT_S = 60;

// Output lines of `info` are prefixed with "| " so nothing it prints can look like our framing.
const SCRIPT = `(
m=${BATM_MANAGE}
if [ -x "$m" ]; then
  echo 'batm-manage yes'
  out=$(exec timeout ${BATM_INFO_TIMEOUT_S} "$m" info 2>&1 </dev/null); rc=$?
  echo "exit $rc"
  while IFS= read -r line; do printf '| %s\\n' "$line"; done <<EOF_BATM_INFO
$out
EOF_BATM_INFO
else
  echo 'batm-manage no'
fi
echo end
)`;

const SERVICE_LINE = /\b(master|admin|gate)\b.*?\b(not running|running|stopped|inactive|dead|started)\b/i;
const ADMIN_IP = /admin\s+ip\s*[:=]?\s*([0-9a-fA-F.:[\]]+)/i;

/** Parses the output of the batm fact script. */
export const parseBatmInfo = (output: string): BatmInfo => {
  const lines = factLines(FACT_ID, output);
  const [first = ''] = lines;
  if (first === 'batm-manage no') {
    if (lines.length !== 1) throw new FactError(`${FACT_ID}: unexpected output after "batm-manage no"`);
    return { present: false, exitCode: null, services: {}, output: [] };
  }
  if (first !== 'batm-manage yes') throw new FactError(`${FACT_ID}: expected "batm-manage yes|no", got "${first}"`);
  const [word, code] = splitWord(lines[1] ?? '');
  if (word !== 'exit' || !/^\d+$/.test(code)) throw new FactError(`${FACT_ID}: expected "exit <status>", got "${lines[1] ?? ''}"`);
  const text: string[] = [];
  for (const line of lines.slice(2)) {
    if (line !== '|' && !line.startsWith('| ')) throw new FactError(`${FACT_ID}: unexpected line "${line}"`);
    text.push(line.slice(2));
  }
  while (text.length > 0 && text[text.length - 1] === '') text.pop();
  const services: Record<string, BatmServiceState> = {};
  let adminIp: string | undefined;
  for (const line of text) {
    const ip = ADMIN_IP.exec(line);
    if (ip?.[1]) adminIp ??= ip[1];
    const service = SERVICE_LINE.exec(line);
    if (service && !ip) {
      const state = (service[2] ?? '').toLowerCase();
      services[(service[1] ?? '').toLowerCase()] = state === 'running' || state === 'started' ? 'running' : 'stopped';
    }
  }
  return { present: true, exitCode: Number(code), services, ...(adminIp ? { adminIp } : {}), output: text };
};

const PRESENT_ID = 'batm.present';

// Builtins only, inline: what a handler's preflight needs on every run, at no process's cost.
const PRESENT_SCRIPT = `if [ -x ${BATM_MANAGE} ]; then echo 'batm-manage yes'; else echo 'batm-manage no'; fi
echo end`;

/** Parses the output of the presence script: whether /batm/batm-manage is there and executable. */
export const parseBatmPresent = (output: string): boolean => {
  const lines = factLines(PRESENT_ID, output);
  if (lines.length === 1 && lines[0] === 'batm-manage yes') return true;
  if (lines.length === 1 && lines[0] === 'batm-manage no') return false;
  throw new FactError(`${PRESENT_ID}: expected "batm-manage yes|no", got "${lines.join(' | ')}"`);
};

/** Whether /batm/batm-manage exists and is executable, without running it. */
export const batmManagePresent: Fact<boolean> = { id: PRESENT_ID, script: PRESENT_SCRIPT, inline: true, parse: parseBatmPresent };

/** Presence of /batm/batm-manage and the service states `batm-manage info` reports. */
export const batmInfo: Fact<BatmInfo> = { id: FACT_ID, script: SCRIPT, parse: parseBatmInfo };
