import { appendFileSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { errorInfo } from '../../src/report/error-info.ts';
import { applyJournal, parseJournal } from '../../src/run-records/run-journal.ts';
import { recordHostResult, recordInterruptedHost, startStage } from '../../src/run-records/run-record-updates.ts';
import { flushRunRecords, journalHostResult, readRunRecord, runJournalPath, writeRunRecord } from '../../src/run-records/run-store.ts';
import { at, counts, freshRecord } from './record-fixture.ts';

const tempRuns = (): string => join(mkdtempSync(join(tmpdir(), 'casfleet-journal-')), 'state', 'runs');

test('hosts journaled after the last record write are read back, as after a kill between two writes', async (t) => {
  const dir = tempRuns();
  let record = startStage(freshRecord(), 0, at(1));
  await writeRunRecord(record, dir);
  await flushRunRecords();
  // What the run knows after two host ends; only the journal reaches the disk (no record write).
  record = journalHostResult(recordHostResult(record, 'cas-01', { counts: counts({ ok: 3, changed: 2 }) }, at(2)), 'cas-01', dir);
  record = journalHostResult(
    recordHostResult(record, 'cas-02', { counts: counts({ ok: 1, failed: 1 }), error: errorInfo('apply', 'ufw: exit 1') }, at(3)),
    'cas-02',
    dir,
  );
  const read = await readRunRecord(record.id, dir);
  t.deepEqual(read.hosts, record.hosts);
  t.is(read.hosts['cas-02']?.state, 'failed');
  t.is(read.hosts['cas-03']?.state, 'untouched');
  t.is(read.journaled, 2);
  t.is(read.updatedAt, at(3).toISOString());
  t.is(statSync(runJournalPath(record.id, dir)).mode & 0o777, 0o600);
  t.deepEqual(readdirSync(dir).sort(), [`${record.id}.journal`, `${record.id}.json`]);
});

test('journal lines the record already holds are not applied again over a later state', async (t) => {
  const dir = tempRuns();
  let record = startStage(freshRecord(), 0, at(1));
  record = journalHostResult(recordHostResult(record, 'cas-01', { counts: counts({ ok: 1, failed: 1 }) }, at(2)), 'cas-01', dir);
  // Later (a resumed run stopped while changing the host): the record says rolled back.
  record = recordInterruptedHost(record, 'cas-01', true, at(3));
  await writeRunRecord(record, dir);
  await flushRunRecords();
  t.is((await readRunRecord(record.id, dir)).hosts['cas-01']?.state, 'rolled-back');
});

test('a line that does not parse keeps its position and is skipped', (t) => {
  const record = startStage(freshRecord(), 0, at(1));
  const good = (host: string) =>
    JSON.stringify({ host, entry: { state: 'ok', stage: 0, counts: counts({ ok: 1 }) }, at: at(2).toISOString() });
  const lines = parseJournal(`${good('cas-01')}\n{"host":"cas-02","entry":{"state":"bogus"}}\n${good('cas-03')}\n{"host":"cas-0`);
  t.is(lines.length, 4);
  t.is(lines[1], undefined);
  const applied = applyJournal({ ...record, journaled: 0 }, lines);
  t.is(applied.journaled, 4);
  t.is(applied.hosts['cas-01']?.state, 'ok');
  t.is(applied.hosts['cas-02']?.state, 'untouched');
  // The stage always comes from the record, never from the line.
  t.is(applied.hosts['cas-03']?.stage, 1);
});

test('a host the record does not list is ignored', async (t) => {
  const dir = tempRuns();
  const record = freshRecord();
  await writeRunRecord(record, dir);
  await flushRunRecords();
  appendFileSync(
    runJournalPath(record.id, dir),
    `${JSON.stringify({ host: 'intruder', entry: { state: 'ok', stage: 0 }, at: at(2).toISOString() })}\n`,
    { mode: 0o600 },
  );
  const read = await readRunRecord(record.id, dir);
  t.false('intruder' in read.hosts);
  t.deepEqual(read.hosts, record.hosts);
});
