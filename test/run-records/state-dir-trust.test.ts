// A state directory, runs folder or record that someone else owns or can write to is refused: a
// planted record could make `apply --resume last` run another playbook, and records written there
// would expose their -e values. (In a file of its own: the store's timing tests stay undisturbed.)
import { chmodSync, chownSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'ava';
import { TrustError } from '../../src/errors.ts';
import { listRunIds, prepareRunsDir, readRunRecord, runRecordPath, writeRunRecord } from '../../src/run-records/run-store.ts';
import { runCli } from '../helpers/cli.ts';
import { haltedRecord } from './record-fixture.ts';

const tempRuns = (): string => join(mkdtempSync(join(tmpdir(), 'casfleet-runs-')), 'state', 'runs');

const asRoot = process.getuid?.() === 0 ? test : test.skip;

test('a state directory others can write to is refused for reading and for writing', async (t) => {
  const dir = tempRuns();
  await writeRunRecord(haltedRecord(), dir);
  chmodSync(dirname(dir), 0o777);
  const why = {
    instanceOf: TrustError,
    message: /^refusing to use the casfleet state directory .*\/state: it is writable by others \(mode 0777\)/,
  };
  await t.throwsAsync(readRunRecord('last', dir), why);
  await t.throwsAsync(listRunIds(dir), why);
  t.throws(() => prepareRunsDir(dir), why);
});

asRoot('a record someone else owns is refused, so --resume last cannot load a planted run', async (t) => {
  const dir = tempRuns();
  const record = haltedRecord();
  await writeRunRecord(record, dir);
  chownSync(runRecordPath(record.id, dir), 65534, 65534);
  await t.throwsAsync(readRunRecord('last', dir), {
    instanceOf: TrustError,
    message: /^refusing to use run record .*: it is owned by uid 65534/,
  });
});

asRoot('a runs folder owned by another user is refused before an apply starts', (t) => {
  const dir = tempRuns();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, 65534, 65534);
  t.throws(() => prepareRunsDir(dir), {
    instanceOf: TrustError,
    message: /^refusing to use the run-record folder .*\/runs: it is owned by uid 65534/,
  });
});

test('casfleet runs exits 1 when CASFLEET_STATE_DIR is writable by others', async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'casfleet-state-'));
  chmodSync(state, 0o777);
  const result = await runCli(['runs'], { env: { CASFLEET_STATE_DIR: state } });
  t.is(result.code, 1, result.stdout + result.stderr);
  t.regex(result.stderr, /refusing to use the casfleet state directory .* it is writable by others/);
});
