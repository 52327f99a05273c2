// What `casfleet pair` prints: one line per host (opened until T, closed, nothing to open, failed:
// why), or with --json one object per host. Built from the run's event stream, so pair reports
// exactly what the runner did; the pairing step's state (when the window closes) comes as data.
import { formatDuration } from '../rollout/duration.ts';
import type { StepState } from '../steps/step.ts';
import { type ErrorInfo, errorInfo } from './error-info.ts';
import type { RunEvent } from './events.ts';
import type { Style } from './format-event.ts';

export type PairingAction = 'open' | 'close' | 'status';

export type PairingOutcome = 'opened' | 'closed' | 'unchanged' | 'failed' | 'unreachable';

export interface PairingResult {
  readonly host: string;
  readonly outcome: PairingOutcome;
  /** The host's window as read after the run (absent when it could not be read). */
  readonly state?: StepState;
  /** Why nothing changed (the planner's words), or why the host failed. */
  readonly reason?: string;
  readonly error?: ErrorInfo;
  readonly changes: readonly string[];
}

interface Collected {
  unreachable?: ErrorInfo;
  failure?: ErrorInfo;
  step?: Extract<RunEvent, { type: 'step' }>;
}

/** Collects each host's result from the events of a run of the pairing step named `step`. */
export const createPairingCollector = (step: string) => {
  const byHost = new Map<string, Collected>();
  const entry = (host: string): Collected => byHost.get(host) ?? byHost.set(host, {}).get(host)!;
  return {
    emit(event: RunEvent): void {
      if (event.type === 'unreachable') entry(event.host).unreachable = event.error;
      if (event.type !== 'step') return;
      const collected = entry(event.host);
      if (event.status === 'failed')
        collected.failure ??= event.error ?? errorInfo('internal', `${event.step} failed without an error message`);
      if (event.step === step) collected.step = event;
    },
    /** Results in the order given (the inventory's). */
    results(hosts: readonly string[]): PairingResult[] {
      return hosts.map((host) => resultOf(host, byHost.get(host) ?? {}));
    },
  };
};

const resultOf = (host: string, { unreachable, failure, step }: Collected): PairingResult => {
  const base = { host, changes: step?.changes ?? [], ...(step?.state ? { state: step.state } : {}) };
  if (unreachable !== undefined) return { ...base, outcome: 'unreachable', error: unreachable };
  if (failure !== undefined || !step)
    return { ...base, outcome: 'failed', error: failure ?? errorInfo('internal', 'the pairing step did not run') };
  if (step.status === 'changed') return { ...base, outcome: step.state?.window === 'open' ? 'opened' : 'closed' };
  return { ...base, outcome: 'unchanged', ...(step.reason ? { reason: step.reason } : {}) };
};

const closesAt = (state: StepState | undefined): string => {
  const until = state?.until;
  const left = state?.remainingSeconds;
  if (typeof until !== 'string') return '';
  return ` until ${until}${typeof left === 'number' ? ` (${formatDuration(left * 1000)} left)` : ''}`;
};

/** The words after the host name. */
export const describePairing = (result: PairingResult): string => {
  switch (result.outcome) {
    case 'opened':
      return `opened${closesAt(result.state)}`;
    case 'closed':
      return 'closed';
    case 'unchanged':
      return result.reason ?? 'nothing to do';
    case 'failed':
      return `failed: ${result.error?.message ?? 'unknown error'}`;
    case 'unreachable':
      return `unreachable: ${result.error?.message ?? 'unknown error'}`;
  }
};

// --status counts windows (open, closed, scenario-b); opening and closing count what they did.
const countedAs = (action: PairingAction, result: PairingResult): string => {
  const window = result.state?.window;
  return action === 'status' && result.outcome === 'unchanged' && typeof window === 'string' ? window : result.outcome;
};

/** Host lines (with -v the changes under each), then a one-line count. */
export const formatPairing = (action: PairingAction, results: readonly PairingResult[], style: Style, verbose: boolean): string => {
  const width = Math.max(0, ...results.map((result) => result.host.length));
  const paint = { opened: style.yellow, closed: style.yellow, unchanged: style.green, failed: style.red, unreachable: style.red } as const;
  const lines = results.flatMap((result) => [
    paint[result.outcome](`${result.host.padEnd(width)}  ${describePairing(result)}`),
    ...(verbose ? result.changes.map((change) => `    ${change}`) : []),
  ]);
  const counts = new Map<string, number>();
  for (const result of results) counts.set(countedAs(action, result), (counts.get(countedAs(action, result)) ?? 0) + 1);
  const total = [...counts].map(([outcome, count]) => `${count} ${outcome}`).join(', ');
  return `${lines.join('\n')}\n\n${results.length} host${results.length === 1 ? '' : 's'}: ${total}\n`;
};

/** One JSON line per host: `{"type":"pairing","host":…,"action":…,"outcome":…,"window":…,"until":…}`. */
export const pairingJsonLines = (action: PairingAction, results: readonly PairingResult[]): string =>
  results
    .map((result) =>
      JSON.stringify({
        type: 'pairing',
        host: result.host,
        action,
        outcome: result.outcome,
        ...result.state,
        ...(result.reason ? { reason: result.reason } : {}),
        ...(result.error ? { error: result.error } : {}),
        changes: result.changes,
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
