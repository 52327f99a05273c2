import { chownSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { z } from 'zod';
import { PlaybookError, TrustError, UsageError } from '../../src/errors.ts';
import { listBuiltinPlaybooks, loadPlaybook } from '../../src/playbook/load-playbook.ts';
import { FLUSH_HANDLERS } from '../../src/steps/step.ts';
import { runCli } from '../helpers/cli.ts';

test('built-in playbooks load by name with everything they declare', async (t) => {
  t.deepEqual(listBuiltinPlaybooks(), ['scenario-a', 'scenario-b']);
  const playbook = await loadPlaybook('scenario-a');
  t.is(playbook.name, 'scenario-a');
  t.is(typeof playbook.exposure, 'function', 'the rollout gates need the declared exposure');
  t.deepEqual(playbook.exposure?.(playbook.vars.parse({}), { sshPort: 22 }), {
    reachable: [22, 12000, 7742, 13000],
    blocked: [7777, 7743, 7741],
  });
});

test('a playbook keeps its default rollout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-playbook-'));
  const file = join(dir, 'rolling.ts');
  writeFileSync(
    file,
    `import { definePlaybook, z } from 'casfleet';\nexport default definePlaybook({ name: 'rolling', description: 'x', vars: z.object({}), steps: () => [], rollout: { canary: 1, batches: ['50%'] } });\n`,
  );
  t.deepEqual((await loadPlaybook(file)).rollout, { canary: 1, batches: ['50%'] });
});

test("a playbook's 'casfleet' is the running casfleet, not a copy its folder would resolve to", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-playbook-'));
  // A module package with a copy of casfleet of its own, which must not be the one loaded.
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
  mkdirSync(join(dir, 'node_modules/casfleet'), { recursive: true });
  writeFileSync(join(dir, 'node_modules/casfleet/package.json'), '{"name": "casfleet", "type": "module", "exports": "./index.js"}\n');
  writeFileSync(join(dir, 'node_modules/casfleet/index.js'), "throw new Error('the project copy of casfleet was loaded');\n");
  writeFileSync(
    join(dir, 'flush.ts'),
    `import { definePlaybook, FLUSH_HANDLERS, z } from 'casfleet';\nexport default definePlaybook({ name: 'flush', description: 'hands back the API it got', vars: z.object({}), steps: () => [FLUSH_HANDLERS] });\n`,
  );
  const playbook = await loadPlaybook(join(dir, 'flush.ts'));
  t.is(playbook.steps({})[0], FLUSH_HANDLERS, 'the very object the runner compares against');
  t.true(playbook.vars instanceof z.ZodObject);
  // The same through the CLI, compiled and from sources, started outside this repository (where no
  // tsconfig paths can help).
  for (const env of [{}, { CASFLEET_FROM_SOURCE: '1' }]) {
    const result = await runCli(['playbooks', './flush.ts'], { cwd: dir, env });
    t.is(result.code, 0, result.stderr);
    t.regex(result.stdout, /^flush: hands back the API it got/);
  }
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

const asRoot = process.getuid?.() === 0 ? test : test.skip;

asRoot('a playbook file someone else owns is refused before it is imported', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-playbook-'));
  const file = join(dir, 'planted.ts');
  const marker = join(dir, 'ran');
  writeFileSync(file, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default {};\n`);
  chownSync(file, 65534, 65534);
  await t.throwsAsync(loadPlaybook(file), {
    instanceOf: TrustError,
    message: new RegExp(`^refusing to use playbook ${file}: it is owned by uid 65534`),
  });
  t.false(existsSync(marker));
});
