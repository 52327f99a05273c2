// Keeps the run record in step with the run: another consumer of the event stream. Writes are
// batched by the store; each host result is also appended to the run's journal at once, so a kill
// between two batched writes loses no host that had ended. A failing write warns once and never
// stops the rollout it describes.

import { type ErrorInfo, errorInfo, withMessage } from '../report/error-info.ts';
import type { RunEvent } from '../report/events.ts';
import type { RunRecord } from '../run-records/run-record.ts';
import { changingHostEntry, endRun, hostResultEntry, interruptedHostEntry, startStage } from '../run-records/run-record-updates.ts';
import { flushRunRecords, journalHostResult, writeRunRecord } from '../run-records/run-store.ts';

export interface RecordKeeper {
  emit(event: RunEvent): void;
  /** Resolves once the newest host written ahead as changing would survive a kill; never rejects. */
  writtenAhead(): Promise<void>;
  /** Mark the run interrupted (Ctrl-C) and write it out. */
  interrupt(): Promise<void>;
  finish(): Promise<RunRecord>;
}

// A failure event always carries its error; one without is a bug in whatever emitted it.
const UNKNOWN = errorInfo('internal', 'failed without an error message');

/** `transactions`: changing hosts are covered by a dead-man (not --no-rollback). */
export const createRecordKeeper = (initial: RunRecord, { transactions = true }: { readonly transactions?: boolean } = {}): RecordKeeper => {
  // One host map for the whole run, updated in place: copying it per ended host made a run cost
  // O(hosts²). Sharing it between successive records is safe because the store's writer keeps only
  // the newest waiting record (every one of them holds this map) and validates, which copies, the
  // record it writes before its first await; the journal line is formatted at once.
  const hosts: RunRecord['hosts'] = { ...initial.hosts };
  let record: RunRecord = { ...initial, hosts };
  let warned = false;
  let lastWrite: Promise<void> = Promise.resolve();
  // Settles once the newest write-ahead survives a kill: at once when the journal took it (a
  // synchronous append), otherwise when the record write that carries it lands.
  let writtenAhead: Promise<void> = Promise.resolve();
  const lastError = new Map<string, ErrorInfo>();
  // Hosts changed (or changing in handlers, or awaiting their confirmation) that have not ended: what
  // an interruption leaves behind on them is not what the record's `untouched` says. Each is written
  // ahead as it starts changing, so even a record whose process died unannounced says so.
  const changing = new Set<string>();
  const warn = (error: unknown): void => {
    if (warned) return;
    warned = true;
    process.stderr.write(
      `casfleet: warning: cannot write run record ${record.id}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  };
  const save = (next: RunRecord): void => {
    record = next;
    lastWrite = writeRunRecord(record).catch(warn);
  };
  /** Appends the host's entry to the journal; false when that failed (warned). */
  const journal = (next: RunRecord, host: string): { record: RunRecord; journaled: boolean } => {
    try {
      return { record: journalHostResult(next, host), journaled: true };
    } catch (error) {
      warn(error);
      return { record: next, journaled: false };
    }
  };
  /** The record with one host's entry replaced (in the shared map), as of `now`. */
  const withHost = (host: string, entry: RunRecord['hosts'][string], now: Date): RunRecord => {
    hosts[host] = entry;
    return { ...record, updatedAt: now.toISOString() };
  };
  const startChanging = (host: string, now: Date): void => {
    if (changing.has(host)) return;
    changing.add(host);
    const ahead = journal(withHost(host, changingHostEntry(record, host, transactions), now), host);
    save(ahead.record);
    writtenAhead = ahead.journaled ? Promise.resolve() : lastWrite;
  };
  save(record);
  return {
    emit(event) {
      const now = new Date();
      switch (event.type) {
        case 'stage':
          if (event.status === 'start') save(startStage(record, event.index, now));
          break;
        case 'host-stage':
          if (event.stage === 'changing' || event.stage === 'handlers' || event.stage === 'confirming') startChanging(event.host, now);
          if (event.stage === 'probing') changing.delete(event.host);
          break;
        case 'step':
          if (event.status === 'changed' && !event.check) startChanging(event.host, now);
          if (event.status === 'failed' && !lastError.has(event.host))
            lastError.set(
              event.host,
              withMessage(event.error ?? UNKNOWN, (message) => `${event.step}: ${message}`),
            );
          // What undid the host matters more than the failure that led there.
          if (event.status === 'rolled-back')
            lastError.set(
              event.host,
              withMessage(event.error ?? UNKNOWN, (message) => `rolled back: ${message}`),
            );
          break;
        case 'unreachable':
          lastError.set(event.host, event.error);
          break;
        case 'host-end': {
          changing.delete(event.host);
          const error = lastError.get(event.host);
          const entry = hostResultEntry(record, event.host, { counts: event.counts, ...(error ? { error } : {}) });
          save(journal(withHost(event.host, entry, now), event.host).record);
          break;
        }
        case 'halt':
          save(endRun(record, event.kind === 'approval' ? 'awaiting-approval' : 'halted', event.reason, now));
          break;
        case 'recap':
          if (record.status === 'running') save(endRun(record, 'completed', undefined, now));
          break;
        default:
          break;
      }
    },
    writtenAhead: () => writtenAhead,
    async interrupt() {
      if (record.status === 'running') {
        const now = new Date();
        for (const host of changing) hosts[host] = interruptedHostEntry(record, host, transactions);
        save(endRun(record, 'interrupted', 'stopped by a signal (Ctrl-C)', now));
      }
      await flushRunRecords().catch(() => undefined);
    },
    async finish() {
      await flushRunRecords().catch(() => undefined);
      return record;
    },
  };
};
