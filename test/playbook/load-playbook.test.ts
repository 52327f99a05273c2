import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { PlaybookError, UsageError } from '../../src/errors.ts';
import { listBuiltinPlaybooks, loadPlaybook } from '../../src/playbook/load-playbook.ts';

test('built-in playbooks load by name with everything they declare', async (t) => {
  t.deepEqual(listBuiltinPlaybooks(), ['scenario-a', 'scenario-b']);
  const playbook = await loadPlaybook('scenario-a');
  t.is(playbook.name, 'scenario-a');
  t.is(typeof playbook.exposure, 'function', 'the rollout gates need the declared exposure');
  t.deepEqual(playbook.exposure?.(playbook.vars.parse({}), { sshPort: 22 }), { reachable: [22, 12000, 7742, 13000], blocked: [7777, 7743, 7741] });
});

test('a playbook keeps its default rollout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-playbook-'));
  const file = join(dir, 'rolling.ts');
  const api = new URL('../../src/index.ts', import.meta.url).pathname;
  writeFileSync(file, `import { definePlaybook, z } from '${api}';\nexport default definePlaybook({ name: 'rolling', description: 'x', vars: z.object({}), steps: () => [], rollout: { canary: 1, batches: ['50%'] } });\n`);
  t.deepEqual((await loadPlaybook(file)).rollout, { canary: 1, batches: ['50%'] });
});

test('a misspelt key or a missing function is a validation error naming it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-playbook-'));
  const file = join(dir, 'bad.ts');
  writeFileSync(file, `export default { name: 'bad', description: '', vars: {}, step: () => [] };\n`);
  const error = await t.throwsAsync(loadPlaybook(file), { instanceOf: PlaybookError });
  t.regex(error.message, /default\.vars: must be a zod object schema/);
  t.regex(error.message, /default\.steps: must be a function/);
  t.regex(error.message, /Unrecognized key: "step"/);
});

test('an unknown built-in name lists the ones there are', async (t) => {
  await t.throwsAsync(loadPlaybook('scenario-c'), { instanceOf: UsageError, message: /built-in playbooks: scenario-a, scenario-b/ });
});
