// The append-only companion of a run record: one JSON line per host result, written the moment the
// host ends. The record itself is rewritten at most a few times a second (run-store.ts), so a
// SIGKILL (or an OOM kill) between two rewrites would otherwise lose the hosts that ended since the
// last one, and those would be run again on resume. A line is one write(2) of a few hundred bytes:
// it survives the death of the process (it is in the kernel once written) at a cost that does not
// grow with the fleet, unlike rewriting the whole record per host (O(n²) over a run).
//
// The record says how many journal lines it already holds (`journaled`), so reading applies only
// the lines after those: a later state of the record (an interrupted host, a resume) is never
// overwritten by an older line.

import { z } from 'zod';
import { type HostRecord, hostRecordSchema, type RunRecord } from './run-record.ts';

export const journalLineSchema = z.object({
  host: z.string().min(1),
  entry: hostRecordSchema,
  at: z.string().datetime(),
});
export type JournalLine = z.infer<typeof journalLineSchema>;

export const formatJournalLine = (host: string, entry: HostRecord, at: string): string => `${JSON.stringify({ host, entry, at })}\n`;

/**
 * The lines of a journal's text, by position (the record counts lines, so positions must hold). A
 * line that does not parse is `undefined` and skipped when applied: that host keeps its recorded state.
 */
export const parseJournal = (text: string): (JournalLine | undefined)[] =>
  text
    .split('\n')
    .filter((raw) => raw !== '')
    .map((raw) => {
      try {
        const parsed = journalLineSchema.safeParse(JSON.parse(raw));
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    });

/** The record with the journal lines it does not hold yet applied, in order; hosts it lacks are ignored. */
export const applyJournal = (record: RunRecord, lines: readonly (JournalLine | undefined)[]): RunRecord => {
  const from = record.journaled ?? 0;
  if (lines.length <= from) return record;
  const hosts = { ...record.hosts };
  let { updatedAt } = record;
  for (const line of lines.slice(from)) {
    const previous = line && hosts[line.host];
    if (!line || !previous) continue;
    hosts[line.host] = { ...line.entry, stage: previous.stage };
    if (Date.parse(line.at) > Date.parse(updatedAt)) updatedAt = line.at;
  }
  return { ...record, hosts, updatedAt, journaled: lines.length };
};
