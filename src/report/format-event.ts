// Pure formatting of run events into the human lines the line and live reporters print. Everything
// that can carry text from a host goes through printable() (terminal-text.ts).

import type { ErrorInfo } from './error-info.ts';
import type { HostUnreachableEvent, StageEvent, StepResultEvent } from './events.ts';
import { printable } from './terminal-text.ts';
import { diffLines } from './text-diff.ts';

export interface Style {
  readonly green: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly red: (text: string) => string;
  readonly cyan: (text: string) => string;
  readonly dim: (text: string) => string;
}

const ansi = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export const COLOR: Style = { green: ansi(32, 39), yellow: ansi(33, 39), red: ansi(31, 39), cyan: ansi(36, 39), dim: ansi(2, 22) };
export const PLAIN: Style = { green: String, yellow: String, red: String, cyan: String, dim: String };

/** `changed: [cas-001] firewall (ufw)` followed by indented changes, warnings, diff, error. */
export const formatStepEvent = (event: StepResultEvent, style: Style, verbose = false): string[] => {
  const label = event.check && event.status === 'changed' ? 'would change' : event.status === 'rolled-back' ? 'rolled back' : event.status;
  const paint = { ok: style.green, changed: style.yellow, failed: style.red, skipped: style.cyan, 'rolled-back': style.red }[event.status];
  const kind = event.kind === 'handler' ? 'handler: ' : '';
  const reason = event.reason ? style.dim(` (${printable(event.reason)})`) : '';
  const lines = [paint(`${label}: [${event.host}] ${kind}${printable(event.step)}`) + reason];
  for (const change of event.changes) lines.push(`    ${printable(change)}`);
  for (const warning of event.warnings ?? []) lines.push(style.yellow(`    warning: ${printable(warning)}`));
  if (event.diff) {
    lines.push(style.dim('    --- before'), style.dim('    +++ after'));
    for (const line of diffLines(printable(event.diff.before), printable(event.diff.after))) {
      const painted = line.startsWith('+') ? style.green(line) : line.startsWith('-') ? style.red(line) : line;
      lines.push(`    ${painted}`);
    }
  }
  if (event.error)
    lines.push(style.red(`    error [${event.error.kind}]: ${printable(event.error.message)}`), ...stackLines(event.error, style, verbose));
  return lines;
};

export const formatUnreachable = (event: HostUnreachableEvent, style: Style): string[] => [
  style.red(`unreachable: [${event.host}] ${event.error.kind}: ${printable(event.error.message)}`),
];

// A bug's stack is noise to an operator but what a bug report needs: shown with -v only.
const stackLines = (error: ErrorInfo, style: Style, verbose: boolean): string[] =>
  verbose && error.stack ? error.stack.split('\n').map((line) => style.dim(`      ${printable(line.trim())}`)) : [];

/** `== batch 2/4: 5 hosts ==`, `== batch 2/4 done: 1 failed (cas-007); gates passed on 4 hosts ==`, `== canary done, soaking 30 s ==`. */
export const formatStageEvent = (event: StageEvent): string => {
  const count = `${event.hosts.length} host${event.hosts.length === 1 ? '' : 's'}`;
  if (event.status === 'start') return `== ${event.label}: ${count} ==`;
  if (event.status === 'soak') return `== ${event.label} done, soaking ${Math.round((event.soakMs ?? 0) / 1000)} s ==`;
  const failed = event.failed ?? [];
  const outcome = failed.length === 0 ? 'no failures' : `${failed.length} failed (${failed.join(', ')})`;
  const gates = event.gatesPassed === undefined ? '' : `; gates passed on ${event.gatesPassed} host${event.gatesPassed === 1 ? '' : 's'}`;
  return `== ${event.label} done: ${outcome}${gates}${event.warning ? `; ${event.warning}` : ''} ==`;
};
