import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { sh } from '../../src/command/shell.ts';
import { StepPlanError } from '../../src/errors.ts';
import type { Fact } from '../../src/facts/fact.ts';
import type { RunEvent, StepResultEvent } from '../../src/report/events.ts';
import { runHost } from '../../src/run/host-pipeline.ts';
import { HostSession } from '../../src/run/host-session.ts';
import type { ExecResult } from '../../src/ssh/connection.ts';
import { defineHandler, defineStep, FLUSH_HANDLERS, type Handler, noChange, type Step } from '../../src/steps/step.ts';
import { createLocalConnection } from '../helpers/local-connection.ts';

const contentFact = (path: string): Fact<string | null> => ({
  id: `content:${path}`,
  script: sh`if [ -e ${path} ]; then cat ${path}; else echo '<absent>'; fi`.script,
  parse: (output) => (output === '<absent>\n' ? null : output),
});

const fileHas = (path: string, content: string, notify: string[] = []): Step =>
  defineStep({
    name: `file ${path}`,
    facts: { file: contentFact(path) },
    notify,
    plan: ({ file }) =>
      file === content
        ? noChange('content already as wanted')
        : { changes: [{ summary: `write ${path}`, command: sh`cat > ${path}`, stdin: content }] },
  });

const appendLog = (log: string): Handler =>
  defineHandler({
    name: 'reload',
    command: sh`echo reloaded >> ${log}`,
    facts: { log: contentFact(log) },
    check: ({ log: text }) => (text?.includes('reloaded') ? undefined : 'reload left no trace'),
  });

const run = async (steps: Parameters<typeof runHost>[0]['items'], handlers: Record<string, Handler>, check = false) => {
  const events: RunEvent[] = [];
  const connection = createLocalConnection();
  const session = new HostSession(connection, { become: { enabled: false }, gatherTimeoutMs: 10_000, applyTimeoutMs: 10_000 });
  const counts = await runHost({
    host: 'h1',
    items: steps,
    handlers,
    session,
    options: { check, diff: false },
    emit: (e) => events.push(e),
  });
  const results = events.filter((e): e is StepResultEvent => e.type === 'step');
  return { counts, results, execs: connection.scripts.length };
};

const tempDir = () => mkdtempSync(join(tmpdir(), 'casfleet-pipeline-'));

test('changes are applied, verified, and a re-run changes nothing', async (t) => {
  const dir = tempDir();
  const steps = [fileHas(join(dir, 'a'), 'A\n'), fileHas(join(dir, 'b'), 'B\n')];
  const first = await run(steps, {});
  t.deepEqual(first.counts, { ok: 2, changed: 2, failed: 0, unreachable: 0, skipped: 0, untouched: 0, rolledBack: 0 });
  t.is(readFileSync(join(dir, 'a'), 'utf8'), 'A\n');
  t.is(first.execs, 1, 'the changes (and their re-reads) ride in the gather exec, even without a transaction');
  const second = await run(steps, {});
  t.deepEqual(second.counts, { ok: 2, changed: 0, failed: 0, unreachable: 0, skipped: 0, untouched: 0, rolledBack: 0 });
  t.is(second.execs, 1, 'a no-op run is a single exec');
  t.is(second.results[0]?.reason, 'content already as wanted');
});

test('a handler notified by two changed steps runs exactly once, after them', async (t) => {
  const dir = tempDir();
  const log = join(dir, 'log');
  const steps = [fileHas(join(dir, 'a'), 'A', ['reload']), fileHas(join(dir, 'b'), 'B', ['reload'])];
  const { results } = await run(steps, { reload: appendLog(log) });
  t.is(readFileSync(log, 'utf8'), 'reloaded\n');
  t.deepEqual(
    results.map((r) => `${r.kind}:${r.status}`),
    ['step:changed', 'step:changed', 'handler:changed'],
  );
  const again = await run(steps, { reload: appendLog(log) });
  t.is(readFileSync(log, 'utf8'), 'reloaded\n', 'no change, no handler');
  t.is(again.results.length, 2);
});

test('flush_handlers runs notified handlers before the next step', async (t) => {
  const dir = tempDir();
  const log = join(dir, 'log');
  const { results } = await run([fileHas(join(dir, 'a'), 'A', ['reload']), FLUSH_HANDLERS, fileHas(join(dir, 'b'), 'B')], {
    reload: appendLog(log),
  });
  t.deepEqual(
    results.map((r) => r.step),
    [`file ${join(dir, 'a')}`, 'reload', `file ${join(dir, 'b')}`],
  );
});

test('check mode reports what would change and changes nothing', async (t) => {
  const dir = tempDir();
  const log = join(dir, 'log');
  const { counts, results, execs } = await run([fileHas(join(dir, 'a'), 'A', ['reload'])], { reload: appendLog(log) }, true);
  t.false(existsSync(join(dir, 'a')));
  t.false(existsSync(log));
  t.is(execs, 1);
  t.is(counts.changed, 2);
  t.true(results.every((r) => r.check));
});

test('a failing change fails the step, skips later steps, and still runs notified handlers', async (t) => {
  const dir = tempDir();
  const log = join(dir, 'log');
  const failing = defineStep({
    name: 'broken',
    facts: {},
    plan: () => ({ changes: [{ summary: 'fail on purpose', command: sh`echo nope >&2; exit 4` }] }),
  });
  const { counts, results } = await run([fileHas(join(dir, 'a'), 'A', ['reload']), failing, fileHas(join(dir, 'b'), 'B')], {
    reload: appendLog(log),
  });
  t.deepEqual(
    results.map((r) => r.status),
    ['changed', 'failed', 'skipped', 'changed'],
  );
  t.is(results[1]?.error?.kind, 'apply');
  t.regex(results[1]?.error?.message ?? '', /'fail on purpose' failed \(exit 4\): nope/);
  t.is(results[2]?.reason, "host failed at 'broken'");
  t.deepEqual(counts, { ok: 2, changed: 2, failed: 1, unreachable: 0, skipped: 1, untouched: 0, rolledBack: 0 });
  t.true(existsSync(log), 'the config changed, so the restart still happened');
});

test('a step whose change does not reach the desired state is failed, not changed', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'stubborn');
  const stubborn = defineStep({
    name: 'stubborn',
    facts: { file: contentFact(path) },
    plan: ({ file }) =>
      file === 'wanted' ? noChange('ok') : { changes: [{ summary: 'write the wrong thing', command: sh`echo other > ${path}` }] },
  });
  const { results } = await run([stubborn], {});
  t.is(results[0]?.status, 'failed');
  t.is(results[0]?.error?.kind, 'verify');
  t.regex(results[0]?.error?.message ?? '', /did not reach the desired state; still to change: write the wrong thing/);
});

test('an unreadable fact fails the steps that need it with the reason', async (t) => {
  const broken: Fact<string> = { id: 'broken', script: 'exit 7', parse: (output) => output };
  const step = defineStep({ name: 'needs broken', facts: { broken }, plan: () => noChange('never') });
  const { results } = await run([step], {});
  t.is(results[0]?.status, 'failed');
  t.is(results[0]?.error?.kind, 'fact');
  t.regex(results[0]?.error?.message ?? '', /fact broken: its script exited 7/);
});

test('stdin reaches the change command unchanged', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'binary-ish');
  const content = 'quotes \' " $HOME `x` \\ and unicode € ✓\n'.repeat(100);
  await run([fileHas(path, content)], {});
  t.is(readFileSync(path, 'utf8'), content);
});

test('a step that can never be planned stops the host before any step changes it', async (t) => {
  const dir = tempDir();
  const impossible = defineStep({
    name: 'impossible',
    facts: {},
    plan: () => {
      throw new StepPlanError('no backup to restore');
    },
  });
  const { results } = await run([fileHas(join(dir, 'a'), 'A'), impossible], {});
  t.false(existsSync(join(dir, 'a')), 'the first step did not run');
  t.deepEqual(
    results.map((r) => `${r.step}:${r.status}`),
    ['impossible:failed', `file ${join(dir, 'a')}:skipped`],
  );
  t.is(results[0]?.error?.kind, 'plan');
  t.regex(results[0]?.error?.message ?? '', /no backup to restore \(nothing was changed on this host\)/);
});

test('a planner that throws a TypeError is an internal error with its stack, not the step refusing', async (t) => {
  const buggy = defineStep({
    name: 'buggy',
    facts: {},
    plan: () => ((undefined as unknown as { rules: string[] }).rules.length === 0 ? noChange('never') : noChange('never')),
  });
  const { results } = await run([buggy], {});
  const error = results[0]?.error;
  t.is(error?.kind, 'internal');
  t.regex(
    error?.message ?? '',
    /^internal error in the planner of 'buggy': TypeError: .*rules.* \(a bug in casfleet or the playbook's code, not a refusal/,
  );
  t.regex(error?.stack ?? '', /^TypeError: [\s\S]*host-pipeline\.test\.ts/, 'the stack points at the planner');
});

test('a step that reads what an earlier step changes is judged after that change', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'config');
  const needsConfig = defineStep({
    name: 'needs config',
    facts: { file: contentFact(path) },
    plan: ({ file }) => {
      if (file === null) throw new StepPlanError('config missing');
      return noChange('config present');
    },
  });
  const { results } = await run([fileHas(path, 'x'), needsConfig], {});
  t.deepEqual(
    results.map((r) => r.status),
    ['changed', 'ok'],
  );
});

// The transaction hook: where runHost begins it, and what a failure inside it changes. `command`
// is what the gather's exec runs when the host changes; `begin` sends it (run) or not.
const runInTransaction = async (
  steps: Parameters<typeof runHost>[0]['items'],
  handlers: Record<string, Handler>,
  begin: (run: () => Promise<ExecResult>) => Promise<void>,
  check = false,
  command = sh`echo begun`,
) => {
  const events: RunEvent[] = [];
  const connection = createLocalConnection();
  const session = new HostSession(connection, { become: { enabled: false }, gatherTimeoutMs: 10_000, applyTimeoutMs: 10_000 });
  const counts = await runHost({
    host: 'h1',
    items: steps,
    handlers,
    session,
    options: { check, diff: false },
    emit: (e) => events.push(e),
    transaction: { command, begin },
  });
  return { counts, results: events.filter((e): e is StepResultEvent => e.type === 'step'), scripts: connection.scripts };
};

test("a transaction begins once, in the gather's exec, before the first change, only when something changes", async (t) => {
  const dir = tempDir();
  const steps = [fileHas(join(dir, 'a'), 'A'), fileHas(join(dir, 'b'), 'B')];
  const begun = join(dir, 'begun');
  const command = sh`echo begun >>${begun}; echo armed`;
  const begins: ExecResult[] = [];
  const first = await runInTransaction(
    steps,
    {},
    async (run) => {
      begins.push(await run());
      t.false(existsSync(join(dir, 'a')), 'nothing changed yet');
    },
    false,
    command,
  );
  t.is(begins.length, 1);
  t.like(begins[0], { stdout: 'armed\n', code: 0 });
  t.is(readFileSync(begun, 'utf8'), 'begun\n');
  t.is(first.counts.changed, 2);
  t.is(first.scripts.length, 3, 'one exec for the gather and the begin, one per change');
  const again = await runInTransaction(steps, {}, async (run) => void begins.push(await run()), false, command);
  t.is(begins.length, 1, 'a run that changes nothing begins no transaction');
  t.is(again.counts.changed, 0);
  t.is(again.scripts.length, 1);
  await runInTransaction([fileHas(join(dir, 'c'), 'C')], {}, async (run) => void begins.push(await run()), true, command);
  t.is(begins.length, 1, 'check mode begins none');
  t.is(readFileSync(begun, 'utf8'), 'begun\n', 'and the host ran the begin command once');
});

test('a transaction that cannot begin leaves the host untouched', async (t) => {
  const dir = tempDir();
  const { counts, results } = await runInTransaction([fileHas(join(dir, 'a'), 'A')], {}, async (run) => {
    await run();
    throw new Error('could not snapshot the host');
  });
  t.false(existsSync(join(dir, 'a')));
  t.deepEqual(
    results.map((r) => `${r.kind}:${r.status}`),
    ['transaction:failed', 'step:skipped'],
  );
  t.is(results[0]?.error?.kind, 'apply');
  t.regex(results[0]?.error?.message ?? '', /could not snapshot the host \(nothing was changed on this host\)/);
  t.is(counts.failed, 1);
});

test('inside a transaction a failed step skips the handlers (the rollback restarts instead)', async (t) => {
  const dir = tempDir();
  const log = join(dir, 'log');
  const failing = defineStep({ name: 'broken', facts: {}, plan: () => ({ changes: [{ summary: 'fail', command: sh`exit 4` }] }) });
  const { results } = await runInTransaction(
    [fileHas(join(dir, 'a'), 'A', ['reload']), failing],
    { reload: appendLog(log) },
    async () => undefined,
  );
  t.deepEqual(
    results.map((r) => `${r.kind}:${r.status}`),
    ['step:changed', 'step:failed', 'handler:skipped'],
  );
  t.is(results[2]?.reason, 'the transaction rolls back instead');
  t.false(existsSync(log));
});

test("a failed handler stops the host's later steps, as a failed step does", async (t) => {
  const dir = tempDir();
  const broken = defineHandler({ name: 'reload', command: sh`echo no >&2; exit 1`, facts: {}, check: () => undefined });
  const { results } = await run([fileHas(join(dir, 'a'), 'A', ['reload']), FLUSH_HANDLERS, fileHas(join(dir, 'b'), 'B')], {
    reload: broken,
  });
  t.deepEqual(
    results.map((r) => `${r.kind}:${r.status}`),
    ['step:changed', 'handler:failed', 'step:skipped'],
  );
  t.is(results[2]?.reason, "host failed at handler 'reload'");
  t.false(existsSync(join(dir, 'b')));
});

test('the host is announced as changing, and the write-ahead awaited, before its first change command and only then', async (t) => {
  const dir = tempDir();
  const events: RunEvent[] = [];
  const connection = createLocalConnection();
  const session = new HostSession(connection, { become: { enabled: false }, gatherTimeoutMs: 10_000, applyTimeoutMs: 10_000 });
  const seen: string[] = [];
  const steps = [fileHas(join(dir, 'a'), 'A'), fileHas(join(dir, 'b'), 'B')];
  const beforeFirstChange = async () => {
    seen.push(`write-ahead after ${events.at(-1)?.type === 'host-stage' ? (events.at(-1) as { stage: string }).stage : 'other'}`);
    t.false(existsSync(join(dir, 'a')), 'nothing changed yet');
  };
  await runHost({
    host: 'h1',
    items: steps,
    handlers: {},
    session,
    options: { check: false, diff: false },
    emit: (e) => events.push(e),
    beforeFirstChange,
  });
  t.deepEqual(seen, ['write-ahead after changing']);
  t.is(events.filter((e) => e.type === 'host-stage' && e.stage === 'changing').length, 1);
  await runHost({
    host: 'h1',
    items: steps,
    handlers: {},
    session,
    options: { check: false, diff: false },
    emit: (e) => events.push(e),
    beforeFirstChange,
  });
  await runHost({
    host: 'h1',
    items: [fileHas(join(dir, 'c'), 'C')],
    handlers: {},
    session,
    options: { check: true, diff: false },
    emit: (e) => events.push(e),
    beforeFirstChange,
  });
  t.is(seen.length, 1, 'neither a run that changes nothing nor a check run announces a change');
});

/** `reload` as above, runnable only while `tool` exists. */
const reloadNeeding = (log: string, tool: string): Handler =>
  defineHandler({
    ...appendLog(log),
    preflight: {
      facts: { tool: contentFact(tool) },
      check: ({ tool: text }) => (text === null ? `${tool} is missing` : undefined),
    },
  });

test('a handler whose preflight fails stops the host untouched, before the transaction and any change', async (t) => {
  const dir = tempDir();
  const log = join(dir, 'log');
  let begun = 0;
  const events: RunEvent[] = [];
  const connection = createLocalConnection();
  const session = new HostSession(connection, { become: { enabled: false }, gatherTimeoutMs: 10_000, applyTimeoutMs: 10_000 });
  const counts = await runHost({
    host: 'h1',
    items: [fileHas(join(dir, 'a'), 'A', ['reload']), fileHas(join(dir, 'b'), 'B')],
    handlers: { reload: reloadNeeding(log, join(dir, 'tool')) },
    session,
    options: { check: false, diff: false },
    emit: (e) => events.push(e),
    transaction: { command: sh`true`, begin: async () => void begun++ },
  });
  const results = events.filter((e): e is StepResultEvent => e.type === 'step');
  t.false(existsSync(join(dir, 'a')));
  t.false(existsSync(join(dir, 'b')));
  t.is(begun, 0, 'no transaction began');
  t.is(counts.failed, 1);
  t.deepEqual(
    results.map((r) => `${r.kind}:${r.step.replace(dir, '')}:${r.status}`),
    ['handler:reload:failed', 'step:file /a:skipped', 'step:file /b:skipped'],
  );
  t.regex(results[0]?.error?.message ?? '', /tool is missing \(nothing was changed on this host\)/);
  t.is(connection.scripts.length, 1, 'the preflight facts came with the gather: no exec more');
});

test('a handler preflight is read with the gather and checked only when a step that notifies it will change', async (t) => {
  const dir = tempDir();
  const log = join(dir, 'log');
  const tool = join(dir, 'tool');
  const steps = [fileHas(join(dir, 'a'), 'A', ['reload'])];
  const first = await run(steps, { reload: reloadNeeding(log, tool) });
  t.is(first.counts.failed, 1, 'refused while the tool is missing');
  writeFileSync(tool, 'present\n');
  const second = await run(steps, { reload: reloadNeeding(log, tool) });
  t.is(second.counts.changed, 2, 'the step and the handler');
  t.is(
    second.execs,
    2,
    'gather (preflight facts included) and the handler in one, the change (its content ends without a newline) in its own',
  );
  rmSync(tool);
  const third = await run(steps, { reload: reloadNeeding(log, tool) });
  t.is(third.counts.failed, 0, 'nothing to change: the missing tool does not matter');
  t.is(third.execs, 1);
});
