// Generic step fixture runner (pyinfra style): every test/fixtures/steps/<step>/<case>.json gives the
// step's arguments and facts and exactly one expectation: the changes (summaries, and for each the
// exact script as lines plus the exact stdin, or `"command": null` for a summary-only change), the
// noop reason, or the error. An empty plan is only accepted by a case that says `noop`.
// Facts are given either as the raw output of the fact script (`{"output": [...]}`, parsed by the
// real parser, so fixtures cannot drift from it) or as the parsed value (`{"value": …}`).
// CASFLEET_UPDATE_FIXTURES=1 rewrites the `changes` of every case that expects changes from the
// planner's output (so a reviewer reads the script change as a diff) and logs, per change, the
// earlier expectations the new script no longer contains in order.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { z } from 'zod';
import { pairingWindow } from '../../src/cas/pairing-window.ts';
import { stdinText } from '../../src/command/stdin-parts.ts';
import { fileAbsent } from '../../src/steps/file-absent.ts';
import { fileRestored } from '../../src/steps/file-restored.ts';
import { iptablesRemoved } from '../../src/steps/iptables-removed.ts';
import { iptablesRuleSet } from '../../src/steps/iptables-rules.ts';
import { propertiesKey } from '../../src/steps/properties.ts';
import type { Change, Step, StepPlan } from '../../src/steps/step.ts';
import { ufwDisabled } from '../../src/steps/ufw-disabled.ts';
import { ufwRuleSet } from '../../src/steps/ufw-rules.ts';
import { lineDiff, missingInOrder, UPDATE_FIXTURES } from '../helpers/script-fixture.ts';

const STEPS: Readonly<Record<string, (args: never) => Step>> = {
  'ufw.ruleSet': ufwRuleSet,
  'properties.key': propertiesKey,
  'file.absent': fileAbsent,
  'file.restored': fileRestored,
  'iptables.ruleSet': iptablesRuleSet,
  'iptables.removed': iptablesRemoved,
  'ufw.disabled': ufwDisabled,
  'pairing.window': pairingWindow,
};

const lines = z.union([z.string(), z.array(z.string())]);
const changeSchema = z
  .object({
    summary: z.string(),
    /** The change's exact script, split at newlines (joined with "\n" it is the script byte for byte). */
    script: z.array(z.string()).optional(),
    /** null: a summary-only change (its work is done by an earlier change's command). */
    command: z.null().optional(),
    /** The exact stdin as the script reads it (decoded base64 → Latin-1 when the script decodes it), split at newlines; absent when the change has none. */
    stdin: z.array(z.string()).optional(),
  })
  .strict()
  .refine((c) => (c.command === null) !== (c.script !== undefined), 'a change has either a script or "command": null');
type ChangeCase = z.output<typeof changeSchema>;
/** What the planner is given; the update mode reads only this part of a case. */
const inputSchema = z.object({
  args: z.unknown(),
  facts: z.record(z.string(), z.union([z.object({ output: lines }).strict(), z.object({ value: z.unknown() }).strict()])).default({}),
});
const caseSchema = inputSchema
  .extend({
    description: z.string().optional(),
    changes: z.array(changeSchema).min(1).optional(),
    noop: z.string().optional(),
    error: z.string().optional(),
    /** Substrings of the plan's warnings, one per warning (omitted = no warnings). */
    warnings: z.array(z.string()).optional(),
    diff: z.object({ before: z.string().optional(), after: z.string().optional() }).strict().optional(),
  })
  .strict()
  .refine((c) => [c.changes, c.noop, c.error].filter((x) => x !== undefined).length === 1, 'exactly one of changes, noop, error');

type StepCase = z.output<typeof caseSchema>;

const text = (value: string | string[]): string => (Array.isArray(value) ? `${value.join('\n')}\n` : value);

/** The fixture form of a planned change: what the exact comparison and the update mode share. */
const changeCase = (change: Change): ChangeCase => {
  const script = change.command.script;
  const encoded = script.includes('base64 -d');
  const stdin =
    change.stdin === undefined
      ? undefined
      : (encoded ? Buffer.from(stdinText(change.stdin), 'base64').toString('latin1') : stdinText(change.stdin)).split('\n');
  return {
    summary: change.summary,
    ...(script.trim() === '' ? { command: null } : { script: script.split('\n') }),
    ...(stdin === undefined ? {} : { stdin }),
  };
};

const comparePlan = (plan: StepPlan, data: StepCase): string[] => {
  const problems: string[] = [];
  const warnings = plan.warnings ?? [];
  const expectedWarnings = data.warnings ?? [];
  if (warnings.length !== expectedWarnings.length || expectedWarnings.some((part, i) => !warnings[i]?.includes(part))) {
    problems.push(`warnings ${JSON.stringify(warnings)} do not match ${JSON.stringify(expectedWarnings)}`);
  }
  if (data.noop !== undefined) {
    if (plan.changes.length > 0) problems.push(`expected no change, got ${JSON.stringify(plan.changes.map((c) => c.summary))}`);
    if (!plan.noop?.includes(data.noop)) problems.push(`noop "${plan.noop}" should contain "${data.noop}"`);
    return problems;
  }
  if (plan.changes.length === 0) return [...problems, `empty plan (${plan.noop ?? 'no reason'}) but the fixture expects changes`];
  const expected = data.changes ?? [];
  const summaries = plan.changes.map((change) => change.summary);
  if (JSON.stringify(summaries) !== JSON.stringify(expected.map((c) => c.summary))) {
    problems.push(
      `summaries ${JSON.stringify(summaries, null, 1)} should be ${JSON.stringify(
        expected.map((c) => c.summary),
        null,
        1,
      )}`,
    );
  }
  expected.forEach((want, i) => {
    const change = plan.changes[i];
    if (!change) return;
    const got = changeCase(change);
    if (want.command === null && got.command !== null) problems.push(`change ${i} should be summary-only`);
    if (want.command !== null && got.command === null) problems.push(`change ${i} should carry a command`);
    const scriptDiff = want.script && got.script ? lineDiff(want.script, got.script) : undefined;
    if (scriptDiff) problems.push(`change ${i} script (- fixture, + planned):\n${scriptDiff}`);
    const stdinDiff = lineDiff(want.stdin ?? [], got.stdin ?? []);
    if (stdinDiff || (want.stdin === undefined) !== (got.stdin === undefined)) {
      problems.push(`change ${i} stdin (- fixture, + planned)${got.stdin === undefined ? ': the plan has none' : ''}:\n${stdinDiff ?? ''}`);
    }
  });
  if (data.diff?.before !== undefined && plan.diff?.before !== data.diff.before) problems.push(`diff.before:\n${plan.diff?.before}`);
  if (data.diff?.after !== undefined && plan.diff?.after !== data.diff.after) problems.push(`diff.after:\n${plan.diff?.after}`);
  return problems;
};

type Planned = { readonly plan: StepPlan } | { readonly error: string } | { readonly problems: string[] };

/** Plans step `dir` from the case's arguments and facts (the expectations play no part). */
const planCase = (dir: string, data: z.output<typeof inputSchema>): Planned => {
  const factory = STEPS[dir] as ((args: unknown) => Step) | undefined;
  if (!factory) return { problems: [`unknown step ${dir}`] };
  const failed = (error: unknown): Planned => ({ error: error instanceof Error ? error.message : String(error) });
  let step: Step;
  try {
    step = factory(data.args);
  } catch (error) {
    return failed(error);
  }
  const keys = Object.keys(step.facts).sort();
  if (JSON.stringify(Object.keys(data.facts).sort()) !== JSON.stringify(keys))
    return { problems: [`facts must be exactly ${keys.join(', ')}`] };
  const facts = Object.fromEntries(
    Object.entries(step.facts).map(([key, fact]) => {
      const given = data.facts[key];
      return [key, given && 'output' in given ? fact.parse(text(given.output)) : given?.value];
    }),
  );
  try {
    return { plan: step.plan(facts) };
  } catch (error) {
    return failed(error);
  }
};

/** Every problem with `data` as a case of step `dir`; [] when the step behaves as the fixture says. */
const runCase = (dir: string, data: StepCase): string[] => {
  const planned = planCase(dir, data);
  if ('problems' in planned) return planned.problems;
  if ('error' in planned) {
    if (data.error === undefined) return [`unexpected error: ${planned.error}`];
    return planned.error.includes(data.error) ? [] : [`error "${planned.error}" should contain "${data.error}"`];
  }
  if (data.error !== undefined) return [`expected an error containing "${data.error}", got a plan`];
  return comparePlan(planned.plan, data);
};

const previousChangeSchema = z.object({
  script: z.array(z.string()).optional(),
  stdin: z.array(z.string()).optional(),
  stdinText: z.string().optional(),
});

/**
 * Update mode: rewrites the `changes` of a case that expects changes from what the planner produces
 * now, and returns, per change, the earlier expectations (exact lines or, in older fixtures,
 * substrings) that the new script or stdin no longer contains in order: what a reviewer must judge.
 */
const updateCase = (dir: string, path: string): string[] => {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  if (raw.changes === undefined) return [];
  const planned = planCase(dir, inputSchema.parse(raw));
  if (!('plan' in planned) || planned.plan.changes.length === 0)
    return [`not rewritten: the fixture expects changes, the planner gives ${JSON.stringify(planned)}`];
  const previous = z.array(previousChangeSchema).parse(raw.changes);
  const changes = planned.plan.changes.map(changeCase);
  writeFileSync(path, `${JSON.stringify({ ...raw, changes }, null, 2)}\n`);
  return changes.flatMap((change, i) => {
    const before = previous[i];
    const lost = [
      ...missingInOrder(change.script?.join('\n') ?? '', before?.script ?? []),
      ...missingInOrder(change.stdin?.join('\n') ?? '', before?.stdin ?? (before?.stdinText === undefined ? [] : [before.stdinText])),
    ];
    return lost.length > 0 ? [`change ${i} no longer contains, in order: ${JSON.stringify(lost)}`] : [];
  });
};

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'steps');
const stepDirs = readdirSync(ROOT).sort();
const caseFiles = (dir: string): string[] =>
  readdirSync(join(ROOT, dir))
    .filter((name) => name.endsWith('.json'))
    .sort();

test('every fixture folder names a known step, and every step has fixtures', (t) => {
  t.deepEqual(stepDirs, Object.keys(STEPS).sort());
});

if (UPDATE_FIXTURES) {
  test.serial('update mode: rewrite the expected changes from the planner', (t) => {
    const notes = stepDirs.flatMap((dir) =>
      caseFiles(dir).flatMap((file) => updateCase(dir, join(ROOT, dir, file)).map((note) => `${dir}/${file}: ${note}`)),
    );
    for (const note of notes) t.log(note);
    // A case whose expectation itself no longer holds (now an error or no change) needs a person.
    t.deepEqual(
      notes.filter((note) => note.includes(': not rewritten: ')),
      [],
    );
  });
} else {
  for (const dir of stepDirs) {
    for (const file of caseFiles(dir)) {
      const data = caseSchema.parse(JSON.parse(readFileSync(join(ROOT, dir, file), 'utf8')));
      test(`${dir}/${file}${data.description ? `: ${data.description}` : ''}`, (t) => {
        const problems = runCase(dir, data);
        t.true(problems.length === 0, problems.join('\n\n'));
      });
    }
  }
}

const idempotentSsh = {
  args: { defaultIncoming: 'deny', enabled: true, rules: [{ action: 'allow', port: 22, proto: 'tcp', comment: 'ssh' }] },
  facts: {
    timers: { value: [] },
    network: { value: { interfaces: ['eth0', 'lo'] } },
    session: {
      value: { family: 'v4', clientAddress: '10.99.0.1', clientPort: 40000, serverAddress: '10.99.1.1', serverPort: 22, interface: 'eth0' },
    },
    kernel: {
      output: [
        'forwarding4 0',
        'tables4 begin',
        '*filter',
        ':INPUT DROP [0:0]',
        ':ufw-before-input - [0:0]',
        ':ufw-user-input - [0:0]',
        '-A INPUT -j ufw-before-input',
        '-A ufw-before-input -j ufw-user-input',
        'COMMIT',
        'tables4 exit 0',
        'tables6 no-ipv6',
        'end',
      ],
    },
    ufw: {
      value: {
        installed: true,
        enabled: true,
        ipv6: false,
        defaultIncoming: 'deny',
        manageBuiltins: false,
        vpngenRules: false,
        rules: {
          v4: [
            {
              action: 'allow',
              log: '',
              route: false,
              proto: 'tcp',
              dport: '22',
              dst: '0.0.0.0/0',
              sport: 'any',
              src: '0.0.0.0/0',
              direction: 'in',
              interfaceIn: '',
              interfaceOut: '',
              dapp: '',
              sapp: '',
              comment: 'casfleet: ssh',
            },
          ],
          v6: [],
        },
        fileRules: { v4: [], v6: [] },
        fileFormat: null,
      },
    },
  },
};

test('the runner fails a case that expects changes when the plan is empty', (t) => {
  const problems = runCase(
    'ufw.ruleSet',
    caseSchema.parse({ ...idempotentSsh, changes: [{ summary: '+ allow 22/tcp (ssh)', script: ['ufw allow 22/tcp'] }] }),
  );
  t.true(
    problems.some((problem) => problem.startsWith('empty plan')),
    JSON.stringify(problems),
  );
  t.deepEqual(runCase('ufw.ruleSet', caseSchema.parse({ ...idempotentSsh, noop: 'in place' })), []);
});

test('a case must state exactly one expectation', (t) => {
  t.throws(() => caseSchema.parse({ args: {}, facts: {} }), { message: /exactly one of changes, noop, error/ });
});

test('the runner fails a case whose script or stdin differs by one line, and shows the diff', (t) => {
  const data = caseSchema.parse(JSON.parse(readFileSync(join(ROOT, 'properties.key', 'accept-absent-but-wrong.json'), 'utf8')));
  t.deepEqual(runCase('properties.key', data), []);
  const [change] = data.changes ?? [];
  if (!change?.script || !change.stdin) return t.fail('the case should have a script and stdin');
  const script = change.script.map((line, i) => (i === 1 ? `${line} ` : line));
  const stdin = [...change.stdin, 'extra'];
  const problems = runCase('properties.key', { ...data, changes: [{ ...change, script, stdin }] });
  t.true(
    problems.some((problem) => problem.includes(`- ${script[1]}\n+ ${change.script?.[1]}`)),
    problems.join('\n'),
  );
  t.true(
    problems.some((problem) => problem.includes('stdin') && problem.includes('- extra')),
    problems.join('\n'),
  );
});

test('the update mode reports earlier expectations a new script no longer contains in order', (t) => {
  t.deepEqual(missingInOrder('a\nb\nc', ['a', 'c']), []);
  t.deepEqual(missingInOrder('a\nb\nc', ['c', 'a']), ['a']);
});
