import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createLatestWriter } from '../../src/run-records/latest-writer.ts';
import { recordHostResult } from '../../src/run-records/run-record-updates.ts';
import {
  flushRunRecords,
  listRunIds,
  listRunRecords,
  readRunRecord,
  runRecordPath,
  runsDir,
  writeRunRecord,
} from '../../src/run-records/run-store.ts';
import { at, counts, haltedRecord } from './record-fixture.ts';

const tempRuns = (): string => join(mkdtempSync(join(tmpdir(), 'casfleet-runs-')), 'state', 'runs');

const mode = (path: string): number => statSync(path).mode & 0o777;

test('the runs folder follows CASFLEET_STATE_DIR, then XDG_STATE_HOME, then ~/.local/state', (t) => {
  t.is(runsDir({ CASFLEET_STATE_DIR: '/var/lib/casfleet', XDG_STATE_HOME: '/x', HOME: '/home/op' }), '/var/lib/casfleet/runs');
  t.is(runsDir({ XDG_STATE_HOME: '/x', HOME: '/home/op' }), '/x/casfleet/runs');
  t.is(runsDir({ HOME: '/home/op' }), '/home/op/.local/state/casfleet/runs');
  t.is(runsDir({ XDG_STATE_HOME: 'relative/ignored', HOME: '/home/op' }), '/home/op/.local/state/casfleet/runs');
});

test('a written record reads back equal, in a 0600 file inside a 0700 folder, with no temp file left', async (t) => {
  const dir = tempRuns();
  const record = haltedRecord();
  await writeRunRecord(record, dir);
  t.deepEqual(await readRunRecord(record.id, dir), record);
  t.deepEqual(readdirSync(dir), [`${record.id}.json`]);
  t.is(mode(dir), 0o700);
  t.is(mode(runRecordPath(record.id, dir)), 0o600);
  t.true(readFileSync(runRecordPath(record.id, dir), 'utf8').endsWith('}\n'));
});

test('an existing runs folder with loose permissions is tightened to 0700', async (t) => {
  const dir = tempRuns();
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  await writeRunRecord(haltedRecord(), dir);
  t.is(mode(dir), 0o700);
});

test('"last" is the newest run, and a unique id prefix finds its run', async (t) => {
  const dir = tempRuns();
  const older = haltedRecord(new Date('2026-11-20T09:00:00Z'), () => 0.9);
  const newer = haltedRecord(new Date('2026-11-21T13:08:45Z'), () => 0.1);
  await Promise.all([writeRunRecord(older, dir), writeRunRecord(newer, dir)]);
  t.is((await readRunRecord('last', dir)).id, newer.id);
  t.is((await readRunRecord('20261120', dir)).id, older.id);
  t.is((await readRunRecord(newer.id.slice(0, 13), dir)).id, newer.id);
  t.deepEqual(await listRunIds(dir), [newer.id, older.id]);
});

test('"last" tells apart two runs started in the same second by their creation time', async (t) => {
  const dir = tempRuns();
  const first = haltedRecord(new Date('2026-11-21T13:08:45.100Z'), () => 0.9); // suffix e666 sorts later
  const second = haltedRecord(new Date('2026-11-21T13:08:45.700Z'), () => 0.1); // suffix 1999
  await Promise.all([writeRunRecord(first, dir), writeRunRecord(second, dir)]);
  t.is((await readRunRecord('last', dir)).id, second.id);
  t.deepEqual(
    (await listRunRecords({ dir })).entries.map((entry) => entry.id),
    [second.id, first.id],
  );
});

test('an unknown or ambiguous id is a usage error that says how to find runs', async (t) => {
  const dir = tempRuns();
  await t.throwsAsync(readRunRecord('last', dir), { name: 'UsageError', message: /no run records in .* yet/ });
  await writeRunRecord(
    haltedRecord(new Date('2026-11-21T13:08:45Z'), () => 0.1),
    dir,
  );
  await writeRunRecord(
    haltedRecord(new Date('2026-11-21T13:09:00Z'), () => 0.1),
    dir,
  );
  const unknown = await t.throwsAsync(readRunRecord('20250101', dir), { name: 'UsageError' });
  t.is(unknown.message, `no run record '20250101' in ${dir}; \`casfleet runs\` lists them`);
  await t.throwsAsync(readRunRecord('20261121T130', dir), { name: 'UsageError', message: /matches 2 run records .*; give more of the id/ });
});

test('a corrupt or foreign record file is a RunRecordError naming the file', async (t) => {
  const dir = tempRuns();
  const record = haltedRecord();
  await writeRunRecord(record, dir);
  const file = runRecordPath(record.id, dir);

  writeFileSync(file, '{"version": 1, "id": ');
  await t.throwsAsync(readRunRecord(record.id, dir), { name: 'RunRecordError', message: new RegExp(`^${file}: not valid JSON`) });

  writeFileSync(file, JSON.stringify({ ...record, status: 'exploded' }));
  await t.throwsAsync(readRunRecord('last', dir), {
    name: 'RunRecordError',
    message: new RegExp(`^${file} is not a casfleet run record:\\n  status:`),
  });

  writeFileSync(file, JSON.stringify({ ...record, version: 2 }));
  await t.throwsAsync(readRunRecord(record.id, dir), {
    name: 'RunRecordError',
    message: /run record version 2; this casfleet reads version 1/,
  });

  const other = haltedRecord(new Date('2026-01-01T00:00:00Z'));
  writeFileSync(file, JSON.stringify(other));
  await t.throwsAsync(readRunRecord(record.id, dir), {
    name: 'RunRecordError',
    message: new RegExp(`holds run ${other.id}, not ${record.id}`),
  });
});

test('listing is newest first, honours a limit, and reports an unreadable file as an entry', async (t) => {
  const dir = tempRuns();
  const records = [1, 2, 3].map((day) => haltedRecord(new Date(`2026-11-0${day}T10:00:00Z`)));
  for (const record of records) await writeRunRecord(record, dir);
  writeFileSync(join(dir, '20261104T100000Z-abcd.json'), 'not json');
  writeFileSync(join(dir, 'notes.txt'), 'ignored');
  writeFileSync(join(dir, '.20261105T100000Z-abcd.123.tmp'), 'ignored too');

  const listing = await listRunRecords({ dir });
  t.is(listing.total, 4);
  t.deepEqual(
    listing.entries.map((entry) => entry.id),
    ['20261104T100000Z-abcd', records[2]!.id, records[1]!.id, records[0]!.id],
  );
  t.regex((listing.entries[0] as { error: string }).error, /not valid JSON/);
  t.deepEqual((listing.entries[1] as { record: unknown }).record, records[2]);

  const limited = await listRunRecords({ dir, limit: 2 });
  t.is(limited.total, 4);
  t.is(limited.entries.length, 2);
  t.deepEqual(await listRunRecords({ dir: join(dir, 'missing') }), { dir: join(dir, 'missing'), total: 0, entries: [] });
});

test('many quick writes of one run end with the newest state on disk and no temp files', async (t) => {
  const dir = tempRuns();
  let record = haltedRecord();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 50; i += 1) {
    record = recordHostResult(record, 'cas-04', { counts: counts({ ok: i }) }, at(100 + i));
    writes.push(writeRunRecord(record, dir));
  }
  await Promise.all(writes);
  t.deepEqual(await readRunRecord(record.id, dir), record);
  t.deepEqual(readdirSync(dir), [`${record.id}.json`]);
});

test('a state older than one already written is never written after it', async (t) => {
  const dir = tempRuns();
  const old = haltedRecord();
  const newer = recordHostResult(old, 'cas-04', { counts: counts({ ok: 1 }) }, at(500));
  await writeRunRecord(newer, dir);
  await writeRunRecord(old, dir);
  await flushRunRecords();
  t.is((await readRunRecord(old.id, dir)).hosts['cas-04']!.state, 'ok');
});

test('an invalid record is refused instead of written', async (t) => {
  const dir = tempRuns();
  const record = { ...haltedRecord(), stageReached: 9 };
  await t.throwsAsync(writeRunRecord(record, dir), {
    name: 'RunRecordError',
    message: /refusing to write an invalid run record[\s\S]*stageReached/,
  });
  t.deepEqual(await listRunIds(dir), []);
});

// The writer's ordering, with a persist whose completion the test controls.
test('the serialized writer runs one write at a time, skips intermediate states and writes the latest last', async (t) => {
  const started: number[] = [];
  const releases: Array<() => void> = [];
  const writer = createLatestWriter<number>(async (_key, value) => {
    started.push(value);
    await new Promise<void>((resolve) => releases.push(resolve));
  });
  const settled: number[] = [];
  const track = (value: number) => writer.write('run', value).then(() => settled.push(value));
  const all = [1, 2, 3, 4].map(track);
  await Promise.resolve();
  t.deepEqual(started, [1], 'the first write starts at once, the others wait');
  releases.shift()!();
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(started, [1, 4], 'only the newest waiting state is written next');
  t.deepEqual(settled, [1]);
  releases.shift()!();
  await Promise.all(all);
  t.deepEqual(settled.sort(), [1, 2, 3, 4], 'every caller learns its state (or a newer one) is written');
  t.deepEqual(started, [1, 4]);
});

test('the serialized writer drops a state older than the newest accepted one', async (t) => {
  const written: number[] = [];
  const writer = createLatestWriter<number>(
    async (_key, value) => {
      written.push(value);
      await new Promise((resolve) => setImmediate(resolve));
    },
    { isOlder: (candidate, newest) => candidate < newest },
  );
  await Promise.all([writer.write('run', 5), writer.write('run', 7), writer.write('run', 6), writer.write('other', 1)]);
  await writer.write('run', 3);
  await writer.idle();
  t.deepEqual(written, [5, 1, 7]);
});

test('a failed write rejects its callers and later writes still happen', async (t) => {
  let fail = true;
  const written: number[] = [];
  const writer = createLatestWriter<number>(async (_key, value) => {
    if (fail) throw new Error('disk full');
    written.push(value);
  });
  await t.throwsAsync(writer.write('run', 1), { message: 'disk full' });
  fail = false;
  await writer.write('run', 2);
  t.deepEqual(written, [2]);
});

test('the serialized writer spaces the writes of one key by the minimum interval', async (t) => {
  const starts: Array<[number, number]> = [];
  const writer = createLatestWriter<number>(
    async (_key, value) => {
      starts.push([value, Date.now()]);
    },
    { minIntervalMs: 60 },
  );
  const first = writer.write('run', 1);
  await first;
  await Promise.all([writer.write('run', 2), writer.write('run', 3)]);
  t.deepEqual(
    starts.map(([value]) => value),
    [1, 3],
  );
  t.true(starts[1]![1] - starts[0]![1] >= 55, `${starts[1]![1] - starts[0]![1]} ms apart`);
});

test('the interval may depend on the value, and idle() starts a write waiting out its interval at once', async (t) => {
  const written: number[] = [];
  const writer = createLatestWriter<number>(
    async (_key, value) => {
      written.push(value);
    },
    // Far longer than the test's own timeout: idle() resolving at all shows it did not wait.
    { minIntervalMs: (value) => (value >= 10 ? 3_600_000 : 0) },
  );
  await writer.write('run', 1);
  await writer.write('run', 2);
  t.deepEqual(written, [1, 2], 'a small value is not held back');
  const waiting = writer.write('run', 10);
  await writer.idle();
  await waiting;
  t.deepEqual(written, [1, 2, 10]);
});
