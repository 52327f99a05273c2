// What a playbook builds for a host is checked before any host is contacted: a notify naming no
// handler would otherwise only fail once the host was changed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { gateHandlers, RESTART_GATE } from '../../src/cas/gate-files.ts';
import { hostPlaybookIssues } from '../../src/playbook/host-playbook.ts';
import { propertiesKey } from '../../src/steps/properties.ts';
import { FLUSH_HANDLERS } from '../../src/steps/step.ts';
import { runCli } from '../helpers/cli.ts';

const step = propertiesKey({ file: '/batm/config/gate.properties', key: 'batm.processing-slots', value: '20' });

test('steps whose notify names are handlers of the playbook pass', (t) => {
  t.deepEqual(hostPlaybookIssues('p', [{ ...step, notify: [RESTART_GATE] }, FLUSH_HANDLERS], gateHandlers()), []);
  t.deepEqual(hostPlaybookIssues('p', [step], {}), []);
});

test('a notify naming no handler is named with its step and the closest handler', (t) => {
  t.deepEqual(hostPlaybookIssues('gate-slots', [FLUSH_HANDLERS, { ...step, notify: ['restart gaet'] }], gateHandlers()), [
    {
      path: `steps[1]('${step.name}').notify[0]`,
      message: `notifies 'restart gaet', which is no handler of playbook gate-slots (did you mean '${RESTART_GATE}'?); its handlers: '${RESTART_GATE}'`,
    },
  ]);
  t.deepEqual(hostPlaybookIssues('gate-slots', [{ ...step, notify: ['reload'] }], {}), [
    {
      path: `steps[0]('${step.name}').notify[0]`,
      message: "notifies 'reload', which is no handler of playbook gate-slots; it has no handlers",
    },
  ]);
});

test('steps that are not an array of steps, or handlers that are not handlers, are refused', (t) => {
  t.deepEqual(hostPlaybookIssues('p', { step }, {}), [{ path: 'steps', message: 'must return an array of steps (and FLUSH_HANDLERS)' }]);
  t.deepEqual(
    hostPlaybookIssues('p', [step, 'restart gate', { name: 'x', facts: {} }], {}).map((issue) => `${issue.path}: ${issue.message}`),
    [
      'steps[1]: must be a step (an object with name, facts and plan) or FLUSH_HANDLERS',
      'steps[2].plan: must be a function (facts) => plan',
    ],
  );
  t.deepEqual(
    hostPlaybookIssues('p', [], { 'restart gate': 'systemctl restart batm-gate' }).map((issue) => `${issue.path}: ${issue.message}`),
    ['handlers.restart gate: must be a handler (an object with name, command, facts and check)'],
  );
});

const playbookFile = (body: string): string => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-host-playbook-'));
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
  writeFileSync(join(dir, 'inventory.yml'), 'all:\n  hosts:\n    cas-01:\n      ansible_host: 192.0.2.10\n');
  writeFileSync(join(dir, 'typo.ts'), body);
  return dir;
};

// 192.0.2.10 is TEST-NET-1: never contacted, the run is refused first.
test('apply refuses a notify naming no handler with exit 1, before connecting anywhere', async (t) => {
  const dir = playbookFile(
    `import { definePlaybook, propertiesKey, restartBatmService, z } from 'casfleet';
export default definePlaybook({
  name: 'typo',
  description: 'notifies a misspelt handler',
  vars: z.object({}),
  steps: () => [{ ...propertiesKey({ file: '/batm/config/gate.properties', key: 'k', value: 'v' }), notify: ['restart gaet'] }],
  handlers: () => ({ 'restart gate': restartBatmService('gate') }),
});
`,
  );
  const result = await runCli(['apply', './typo.ts', '-i', 'inventory.yml', '--yes'], { cwd: dir, timeoutMs: 60_000 });
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /playbook typo built steps for cas-01 that cannot run/);
  t.regex(
    result.stderr,
    /hosts\.cas-01\.steps\[0\]\('[^']+'\)\.notify\[0\]: notifies 'restart gaet', which is no handler of playbook typo \(did you mean 'restart gate'\?\)/,
  );
  t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
});

test('apply refuses steps that are not an array', async (t) => {
  const dir = playbookFile(
    `import { definePlaybook, z } from 'casfleet';
export default definePlaybook({ name: 'typo', description: 'x', vars: z.object({}), steps: (() => ({})) as never });
`,
  );
  const result = await runCli(['plan', './typo.ts', '-i', 'inventory.yml'], { cwd: dir, timeoutMs: 60_000 });
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /hosts\.cas-01\.steps: must return an array of steps/);
});
