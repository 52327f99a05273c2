// Generic step fixture runner (pyinfra style): every test/fixtures/steps/<step>/<case>.json gives the
// step's arguments and facts and exactly one expectation: the changes (summaries, and for each an
// ordered list of substrings of its script, or `"command": null` for a summary-only change), the
// noop reason, or the error. An empty plan is only accepted by a case that says `noop`.
// Facts are given either as the raw output of the fact script (`{"output": [...]}`, parsed by the
// real parser, so fixtures cannot drift from it) or as the parsed value (`{"value": …}`).
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { fileAbsent } from '../../src/steps/file-absent.ts';
import { fileRestored } from '../../src/steps/file-restored.ts';
import { iptablesRemoved } from '../../src/steps/iptables-removed.ts';
import { iptablesRuleSet } from '../../src/steps/iptables-rules.ts';
import { propertiesKey } from '../../src/steps/properties.ts';
import type { Step, StepPlan } from '../../src/steps/step.ts';
import { ufwDisabled } from '../../src/steps/ufw-disabled.ts';
import { ufwRuleSet } from '../../src/steps/ufw-rules.ts';

const STEPS: Readonly<Record<string, (args: never) => Step>> = {
  'ufw.ruleSet': ufwRuleSet,
  'properties.key': propertiesKey,
  'file.absent': fileAbsent,
  'file.restored': fileRestored,
  'iptables.ruleSet': iptablesRuleSet,
  'iptables.removed': iptablesRemoved,
  'ufw.disabled': ufwDisabled,
};

const lines = z.union([z.string(), z.array(z.string())]);
const changeSchema = z
  .object({
    summary: z.string(),
    /** Substrings that must appear, in this order, in the change's script. */
    script: z.array(z.string()).optional(),
    /** null: a summary-only change (its work is done by an earlier change's command). */
    command: z.null().optional(),
    /** The decoded (base64 → Latin-1) stdin, for file writes. */
    stdinText: z.string().optional(),
  })
  .strict();
const caseSchema = z
  .object({
    description: z.string().optional(),
    args: z.unknown(),
    facts: z.record(z.string(), z.union([z.object({ output: lines }).strict(), z.object({ value: z.unknown() }).strict()])).default({}),
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

const inOrder = (script: string, parts: readonly string[]): string | undefined => {
  let from = 0;
  for (const part of parts) {
    const at = script.indexOf(part, from);
    if (at === -1) return `"${part}" not found (in order) in:\n${script}`;
    from = at + part.length;
  }
  return undefined;
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
    problems.push(`summaries ${JSON.stringify(summaries, null, 1)} should be ${JSON.stringify(expected.map((c) => c.summary), null, 1)}`);
  }
  expected.forEach((want, i) => {
    const change = plan.changes[i];
    if (!change) return;
    const empty = change.command.script.trim() === '';
    if (want.command === null && !empty) problems.push(`change ${i} should be summary-only`);
    if (want.command !== null && empty) problems.push(`change ${i} should carry a command`);
    const missing = want.script ? inOrder(change.command.script, want.script) : undefined;
    if (missing) problems.push(`change ${i}: ${missing}`);
    if (want.stdinText !== undefined && Buffer.from(change.stdin ?? '', 'base64').toString('latin1') !== want.stdinText) {
      problems.push(`change ${i} stdin: ${JSON.stringify(Buffer.from(change.stdin ?? '', 'base64').toString('latin1'))}`);
    }
  });
  if (data.diff?.before !== undefined && plan.diff?.before !== data.diff.before) problems.push(`diff.before:\n${plan.diff?.before}`);
  if (data.diff?.after !== undefined && plan.diff?.after !== data.diff.after) problems.push(`diff.after:\n${plan.diff?.after}`);
  return problems;
};

/** Every problem with `data` as a case of step `dir`; [] when the step behaves as the fixture says. */
const runCase = (dir: string, data: StepCase): string[] => {
  const factory = STEPS[dir] as ((args: unknown) => Step) | undefined;
  if (!factory) return [`unknown step ${dir}`];
  const errorProblems = (error: unknown): string[] => {
    const message = error instanceof Error ? error.message : String(error);
    if (data.error === undefined) return [`unexpected error: ${message}`];
    return message.includes(data.error) ? [] : [`error "${message}" should contain "${data.error}"`];
  };
  let step: Step;
  try {
    step = factory(data.args);
  } catch (error) {
    return errorProblems(error);
  }
  const keys = Object.keys(step.facts).sort();
  if (JSON.stringify(Object.keys(data.facts).sort()) !== JSON.stringify(keys)) return [`facts must be exactly ${keys.join(', ')}`];
  const facts = Object.fromEntries(
    Object.entries(step.facts).map(([key, fact]) => {
      const given = data.facts[key];
      return [key, given && 'output' in given ? fact.parse(text(given.output)) : given?.value];
    }),
  );
  let plan: StepPlan;
  try {
    plan = step.plan(facts);
  } catch (error) {
    return errorProblems(error);
  }
  if (data.error !== undefined) return [`expected an error containing "${data.error}", got a plan`];
  return comparePlan(plan, data);
};

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'steps');
const stepDirs = readdirSync(ROOT).sort();

test('every fixture folder names a known step, and every step has fixtures', (t) => {
  t.deepEqual(stepDirs, Object.keys(STEPS).sort());
});

for (const dir of stepDirs) {
  for (const file of readdirSync(join(ROOT, dir)).filter((name) => name.endsWith('.json')).sort()) {
    const data = caseSchema.parse(JSON.parse(readFileSync(join(ROOT, dir, file), 'utf8')));
    test(`${dir}/${file}${data.description ? `: ${data.description}` : ''}`, (t) => {
      t.deepEqual(runCase(dir, data), []);
    });
  }
}

const idempotentSsh = {
  args: { defaultIncoming: 'deny', enabled: true, rules: [{ action: 'allow', port: 22, proto: 'tcp', comment: 'ssh' }] },
  facts: {
    timers: { value: [] },
    network: { value: { interfaces: ['eth0', 'lo'] } },
    session: { value: { family: 'v4', clientAddress: '10.99.0.1', clientPort: 40000, serverAddress: '10.99.1.1', serverPort: 22, interface: 'eth0' } },
    kernel: { output: ['forwarding4 0', 'tables4 begin', '*filter', ':INPUT DROP [0:0]', ':ufw-before-input - [0:0]', ':ufw-user-input - [0:0]', '-A INPUT -j ufw-before-input', '-A ufw-before-input -j ufw-user-input', 'COMMIT', 'tables4 exit 0', 'tables6 no-ipv6', 'end'] },
    ufw: {
      value: {
        installed: true, enabled: true, ipv6: false, defaultIncoming: 'deny', manageBuiltins: false, vpngenRules: false,
        rules: { v4: [{ action: 'allow', log: '', route: false, proto: 'tcp', dport: '22', dst: '0.0.0.0/0', sport: 'any', src: '0.0.0.0/0', direction: 'in', interfaceIn: '', interfaceOut: '', dapp: '', sapp: '', comment: 'casfleet: ssh' }], v6: [] },
        fileRules: { v4: [], v6: [] },
      },
    },
  },
};

test('the runner fails a case that expects changes when the plan is empty', (t) => {
  const problems = runCase('ufw.ruleSet', caseSchema.parse({ ...idempotentSsh, changes: [{ summary: '+ allow 22/tcp (ssh)' }] }));
  t.true(problems.some((problem) => problem.startsWith('empty plan')), JSON.stringify(problems));
  t.deepEqual(runCase('ufw.ruleSet', caseSchema.parse({ ...idempotentSsh, noop: 'in place' })), []);
});

test('a case must state exactly one expectation', (t) => {
  t.throws(() => caseSchema.parse({ args: {}, facts: {} }), { message: /exactly one of changes, noop, error/ });
});
