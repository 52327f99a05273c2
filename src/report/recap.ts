// Ansible-style PLAY RECAP plus fleet totals.

import { emptyCounts, hostFailed, type HostCounts } from './events.ts';
import type { Style } from './format-event.ts';

const FIELDS = ['ok', 'changed', 'unreachable', 'failed', 'skipped', 'untouched'] as const;

export const formatRecap = (recap: Readonly<Record<string, HostCounts>>, style: Style): string[] => {
  const names = Object.keys(recap);
  const width = Math.max(0, ...names.map((name) => name.length));
  const lines = ['', `PLAY RECAP ${'*'.repeat(60)}`];
  const totals: HostCounts = emptyCounts();
  for (const name of names) {
    const counts = recap[name]!;
    for (const field of FIELDS) totals[field] += counts[field];
    const paint = hostFailed(counts) ? style.red : counts.changed > 0 ? style.yellow : style.green;
    const cells = FIELDS.map((field) => `${field}=${counts[field]}`.padEnd(field.length + 5));
    lines.push(`${paint(name.padEnd(width))} : ${cells.join(' ')}`.trimEnd());
  }
  const failedHosts = names.filter((name) => hostFailed(recap[name]!)).length;
  const changedHosts = names.filter((name) => recap[name]!.changed > 0).length;
  lines.push(
    '',
    `TOTAL ${names.length} host${names.length === 1 ? '' : 's'}: ${changedHosts} changed, ${failedHosts} failed or unreachable · ` +
      FIELDS.map((field) => `${field}=${totals[field]}`).join(' '),
  );
  return lines;
};
