import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadConfig } from '../../src/config/load-config.ts';
import { ConfigError } from '../../src/errors.ts';

const projectWith = (files: Record<string, string>): string => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-config-'));
  writeFileSync(join(dir, 'package.json'), '{"name":"ops"}');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};

test('no config file means no overrides', async (t) => {
  t.deepEqual(await loadConfig(projectWith({})), { config: {} });
});

test('a YAML config is found and validated', async (t) => {
  const dir = projectWith({ 'casfleet.config.yaml': 'forks: 20\nuser: ops\n' });
  const loaded = await loadConfig(dir);
  t.deepEqual(loaded.config, { forks: 20, user: 'ops' });
  t.is(loaded.file, join(dir, 'casfleet.config.yaml'));
});

test('a TypeScript config loads without a build step', async (t) => {
  const dir = projectWith({ 'casfleet.config.ts': 'const forks: number = 7;\nexport default { forks };\n' });
  t.deepEqual((await loadConfig(dir)).config, { forks: 7 });
});

test('config errors point at file:line:col, including unknown keys', async (t) => {
  const dir = projectWith({ '.casfleetrc.yaml': 'forks: 0\nknownhosts: ~/.ssh/kh\n' });
  const error = await t.throwsAsync(loadConfig(dir), { instanceOf: ConfigError });
  t.regex(error.message, /\.casfleetrc\.yaml:1:8: forks: Too small/);
  t.regex(error.message, /\.casfleetrc\.yaml:2:1: knownhosts: Unrecognized key/);
});
