// A small run record for tests: a canary and two batches over five hosts, built with the same
// transitions apply uses.
import { errorInfo } from '../../src/report/error-info.ts';
import type { RunRecord } from '../../src/run-records/run-record.ts';
import { endRun, newRunRecord, recordHostResult, startStage } from '../../src/run-records/run-record-updates.ts';

export const T0 = new Date('2026-11-21T13:08:45.123Z');

export const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

export const counts = (
  over: Partial<Record<'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped' | 'untouched' | 'rolledBack', number>> = {},
) => ({
  ok: 0,
  changed: 0,
  failed: 0,
  unreachable: 0,
  skipped: 0,
  rolledBack: 0,
  ...over,
});

export const freshRecord = (now: Date = T0, random: () => number = () => 0.3): RunRecord =>
  newRunRecord(
    {
      playbook: { reference: 'scenario-a', name: 'scenario-a' },
      inventory: '/srv/casfleet/inventories/prod.yml',
      limit: 'all:!lab',
      extraVars: ['pairing=true', 'sudoPassword=hunter2'],
      check: false,
      cwd: '/srv/casfleet',
      controller: { hostname: 'controller-1', pid: 4242 },
      rollout: {
        stages: [
          { index: 0, kind: 'canary', label: 'canary', hosts: ['cas-01'], maxFail: 0 },
          { index: 1, kind: 'batch', label: 'batch 1/2', hosts: ['cas-02', 'cas-03'], maxFail: 0 },
          { index: 2, kind: 'batch', label: 'batch 2/2', hosts: ['cas-04', 'cas-05'], maxFail: null },
        ],
        fleetMaxFail: null,
        continueOnBatchFailure: false,
        soakMs: 30_000,
      },
    },
    now,
    random,
  );

/** Canary changed; batch 1: one changed, one failed; batch 2 never started. */
export const haltedRecord = (now: Date = T0, random?: () => number): RunRecord => {
  const at = (seconds: number): Date => new Date(now.getTime() + seconds * 1000);
  let record = freshRecord(now, random);
  record = startStage(record, 0, at(1));
  record = recordHostResult(record, 'cas-01', { counts: counts({ ok: 3, changed: 2 }) }, at(2));
  record = startStage(record, 1, at(3));
  record = recordHostResult(record, 'cas-02', { counts: counts({ ok: 3, changed: 1 }) }, at(4));
  record = recordHostResult(
    record,
    'cas-03',
    { counts: counts({ ok: 1, failed: 1 }), error: errorInfo('apply', 'ufw: exit 1\nmore detail') },
    at(5),
  );
  return endRun(record, 'halted', 'batch 1/2: 1 failed, budget 0', at(6));
};
