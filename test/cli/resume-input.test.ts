// apply --resume as people type it: the original command with --resume appended.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { runFilter } from '../../src/cli/playbook-reference.ts';
import { extraVarsDifference, resumeInputs } from '../../src/cli/resume-input.ts';
import { UsageError } from '../../src/errors.ts';
import type { RunRecord } from '../../src/run-records/run-record.ts';
import { flushRunRecords, listRunRecords, writeRunRecord } from '../../src/run-records/run-store.ts';
import { at, haltedRecord } from '../run-records/record-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'casfleet-resume-'));
process.env.CASFLEET_STATE_DIR = dir;
const PROD = '/srv/casfleet/inventories/prod.yml';
const OTHER = '/srv/casfleet/inventories/other.yml';

// The prod run halted first; a run on another fleet started after it.
const prod: RunRecord = { ...haltedRecord(at(0), () => 0.1), rolloutFlags: { canary: '1', batches: '2,2' } };
const other: RunRecord = { ...haltedRecord(at(60), () => 0.2), inventory: OTHER };

test.before(async () => {
  await writeRunRecord(prod, join(dir, 'runs'));
  await writeRunRecord(other, join(dir, 'runs'));
  await flushRunRecords();
});

const typed = {
  resume: 'last',
  inventory: PROD,
  limit: 'all:!lab',
  'extra-vars': ['pairing=true', 'sudoPassword=hunter2'],
  canary: '1',
  batches: '2,2',
};

test('the same command with --resume last continues the last run of that playbook and inventory', async (t) => {
  const resumed = await resumeInputs(typed, 'scenario-a', '/srv/casfleet');
  t.is(resumed.record.id, prod.id);
  t.is(resumed.values.inventory, PROD);
});

test('last is the newest run of the same fleet, not the newest of all', async (t) => {
  const resumed = await resumeInputs({ resume: 'last', inventory: OTHER }, 'scenario-a', '/srv/casfleet');
  t.is(resumed.record.id, other.id);
});

test('a different -l is refused, with both selections named', async (t) => {
  const error = await t.throwsAsync(resumeInputs({ ...typed, limit: 'canary' }, 'scenario-a', '/srv/casfleet'), { instanceOf: UsageError });
  t.regex(error?.message ?? '', /-l canary, the run had -l all:!lab/);
});

test('a different -e is refused, naming the variable but not its value', async (t) => {
  const error = await t.throwsAsync(
    resumeInputs({ ...typed, 'extra-vars': ['pairing=true', 'sudoPassword=swordfish'] }, 'scenario-a', '/srv/casfleet'),
    {
      instanceOf: UsageError,
    },
  );
  t.regex(error?.message ?? '', /-e sudoPassword has another value than in the run/);
  t.false(/hunter2|swordfish/.test(error?.message ?? ''));
});

test('a different rollout flag is refused, omitted ones keep the run own', async (t) => {
  const error = await t.throwsAsync(resumeInputs({ ...typed, canary: '3' }, 'scenario-a', '/srv/casfleet'), { instanceOf: UsageError });
  t.regex(error?.message ?? '', /--canary 3, the run had --canary 1/);
  const { canary: _canary, batches: _batches, ...withoutRollout } = typed;
  t.is((await resumeInputs(withoutRollout, 'scenario-a', '/srv/casfleet')).record.id, prod.id);
});

test('another playbook has no last run to resume here', async (t) => {
  await t.throwsAsync(resumeInputs({ resume: 'last', inventory: PROD }, 'scenario-b', '/srv/casfleet'), {
    instanceOf: UsageError,
    message: /no run of scenario-b on \/srv\/casfleet\/inventories\/prod\.yml/,
  });
});

test('extra vars differences name what was added, dropped or changed', (t) => {
  t.is(extraVarsDifference(['a=1', 'b=2'], ['a=1', 'b=2']), undefined);
  t.is(extraVarsDifference(['a=1'], ['a=1', 'c=3']), '-e c is not in the run');
  t.is(extraVarsDifference(['a=1', 'b=2'], ['a=1']), 'the run also had -e b');
  t.is(extraVarsDifference(['a=1', 'b=2'], ['b=2', 'a=1']), '-e is given in another order than in the run');
});

test('runs can be listed for one playbook and inventory', async (t) => {
  const listing = await listRunRecords({ dir: join(dir, 'runs'), filter: runFilter('scenario-a', OTHER, '/srv/casfleet')! });
  t.deepEqual(
    listing.entries.map((entry) => entry.id),
    [other.id],
  );
});
