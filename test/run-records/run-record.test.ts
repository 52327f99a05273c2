import test from 'ava';
import { errorInfo } from '../../src/report/error-info.ts';
import {
  hostsToRun,
  isResumable,
  newRunId,
  type RunRecord,
  recordedError,
  remainingStages,
  resumeCheck,
  rolloutFromRecord,
  rolloutToRecord,
  runRecordSchema,
  summarizeRecord,
} from '../../src/run-records/run-record.ts';
import { endRun, hostStateFromCounts, recordHostResult, resumeRun, startStage } from '../../src/run-records/run-record-updates.ts';
import { at, counts, freshRecord, haltedRecord, T0 } from './record-fixture.ts';

const notRunning = { isRunning: () => false };
const stillRunning = { isRunning: () => true };

const completedRecord = (): RunRecord => {
  let record = freshRecord();
  for (const [index, stage] of record.rollout.stages.entries()) {
    record = startStage(record, index, at(index + 1));
    for (const host of stage.hosts) record = recordHostResult(record, host, { counts: counts({ ok: 2, changed: 1 }) }, at(index + 1));
  }
  return endRun(record, 'completed', undefined, at(10));
};

test('a record survives a JSON round trip through the schema unchanged', (t) => {
  const record = haltedRecord();
  const parsed = runRecordSchema.parse(JSON.parse(JSON.stringify(record)));
  t.deepEqual(parsed, record);
  t.is(parsed.version, 1);
});

test('a record written before errors had kinds (a plain string) still loads, shows and resumes', (t) => {
  const record = haltedRecord();
  const old = JSON.parse(JSON.stringify(record)) as { hosts: Record<string, { error?: unknown }> };
  old.hosts['cas-03']!.error = 'ufw: exit 1';
  const parsed = runRecordSchema.parse(old);
  t.is(parsed.hosts['cas-03']?.error, 'ufw: exit 1');
  t.deepEqual(recordedError(parsed.hosts['cas-03']?.error), { message: 'ufw: exit 1' });
  t.deepEqual(recordedError(record.hosts['cas-03']?.error), { kind: 'apply', message: 'ufw: exit 1\nmore detail' });
  t.deepEqual(hostsToRun(parsed), hostsToRun(record));
  t.false(
    runRecordSchema.safeParse({
      ...old,
      hosts: { ...old.hosts, 'cas-03': { ...old.hosts['cas-03'], error: { kind: 'nope', message: 'x' } } },
    }).success,
    'an unknown kind is refused',
  );
});

test('a new record is running, before any stage, with every host untouched in its stage', (t) => {
  const record = freshRecord();
  t.is(record.status, 'running');
  t.is(record.stageReached, -1);
  t.is(record.createdAt, T0.toISOString());
  t.deepEqual(record.hosts['cas-01'], { state: 'untouched', stage: 0 });
  t.deepEqual(record.hosts['cas-05'], { state: 'untouched', stage: 2 });
  t.true(runRecordSchema.safeParse(record).success);
});

test('run ids carry the UTC start second and 4 hex digits', (t) => {
  t.is(
    newRunId(new Date('2026-11-21T13:08:45.999Z'), () => 0.3),
    '20261121T130845Z-4ccc',
  );
  t.is(
    newRunId(new Date('2026-01-02T03:04:05Z'), () => 0),
    '20260102T030405Z-0000',
  );
  t.is(
    newRunId(new Date('2026-01-02T03:04:05Z'), () => 0.9999999),
    '20260102T030405Z-ffff',
  );
});

test('run ids sort as strings in the order the runs started', (t) => {
  const times = ['2026-11-21T13:08:45Z', '2026-11-21T13:08:46Z', '2026-11-21T14:00:00Z', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'];
  const ids = times.map((time, index) => newRunId(new Date(time), () => (times.length - index) / 10));
  t.deepEqual([...ids].sort(), ids);
});

test('the schema rejects an id that is not a run id, and a relative inventory path', (t) => {
  const record = haltedRecord();
  const result = runRecordSchema.safeParse({ ...record, id: '../../etc/passwd', inventory: 'prod.yml' });
  t.false(result.success);
  const paths = result.error!.issues.map((issue) => issue.path.join('.'));
  t.deepEqual(paths.sort(), ['id', 'inventory']);
});

test('the schema stores "no budget" as null because JSON has no Infinity', (t) => {
  const record = freshRecord();
  t.is(record.rollout.fleetMaxFail, null);
  const withInfinity = { ...record, rollout: { ...record.rollout, fleetMaxFail: Number.POSITIVE_INFINITY } };
  t.false(runRecordSchema.safeParse(withInfinity).success);
});

test('the schema rejects stages and hosts that disagree', (t) => {
  const record = freshRecord();
  const { 'cas-05': _dropped, ...hosts } = record.hosts;
  const missingHost = runRecordSchema.safeParse({ ...record, hosts });
  t.false(missingHost.success);
  t.regex(missingHost.error!.issues[0]!.message, /cas-05, which has no host entry/);

  const wrongStage = runRecordSchema.safeParse({ ...record, hosts: { ...record.hosts, 'cas-01': { state: 'ok', stage: 2 } } });
  t.false(wrongStage.success);
  t.deepEqual(wrongStage.error!.issues[0]!.path, ['hosts', 'cas-01', 'stage']);

  const extraHost = runRecordSchema.safeParse({ ...record, hosts: { ...record.hosts, 'cas-99': { state: 'ok', stage: 0 } } });
  t.false(extraHost.success);
  t.regex(extraHost.error!.issues[0]!.message, /in no rollout stage/);

  const twice = structuredClone(record);
  twice.rollout.stages[2]!.hosts.push('cas-01');
  t.regex(runRecordSchema.safeParse(twice).error!.issues[0]!.message, /cas-01 is already in stage 0/);

  t.false(runRecordSchema.safeParse({ ...record, stageReached: 3 }).success);
});

test('a host state follows its worst count: unreachable, rolled back, failed, changed, then ok', (t) => {
  t.is(hostStateFromCounts(counts({ ok: 2, changed: 1, failed: 1, unreachable: 1 })), 'unreachable');
  t.is(hostStateFromCounts(counts({ ok: 2, changed: 1, failed: 1, rolledBack: 1 })), 'rolled-back');
  t.is(hostStateFromCounts(counts({ ok: 2, changed: 1, failed: 1 })), 'failed');
  t.is(hostStateFromCounts(counts({ ok: 2, changed: 1 })), 'changed');
  t.is(hostStateFromCounts(counts({ ok: 2, skipped: 1 })), 'ok');
  t.is(hostStateFromCounts(counts({ untouched: 1 })), 'untouched');
});

test('recording a host result keeps its stage, its counts and only a failure error', (t) => {
  const record = haltedRecord();
  t.deepEqual(record.hosts['cas-03'], {
    state: 'failed',
    stage: 1,
    counts: { ok: 1, changed: 0, failed: 1, unreachable: 0, skipped: 0, rolledBack: 0 },
    error: { kind: 'apply', message: 'ufw: exit 1\nmore detail' },
  });
  const retried = recordHostResult(
    record,
    'cas-03',
    { counts: counts({ ok: 2, changed: 1 }), error: errorInfo('apply', 'ignored') },
    at(20),
  );
  t.deepEqual(retried.hosts['cas-03'], {
    state: 'changed',
    stage: 1,
    counts: { ok: 2, changed: 1, failed: 0, unreachable: 0, skipped: 0, rolledBack: 0 },
  });
  t.is(retried.updatedAt, at(20).toISOString());
  t.is(record.hosts['cas-03']!.state, 'failed', 'the previous record is not mutated');
  t.throws(() => recordHostResult(record, 'cas-99', { counts: counts() }, at(20)), { name: 'RunRecordError', message: /no host 'cas-99'/ });
});

test('hostsToRun lists failed, rolled-back, unreachable and untouched hosts in rollout order', (t) => {
  let record = haltedRecord();
  record = recordHostResult(
    record,
    'cas-02',
    { counts: counts({ unreachable: 1 }), error: errorInfo('connect', 'connection refused') },
    at(7),
  );
  t.deepEqual(hostsToRun(record), ['cas-02', 'cas-03', 'cas-04', 'cas-05']);
  record = recordHostResult(
    record,
    'cas-01',
    { counts: counts({ ok: 1, rolledBack: 1 }), error: errorInfo('connect', 'rolled back: a new SSH login failed') },
    at(8),
  );
  t.like(record.hosts['cas-01'], { state: 'rolled-back', error: { kind: 'connect', message: 'rolled back: a new SSH login failed' } });
  t.deepEqual(hostsToRun(record), ['cas-01', 'cas-02', 'cas-03', 'cas-04', 'cas-05']);
  t.deepEqual(hostsToRun(completedRecord()), []);
});

test('remainingStages keeps each stage with its index, label and budget, minus the hosts already done', (t) => {
  t.deepEqual(remainingStages(haltedRecord()), [
    { index: 1, kind: 'batch', label: 'batch 1/2', hosts: ['cas-03'], maxFail: 0 },
    { index: 2, kind: 'batch', label: 'batch 2/2', hosts: ['cas-04', 'cas-05'], maxFail: null },
  ]);
});

test('summarizeRecord counts hosts per state', (t) => {
  t.deepEqual(summarizeRecord(haltedRecord()), { ok: 0, changed: 2, failed: 1, 'rolled-back': 0, unreachable: 0, untouched: 2 });
});

test('halted, awaiting-approval and interrupted runs are resumable with the hosts still to run', (t) => {
  for (const status of ['halted', 'awaiting-approval', 'interrupted'] as const) {
    const record = endRun(haltedRecord(), status, 'stopped', at(30));
    t.deepEqual(resumeCheck(record, stillRunning), { resumable: true, hosts: ['cas-03', 'cas-04', 'cas-05'] }, status);
  }
});

test('a running record is resumable only when its process is gone', (t) => {
  const record = freshRecord();
  t.true(isResumable(record, notRunning));
  const check = resumeCheck(record, stillRunning);
  t.false(check.resumable);
  t.regex((check as { reason: string }).reason, /is still running \(pid 4242 on controller-1\)/);
});

test('a completed run with failed hosts is resumable, one with every host ok is not', (t) => {
  const failed = endRun(
    recordHostResult(completedRecord(), 'cas-04', { counts: counts({ failed: 1 }) }, at(40)),
    'completed',
    undefined,
    at(41),
  );
  t.deepEqual(resumeCheck(failed, notRunning), { resumable: true, hosts: ['cas-04'] });
  const allOk = resumeCheck(completedRecord(), notRunning);
  t.false(allOk.resumable);
  t.regex((allOk as { reason: string }).reason, /completed with every host ok; nothing to resume/);
});

test('endRun sets or clears the halt reason and resumeRun takes the run over', (t) => {
  const halted = haltedRecord();
  const resumed = resumeRun(halted, { hostname: 'controller-2', pid: 99 }, at(60));
  t.is(resumed.status, 'running');
  t.is(resumed.haltReason, undefined);
  t.deepEqual(resumed.controller, { hostname: 'controller-2', pid: 99 });
  t.deepEqual(resumed.resumedAt, [at(60).toISOString()]);
  t.is(resumed.id, halted.id);
  const done = endRun(resumed, 'completed', undefined, at(70));
  t.false('haltReason' in done);
  t.true(runRecordSchema.safeParse(done).success);
  t.throws(() => startStage(done, 3, at(71)), { name: 'RunRecordError' });
});

test('a rollout plan converts to the record and back, unlimited budgets as null in between', (t) => {
  const plan = {
    stages: [
      { index: 0, kind: 'canary' as const, label: 'canary', hosts: ['cas-01'], maxFail: 0 },
      { index: 1, kind: 'batch' as const, label: 'batch 1/1', hosts: ['cas-02', 'cas-03'], maxFail: Number.POSITIVE_INFINITY },
    ],
    fleetMaxFail: Number.POSITIVE_INFINITY,
    continueOnBatchFailure: true,
    soakMs: 5000,
  };
  const recorded = rolloutToRecord(plan);
  t.is(recorded.fleetMaxFail, null);
  t.deepEqual(
    recorded.stages.map((stage) => stage.maxFail),
    [0, null],
  );
  t.deepEqual(rolloutFromRecord(recorded), plan);
  t.deepEqual(
    rolloutFromRecord(haltedRecord().rollout, remainingStages(haltedRecord())).stages.map((stage) => [
      stage.index,
      stage.hosts,
      stage.maxFail,
    ]),
    [
      [1, ['cas-03'], 0],
      [2, ['cas-04', 'cas-05'], Number.POSITIVE_INFINITY],
    ],
  );
});
