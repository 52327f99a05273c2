import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadConfig } from '../../src/config/load-config.ts';
import { ConfigError, TrustError } from '../../src/errors.ts';
import { runCli } from '../helpers/cli.ts';

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

// ---- where configs are searched, and who may have written them ------------------------------------

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0 ? test : test.skip;

/** A directory tree without package.json or .git anywhere, like a scratch folder under /tmp. */
const bareTree = (): string => mkdtempSync(join(tmpdir(), 'casfleet-search-'));

// Code that shows whether it ran: a planted .casfleetrc.mjs would run with the operator's rights.
const markerConfig = (marker: string): string =>
  `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default { forks: 3 };\n`;

test('a .casfleetrc.mjs planted in a parent directory outside home and any repository is never loaded', async (t) => {
  const root = bareTree();
  const marker = join(root, 'ran');
  writeFileSync(join(root, '.casfleetrc.mjs'), markerConfig(marker));
  const cwd = join(root, 'one-off');
  mkdirSync(cwd);
  t.deepEqual(await loadConfig(cwd, undefined, '/nonexistent-home'), { config: {} });
  t.false(existsSync(marker), 'the planted config ran');
});

test('the search stops at the home directory', async (t) => {
  const root = bareTree();
  const home = join(root, 'home');
  mkdirSync(join(home, 'ops'), { recursive: true });
  writeFileSync(join(root, '.casfleetrc.yaml'), 'forks: 9\n');
  t.deepEqual(await loadConfig(join(home, 'ops'), undefined, home), { config: {} });
  writeFileSync(join(home, '.casfleetrc.yaml'), 'forks: 4\n');
  t.deepEqual((await loadConfig(join(home, 'ops'), undefined, home)).config, { forks: 4 });
});

test('the search stops at the repository root (.git or package.json), whichever comes before home', async (t) => {
  const root = bareTree();
  const repo = join(root, 'repo');
  mkdirSync(join(repo, '.git'), { recursive: true });
  mkdirSync(join(repo, 'inventories'));
  writeFileSync(join(root, 'casfleet.config.json'), '{"forks": 9}');
  t.deepEqual(await loadConfig(join(repo, 'inventories'), undefined, root), { config: {} });
  writeFileSync(join(repo, 'casfleet.config.json'), '{"forks": 5}');
  t.deepEqual((await loadConfig(join(repo, 'inventories'), undefined, root)).config, { forks: 5 });
});

asRoot('a config someone else owns stops the command with an error naming the file and why', async (t) => {
  const dir = projectWith({ '.casfleetrc.mjs': markerConfig('/nonexistent/never') });
  const file = join(dir, '.casfleetrc.mjs');
  chownSync(file, NOBODY, NOBODY);
  await t.throwsAsync(loadConfig(dir), {
    instanceOf: TrustError,
    message: new RegExp(`^refusing to use config file ${file}: it is owned by uid ${NOBODY}`),
  });
});

asRoot('a config in a group-writable directory is refused, and so is an explicit --config file', async (t) => {
  const dir = projectWith({ 'casfleet.config.yaml': 'forks: 2\n' });
  chmodSync(dir, 0o775);
  const file = join(dir, 'casfleet.config.yaml');
  const why = new RegExp(`^refusing to use config file ${file}: the directory ${dir} above it is writable by its group \\(mode 0775\\)`);
  await t.throwsAsync(loadConfig(dir), { instanceOf: TrustError, message: why });
  await t.throwsAsync(loadConfig(tmpdir(), file), { instanceOf: TrustError, message: why });
});

asRoot('a file a config $imports must pass the same rule', async (t) => {
  const dir = projectWith({ 'casfleet.config.json': '{"$import": "shared.json"}', 'shared.json': '{"forks": 8}' });
  t.deepEqual((await loadConfig(dir)).config, { forks: 8 });
  chownSync(join(dir, 'shared.json'), NOBODY, NOBODY);
  await t.throwsAsync(loadConfig(dir), { instanceOf: TrustError, message: /shared\.json: it is owned by uid 65534/ });
});

asRoot('casfleet plan exits 1 on an untrusted config, before any host is contacted', async (t) => {
  const dir = projectWith({
    '.casfleetrc.yaml': 'forks: 2\n',
    'inventory.yml': 'all:\n  hosts:\n    cas-01:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n',
  });
  chmodSync(join(dir, '.casfleetrc.yaml'), 0o666);
  const result = await runCli(['plan', 'scenario-a', '-i', 'inventory.yml'], { cwd: dir });
  t.is(result.code, 1, result.stdout + result.stderr);
  t.regex(result.stderr, /refusing to use config file .*\.casfleetrc\.yaml: it is writable by others \(mode 0666\)/);
});
