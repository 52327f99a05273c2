// casfleet init: a starter project whose every file works as written (inventory, config, playbook,
// package.json), and never a file overwritten.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadConfig } from '../../src/config/load-config.ts';
import { loadInventory } from '../../src/inventory/load-inventory.ts';
import { packageInfo } from '../../src/package-info.ts';
import { runCli } from '../helpers/cli.ts';

const STARTER = ['inventory.yml', 'group_vars/hardware_vpn.yml', 'playbooks/gate-slots.ts', 'casfleet.config.yaml', 'package.json'];

test('init DIR writes a project whose inventory, config and playbook load as they are', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'casfleet-init-')), 'My Fleet');
  const result = await runCli(['init', dir]);
  t.is(result.code, 0, result.stderr);
  for (const file of STARTER) t.true(existsSync(join(dir, file)), file);
  t.regex(result.stdout, /playbooks\/gate-slots\.ts +an example playbook/);

  t.deepEqual(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')), {
    name: 'my-fleet',
    private: true,
    type: 'module',
    description: 'Inventory and playbooks for casfleet',
    dependencies: { casfleet: `^${packageInfo().version}` },
  });
  const inventory = await loadInventory(join(dir, 'inventory.yml'));
  t.deepEqual(inventory.hosts.get('cas-nyc-01')?.vars.hardwareVpnSubnets, ['10.8.0.0/24'], 'group_vars/ beside the inventory applies');
  const { config, file } = await loadConfig(dir);
  t.is(file, join(dir, 'casfleet.config.yaml'));
  t.is(config.forks, 50);

  // The example playbook imports 'casfleet' with no node_modules in the project.
  const playbook = await runCli(['playbooks', 'playbooks/gate-slots.ts'], { cwd: dir });
  t.is(playbook.code, 0, playbook.stderr);
  t.regex(playbook.stdout, /^gate-slots: .*\n\nvars:\n {2}slots: integer \(default 20\)/);
  const plan = await runCli(['apply', 'playbooks/gate-slots.ts', '-i', 'inventory.yml', '-e', 'slots=0'], { cwd: dir });
  t.is(plan.code, 1, 'vars are validated before any of the example servers would be contacted');
  t.regex(plan.stderr, /slots/);
});

test('init never overwrites: one file in the way and nothing is written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-init-'));
  mkdirSync(join(dir, 'playbooks'));
  writeFileSync(join(dir, 'playbooks', 'gate-slots.ts'), '// mine\n');
  const result = await runCli(['init'], { cwd: dir });
  t.is(result.code, 1);
  t.regex(result.stderr, /already has playbooks\/gate-slots\.ts: nothing was written/);
  t.is(readFileSync(join(dir, 'playbooks', 'gate-slots.ts'), 'utf8'), '// mine\n');
  for (const file of STARTER.filter((name) => name !== 'playbooks/gate-slots.ts')) t.false(existsSync(join(dir, file)), file);
});

test('init into a file, or where a file stands in for one of its directories, writes nothing and exits 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-init-'));
  writeFileSync(join(dir, 'notes'), 'mine\n');
  const file = await runCli(['init', 'notes'], { cwd: dir });
  t.is(file.code, 1, file.stderr);
  t.is(file.stderr, 'casfleet: notes is a file where casfleet init needs a directory: nothing was written\n');
  const below = await runCli(['init', 'notes/fleet'], { cwd: dir });
  t.is(below.code, 1, below.stderr);
  t.regex(below.stderr, /notes is a file where casfleet init needs a directory: nothing was written/);

  mkdirSync(join(dir, 'fleet'));
  writeFileSync(join(dir, 'fleet', 'playbooks'), 'mine\n');
  const playbooks = await runCli(['init', 'fleet'], { cwd: dir });
  t.is(playbooks.code, 1, playbooks.stderr);
  t.is(playbooks.stderr, 'casfleet: fleet/playbooks is a file where casfleet init needs a directory: nothing was written\n');
  for (const name of STARTER.filter((path) => !path.startsWith('playbooks/'))) t.false(existsSync(join(dir, 'fleet', name)), name);
  t.is(readFileSync(join(dir, 'notes'), 'utf8'), 'mine\n');
});
