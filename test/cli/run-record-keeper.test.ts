import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';

// Serial: both tests point CASFLEET_STATE_DIR (read at write time) at their own directory.
import { createRecordKeeper } from '../../src/cli/run-record-keeper.ts';
import { errorInfo, internalError } from '../../src/report/error-info.ts';
import { emptyCounts } from '../../src/report/events.ts';
import { hostsToRun, recordedError } from '../../src/run-records/run-record.ts';
import { newRunRecord } from '../../src/run-records/run-record-updates.ts';
import { readRunRecord } from '../../src/run-records/run-store.ts';

const record = () =>
  newRunRecord(
    {
      playbook: { reference: 'scenario-a', name: 'scenario-a' },
      inventory: '/tmp/inventory.yml',
      extraVars: [],
      check: false,
      rollout: {
        stages: [
          { index: 0, kind: 'canary', label: 'canary', hosts: ['a'], maxFail: 0 },
          { index: 1, kind: 'batch', label: 'batch 1/1', hosts: ['b', 'c'], maxFail: 0 },
        ],
        fleetMaxFail: null,
        continueOnBatchFailure: false,
        soakMs: 0,
      },
      cwd: '/tmp',
      controller: { hostname: 'test', pid: process.pid },
    },
    new Date(),
  );

test.serial('the record follows the events: stages, host results with their first error, the halt', async (t) => {
  process.env.CASFLEET_STATE_DIR = mkdtempSync(join(tmpdir(), 'casfleet-keeper-'));
  const keeper = createRecordKeeper(record());
  keeper.emit({ type: 'stage', index: 0, kind: 'canary', label: 'canary', status: 'start', hosts: ['a'] });
  keeper.emit({ type: 'host-end', host: 'a', counts: { ...emptyCounts(), ok: 1, changed: 1 }, durationMs: 1 });
  keeper.emit({ type: 'stage', index: 1, kind: 'batch', label: 'batch 1/1', status: 'start', hosts: ['b', 'c'] });
  keeper.emit({ type: 'unreachable', host: 'b', error: errorInfo('auth', 'authentication failed for user ops') });
  keeper.emit({ type: 'host-end', host: 'b', counts: { ...emptyCounts(), unreachable: 1 }, durationMs: 1 });
  keeper.emit({ type: 'halt', kind: 'budget', reason: 'batch 1/1: 1 failed, budget 0', untouched: ['c'] });
  const final = await keeper.finish();
  t.is(final.status, 'halted');
  t.is(final.stageReached, 1);
  t.like(final.hosts, {
    a: { state: 'changed' },
    b: { state: 'unreachable', error: { kind: 'auth', message: 'authentication failed for user ops' } },
    c: { state: 'untouched' },
  });
  t.deepEqual(hostsToRun(final), ['b', 'c']);
  t.deepEqual(await readRunRecord(final.id), final, 'what is on disk is what the run ended with');
});

test.serial('a host failing on a bug keeps the kind, the step and the stack in the record, through disk', async (t) => {
  process.env.CASFLEET_STATE_DIR = mkdtempSync(join(tmpdir(), 'casfleet-keeper-'));
  const keeper = createRecordKeeper(record());
  const bug = internalError(new TypeError("Cannot read properties of undefined (reading 'rules')"), "the planner of 'firewall'");
  keeper.emit({ type: 'stage', index: 0, kind: 'canary', label: 'canary', status: 'start', hosts: ['a'] });
  keeper.emit({
    type: 'step',
    host: 'a',
    step: 'firewall',
    kind: 'step',
    status: 'failed',
    changes: [],
    error: bug,
    check: false,
    durationMs: 1,
  });
  keeper.emit({
    type: 'step',
    host: 'a',
    step: 'later',
    kind: 'step',
    status: 'failed',
    changes: [],
    error: errorInfo('apply', 'exit 1'),
    check: false,
    durationMs: 1,
  });
  keeper.emit({ type: 'host-end', host: 'a', counts: { ...emptyCounts(), failed: 2 }, durationMs: 1 });
  const final = await keeper.finish();
  const error = final.hosts.a?.error;
  t.like(error, { kind: 'internal', message: `firewall: ${bug.message}` }, 'the first failure, named by its step');
  t.regex(typeof error === 'object' ? (error.stack ?? '') : '', /TypeError: Cannot read properties[\s\S]*at /);
  t.deepEqual(await readRunRecord(final.id), final);
});

test.serial('a run that ends without a halt is completed', async (t) => {
  process.env.CASFLEET_STATE_DIR = mkdtempSync(join(tmpdir(), 'casfleet-keeper-'));
  const keeper = createRecordKeeper(record());
  keeper.emit({ type: 'recap', hosts: {} });
  t.is((await keeper.finish()).status, 'completed');
});

test.serial('an interrupted run records the hosts it was changing: rolled back under a transaction, failed without', async (t) => {
  process.env.CASFLEET_STATE_DIR = mkdtempSync(join(tmpdir(), 'casfleet-keeper-'));
  const step = (host: string, status: 'changed' | 'ok') =>
    ({ type: 'step', host, step: 's', kind: 'step', status, changes: [], check: false, durationMs: 1 }) as const;
  for (const transactions of [true, false]) {
    const keeper = createRecordKeeper(record(), { transactions });
    keeper.emit({ type: 'stage', index: 0, kind: 'canary', label: 'canary', status: 'start', hosts: ['a'] });
    keeper.emit({ type: 'host-stage', host: 'a', stage: 'applying' });
    keeper.emit(step('a', 'changed'));
    keeper.emit({ type: 'stage', index: 1, kind: 'batch', label: 'batch 1/1', status: 'start', hosts: ['b', 'c'] });
    keeper.emit({ type: 'host-stage', host: 'b', stage: 'applying' });
    keeper.emit(step('b', 'ok'));
    await keeper.interrupt();
    const final = await keeper.finish();
    t.is(final.status, 'interrupted');
    t.like(final.hosts, { a: { state: transactions ? 'rolled-back' : 'failed' }, b: { state: 'untouched' }, c: { state: 'untouched' } });
    t.regex(recordedError(final.hosts.a?.error)?.message ?? '', transactions ? /dead-man/ : /changes made so far stay/);
    t.deepEqual(hostsToRun(final), ['a', 'b', 'c']);
  }
});

test.serial('a host is written ahead as it starts changing, so a run killed without a word leaves a record that says so', async (t) => {
  process.env.CASFLEET_STATE_DIR = mkdtempSync(join(tmpdir(), 'casfleet-keeper-'));
  const keeper = createRecordKeeper(record());
  keeper.emit({ type: 'stage', index: 0, kind: 'canary', label: 'canary', status: 'start', hosts: ['a'] });
  keeper.emit({ type: 'host-end', host: 'a', counts: { ...emptyCounts(), ok: 1, changed: 1 }, durationMs: 1 });
  keeper.emit({ type: 'stage', index: 1, kind: 'batch', label: 'batch 1/1', status: 'start', hosts: ['b', 'c'] });
  keeper.emit({ type: 'host-stage', host: 'b', stage: 'applying' });
  keeper.emit({ type: 'step', host: 'b', step: 's', kind: 'step', status: 'changed', changes: [], check: false, durationMs: 1 });
  // No interrupt(): what is on disk once the pending write lands is all a SIGKILL leaves.
  const written = await keeper.finish();
  const onDisk = await readRunRecord(written.id);
  t.is(onDisk.status, 'running');
  t.like(onDisk.hosts, { a: { state: 'changed' }, b: { state: 'rolled-back' }, c: { state: 'untouched' } });
  t.like(onDisk.hosts.b?.error, { kind: 'apply' });
  t.regex(recordedError(onDisk.hosts.b?.error)?.message ?? '', /stopped while changing the host: .*dead-man/);
  t.deepEqual(hostsToRun(onDisk), ['b', 'c']);
  // Its end replaces what was written ahead.
  keeper.emit({ type: 'host-end', host: 'b', counts: { ...emptyCounts(), changed: 1 }, durationMs: 1 });
  t.like((await keeper.finish()).hosts, { b: { state: 'changed' } });
});

test.serial('the changing stage writes the host ahead, and writtenAhead() resolves once a kill would leave it on record', async (t) => {
  process.env.CASFLEET_STATE_DIR = mkdtempSync(join(tmpdir(), 'casfleet-keeper-'));
  const keeper = createRecordKeeper(record());
  keeper.emit({ type: 'stage', index: 0, kind: 'canary', label: 'canary', status: 'start', hosts: ['a'] });
  keeper.emit({ type: 'host-stage', host: 'a', stage: 'applying' });
  keeper.emit({ type: 'host-stage', host: 'a', stage: 'changing' });
  await keeper.writtenAhead();
  const id = (await keeper.finish()).id;
  t.like(
    (await readRunRecord(id)).hosts,
    { a: { state: 'rolled-back' } },
    'no step has reported yet, and the record already says what a kill leaves',
  );
});

test.serial('the keeper updates its own host map: the record it started from is left as it was', async (t) => {
  process.env.CASFLEET_STATE_DIR = mkdtempSync(join(tmpdir(), 'casfleet-keeper-'));
  const initial = record();
  const before = structuredClone(initial);
  const keeper = createRecordKeeper(initial);
  keeper.emit({ type: 'stage', index: 0, kind: 'canary', label: 'canary', status: 'start', hosts: ['a'] });
  keeper.emit({ type: 'step', host: 'a', step: 'firewall', kind: 'step', status: 'changed', check: false, changes: [], durationMs: 1 });
  keeper.emit({ type: 'host-end', host: 'a', counts: { ...emptyCounts(), changed: 1 }, durationMs: 1 });
  const final = await keeper.finish();
  t.deepEqual(initial, before);
  t.like(final.hosts, { a: { state: 'changed' }, b: { state: 'untouched' } });
});
