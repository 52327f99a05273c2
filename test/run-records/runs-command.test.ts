// `casfleet runs` in-process, against a temporary CASFLEET_STATE_DIR. Serial: these tests swap
// process.env and process.stdout.write, which every test of the file shares.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { RUNS_HELP, runsCommand } from '../../src/cli/runs-command.ts';
import type { RunRecord } from '../../src/run-records/run-record.ts';
import { endRun, recordHostResult, resumeRun, startStage } from '../../src/run-records/run-record-updates.ts';
import { runsDir, writeRunRecord } from '../../src/run-records/run-store.ts';
import { at, counts, freshRecord, haltedRecord } from './record-fixture.ts';

const withStateDir = async (records: readonly RunRecord[]): Promise<string> => {
  const state = mkdtempSync(join(tmpdir(), 'casfleet-runs-cli-'));
  for (const record of records) await writeRunRecord(record, join(state, 'runs'));
  return state;
};

/** Run the command with CASFLEET_STATE_DIR set, returning its exit code and stdout. */
const runs = async (state: string, argv: readonly string[]): Promise<{ code: number; stdout: string }> => {
  const previous = process.env.CASFLEET_STATE_DIR;
  const write = process.stdout.write;
  let stdout = '';
  process.env.CASFLEET_STATE_DIR = state;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await runsCommand(argv);
    return { code, stdout };
  } finally {
    process.stdout.write = write;
    if (previous === undefined) delete process.env.CASFLEET_STATE_DIR;
    else process.env.CASFLEET_STATE_DIR = previous;
  }
};

const HALTED = haltedRecord(new Date('2026-11-21T13:08:45Z'), () => 0.3);

const COMPLETED = (() => {
  let record = freshRecord(new Date('2026-11-20T08:00:00Z'), () => 0.5);
  record = { ...record, check: true, playbook: { reference: './playbooks/my-playbook.ts', name: 'my-playbook' } };
  for (const [index, stage] of record.rollout.stages.entries()) {
    record = startStage(record, index, at(index));
    for (const host of stage.hosts) record = recordHostResult(record, host, { counts: counts({ ok: 4 }) }, at(index));
  }
  return endRun(record, 'completed', undefined, at(9));
})();

// A run that was killed: still `running`, written by a pid on this machine that no longer exists.
const STALE = (() => {
  const record = resumeRun(
    haltedRecord(new Date('2026-11-19T08:00:00Z'), () => 0.7),
    { hostname: hostname(), pid: 2 ** 22 + 17 },
    at(99),
  );
  return startStage(record, 1, at(100));
})();

test.serial('the help shows usage and examples', async (t) => {
  const { code, stdout } = await runs('/nonexistent', ['--help']);
  t.is(code, 0);
  t.is(stdout, RUNS_HELP);
  t.regex(stdout, /Usage: casfleet runs/);
  t.regex(stdout, /Examples:\n {2}casfleet runs\n/);
});

test.serial('runs lists records newest first with status, halt reason and host counts', async (t) => {
  const state = await withStateDir([COMPLETED, HALTED, STALE]);
  const { code, stdout } = await runs(state, []);
  t.is(code, 0);
  const lines = stdout.trimEnd().split('\n');
  t.is(lines.length, 3);
  t.true(lines[0]!.startsWith(`${HALTED.id}  `), lines[0]);
  t.regex(lines[0]!, / {2}scenario-a\s+prod\.yml {2}halted \(batch 1\/2: 1 failed, budget 0\)\s+changed 2 · failed 1 · untouched 2$/);
  t.regex(lines[1]!, /my-playbook \(check\)\s+prod\.yml\s+completed\s+ok 5$/);
  t.regex(lines[2]!, /interrupted: its process is gone \(pid \d+\); resumable/);
  t.false(stdout.includes('hunter2'), '-e values are never listed');
  // Columns line up: the status column starts at the same offset on every line.
  t.is(lines[0]!.indexOf('halted'), lines[1]!.indexOf('completed'));
});

test.serial('runs --limit shows the newest N and says how many are older', async (t) => {
  const state = await withStateDir([COMPLETED, HALTED, STALE]);
  const { stdout } = await runs(state, ['--limit', '1']);
  const lines = stdout.trimEnd().split('\n');
  t.is(lines.length, 2);
  t.true(lines[0]!.startsWith(HALTED.id));
  t.is(lines[1], '… 2 older runs (--limit 3 shows all)');
});

test.serial('runs --json summarizes each run without its -e values and lists unreadable files apart', async (t) => {
  const state = await withStateDir([COMPLETED, HALTED]);
  writeFileSync(join(state, 'runs', '20261122T000000Z-0000.json'), '{');
  const { code, stdout } = await runs(state, ['--json']);
  t.is(code, 0);
  const view = JSON.parse(stdout) as {
    dir: string;
    total: number;
    runs: Array<Record<string, unknown>>;
    unreadable: Array<{ id: string; error: string }>;
  };
  t.is(view.dir, runsDir({ CASFLEET_STATE_DIR: state }));
  t.is(view.total, 3);
  t.deepEqual(
    view.runs.map((run) => run.id),
    [HALTED.id, COMPLETED.id],
  );
  t.like(view.runs[0], {
    status: 'halted',
    resumable: true,
    live: false,
    stageReached: 1,
    stages: 3,
    hosts: { ok: 0, changed: 2, failed: 1, unreachable: 0, untouched: 2 },
  });
  t.like(view.runs[1], { status: 'completed', resumable: false, check: true });
  t.false(stdout.includes('hunter2'));
  t.is(view.unreadable[0]!.id, '20261122T000000Z-0000');
  t.regex(view.unreadable[0]!.error, /not valid JSON/);
});

test.serial('runs with no records says where they would be', async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'casfleet-runs-cli-'));
  const { code, stdout } = await runs(state, []);
  t.is(code, 0);
  t.is(stdout, `no runs recorded yet in ${join(state, 'runs')}; 'casfleet apply' records every run\n`);
});

test.serial('runs show and --resume read a record written before errors had kinds', async (t) => {
  const old = { ...HALTED, hosts: { ...HALTED.hosts, 'cas-03': { ...HALTED.hosts['cas-03']!, error: 'ufw: exit 1' } } };
  const state = await withStateDir([old]);
  const { code, stdout } = await runs(state, ['show', 'last']);
  t.is(code, 0);
  t.regex(stdout, / {4}failed {6}cas-03: ufw: exit 1\n/);
  t.regex(stdout, /--resume .*\(runs 3 hosts\)/);
});

test.serial('runs show prints each stage with its hosts by state and how to resume', async (t) => {
  const state = await withStateDir([COMPLETED, HALTED]);
  const { code, stdout } = await runs(state, ['show', 'last']);
  t.is(code, 0);
  t.true(stdout.startsWith(`run ${HALTED.id}: halted (batch 1/2: 1 failed, budget 0)\n`), stdout);
  t.regex(stdout, / {2}limit {7}all:!lab\n/);
  t.regex(stdout, /extra vars {2}-e pairing=… -e sudoPassword=… {3}\(values kept in the record\)/);
  t.false(stdout.includes('hunter2'));
  t.regex(stdout, /stage 1\/3 {2}canary {2}1 host, budget 0\n {4}changed {5}cas-01\n/);
  t.regex(
    stdout,
    /stage 2\/3 {2}batch 1\/2 {2}2 hosts, budget 0 {3}← reached\n {4}changed {5}cas-02\n {4}failed {6}cas-03 \[apply\]: ufw: exit 1\n/,
  );
  t.regex(stdout, /stage 3\/3 {2}batch 2\/2 {2}2 hosts, budget unlimited {3}\(not started\)\n {4}untouched {3}cas-04, cas-05\n/);
  t.regex(
    stdout,
    new RegExp(
      `resume with: casfleet apply scenario-a -i /srv/casfleet/inventories/prod.yml --resume ${HALTED.id} {3}\\(runs 3 hosts\\)\\n$`,
    ),
  );
});

test.serial('runs show of a fully successful run says why it cannot be resumed', async (t) => {
  const state = await withStateDir([COMPLETED, HALTED]);
  const { stdout } = await runs(state, ['show', COMPLETED.id.slice(0, 8)]);
  t.true(stdout.startsWith(`run ${COMPLETED.id}: completed\n`));
  t.regex(stdout, /playbook {4}my-playbook \(\.\/playbooks\/my-playbook\.ts\) {3}\(check mode: nothing was changed\)/);
  t.regex(stdout, /not resumable: run \S+ completed with every host ok; nothing to resume\n$/);
});

test.serial('runs show --json prints the whole record with secret -e values masked', async (t) => {
  const state = await withStateDir([HALTED]);
  const { stdout } = await runs(state, ['show', HALTED.id, '--json']);
  // A record without secretVars (written before they were recorded): names decide.
  t.deepEqual(JSON.parse(stdout), { ...HALTED, extraVars: ['pairing=true', 'sudoPassword=********'] });
  t.false(stdout.includes('hunter2'));
});

test.serial('runs show --json masks the vars the record names secret, and only those', async (t) => {
  // What apply records for a playbook marking `pairing` secret and `sudoPassword` not.
  const record = { ...haltedRecord(new Date('2026-11-22T08:00:00Z'), () => 0.4), secretVars: ['pairing'] };
  const state = await withStateDir([record]);
  const { stdout } = await runs(state, ['show', record.id, '--json']);
  t.deepEqual((JSON.parse(stdout) as RunRecord).extraVars, ['pairing=********', 'sudoPassword=hunter2']);
});

test.serial('an unknown run id or action is a usage error', async (t) => {
  const state = await withStateDir([HALTED]);
  await t.throwsAsync(runs(state, ['show', '1999']), {
    name: 'UsageError',
    message: /no run record '1999' in .*; `casfleet runs` lists them/,
  });
  await t.throwsAsync(runs(state, ['show']), { name: 'UsageError', message: /needs a run id or 'last'/ });
  await t.throwsAsync(runs(state, ['last']), { name: 'UsageError', message: /did you mean 'casfleet runs show last'/ });
  await t.throwsAsync(runs(state, ['--limit', '0']), { name: 'UsageError', message: /--limit takes a whole number/ });
  await t.throwsAsync(runs(state, ['--frobnicate']), { name: 'UsageError', message: /Unknown option '--frobnicate'/ });
});
