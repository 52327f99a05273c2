// Ansible-style PLAY RECAP plus fleet totals. For a large fleet (more than SMALL_FLEET hosts) the
// recap fits one screen: one line per failed, unreachable or changed host is too many, so hosts are
// summarized by outcome with compact name ranges and only failing hosts get a line of their own
// (at most a screenful); `all` (-v) prints every host.

import { emptyCounts, type HostCounts, hostFailed } from './events.ts';
import type { Style } from './format-event.ts';
import { compactHostNames } from './host-ranges.ts';

const FIELDS = ['ok', 'changed', 'unreachable', 'failed', 'skipped', 'untouched', 'rolledBack'] as const;
/** Ansible's recap spelling (`rolled_back=`), for the one field that is two words. */
const LABELS: Readonly<Record<(typeof FIELDS)[number], string>> = {
  ok: 'ok',
  changed: 'changed',
  unreachable: 'unreachable',
  failed: 'failed',
  skipped: 'skipped',
  untouched: 'untouched',
  rolledBack: 'rolled_back',
};
export const SMALL_FLEET = 20;
const LISTED_FAILURES = 15;

type Outcome = 'rolled back' | 'failed' | 'unreachable' | 'untouched' | 'changed' | 'ok';

const outcomeOf = (counts: HostCounts): Outcome =>
  counts.unreachable > 0
    ? 'unreachable'
    : counts.rolledBack > 0
      ? 'rolled back'
      : counts.failed > 0
        ? 'failed'
        : counts.untouched > 0
          ? 'untouched'
          : counts.changed > 0
            ? 'changed'
            : 'ok';

export const formatRecap = (
  recap: Readonly<Record<string, HostCounts>>,
  style: Style,
  options: { readonly all?: boolean } = {},
): string[] => {
  const names = Object.keys(recap);
  const width = Math.max(0, ...names.map((name) => name.length));
  const hostLine = (name: string): string => {
    const counts = recap[name]!;
    const paint = hostFailed(counts) ? style.red : counts.changed > 0 ? style.yellow : style.green;
    const cells = FIELDS.map((field) => `${LABELS[field]}=${counts[field]}`.padEnd(LABELS[field].length + 5));
    return `${paint(name.padEnd(width))} : ${cells.join(' ')}`.trimEnd();
  };
  const lines = ['', `PLAY RECAP ${'*'.repeat(60)}`];
  if (options.all || names.length <= SMALL_FLEET) {
    lines.push(...names.map(hostLine));
  } else {
    const failing = names.filter((name) => hostFailed(recap[name]!));
    lines.push(...failing.slice(0, LISTED_FAILURES).map(hostLine));
    if (failing.length > LISTED_FAILURES)
      lines.push(style.red(`… and ${failing.length - LISTED_FAILURES} more failed or unreachable hosts (-v lists every host)`));
    for (const outcome of ['rolled back', 'failed', 'unreachable', 'untouched', 'changed', 'ok'] as const) {
      const hosts = names.filter((name) => outcomeOf(recap[name]!) === outcome);
      if (hosts.length === 0) continue;
      const paint =
        outcome === 'ok' ? style.green : outcome === 'changed' ? style.yellow : outcome === 'untouched' ? style.cyan : style.red;
      lines.push(
        paint(
          `${outcome.padEnd(11)} ${String(hosts.length).padStart(4)} host${hosts.length === 1 ? ' ' : 's'}  ${compactHostNames(hosts)}`,
        ),
      );
    }
  }
  const totals: HostCounts = emptyCounts();
  for (const name of names) for (const field of FIELDS) totals[field] += recap[name]![field];
  const rolledBackHosts = names.filter((name) => outcomeOf(recap[name]!) === 'rolled back').length;
  const failedHosts = names.filter((name) => hostFailed(recap[name]!)).length - rolledBackHosts;
  // A rolled-back host's changes were undone: it is counted as rolled back, not changed.
  const changedHosts = names.filter((name) => recap[name]!.changed > 0 && recap[name]!.rolledBack === 0).length;
  const untouchedHosts = names.filter((name) => recap[name]!.untouched > 0).length;
  lines.push(
    '',
    `TOTAL ${names.length} host${names.length === 1 ? '' : 's'}: ${changedHosts} changed, ${failedHosts} failed or unreachable` +
      `${rolledBackHosts ? `, ${rolledBackHosts} rolled back` : ''}${untouchedHosts ? `, ${untouchedHosts} untouched` : ''} · ` +
      FIELDS.map((field) => `${LABELS[field]}=${totals[field]}`).join(' '),
  );
  return lines;
};
