import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { formatSourceIssue, InventoryError } from '../../src/errors.ts';
import { selectHosts } from '../../src/inventory/host-pattern.ts';
import { detectInventoryFormat, type InventoryFormat, loadInventory } from '../../src/inventory/load-inventory.ts';
import type { Inventory } from '../../src/inventory/types.ts';

const fixture = (...parts: string[]) => join('test/fixtures/inventory', ...parts);

// Everything but where things were written, which naturally differs between formats.
const withoutOrigins = (inventory: Inventory) => ({
  hosts: [...inventory.hosts.values()].map(({ name, vars, groups }) => ({ name, vars, groups })),
  // Where a host is written (a group's own hosts) differs between the formats; membership does not.
  groups: [...inventory.groups.values()].map(({ name, hosts, children }) => ({ name, hosts, children })),
});

const sameAsYaml = test.macro({
  async exec(t, file: string) {
    const yaml = await loadInventory(fixture('fleet', 'inventory.yml'));
    const other = await loadInventory(fixture('fleet', file));
    t.deepEqual(withoutOrigins(other), withoutOrigins(yaml));
  },
  title: (_title, file: string) => `The ${file} twin of the YAML fleet resolves to the same hosts, groups and vars`,
});

test(sameAsYaml, 'inventory.ini');
test(sameAsYaml, 'inventory.json');

test('A YAML inventory resolves hosts, their groups in precedence order, and inherited vars', async (t) => {
  const inventory = await loadInventory(fixture('fleet', 'inventory.yml'));
  t.deepEqual([...inventory.hosts.keys()], ['bastion', 'cas-01', 'cas-02', 'cas-03', 'cas-04', 'cas-05']);
  const canary = inventory.hosts.get('cas-01');
  t.deepEqual(canary?.groups, ['all', 'eu', 'canary']);
  t.deepEqual(canary?.vars, {
    ansible_user: 'casadmin',
    sshAllowFrom: ['203.0.113.0/24'],
    region: 'eu',
    adminGui: 'closed',
    pairing: true,
    ansible_host: '10.0.1.1',
    ansible_port: 2222,
    ansible_ssh_private_key_file: '~/.ssh/canary_ed25519',
  });
  t.deepEqual(inventory.hosts.get('cas-02')?.groups, ['all', 'eu', 'staging']);
  t.deepEqual(inventory.hosts.get('cas-05')?.vars, {
    ansible_user: 'casadmin',
    sshAllowFrom: ['203.0.113.0/24'],
    adminGui: 'closed',
    ansible_become: true,
    note: 'quoted text',
  });
  t.true(inventory.source.endsWith(join('fleet', 'inventory.yml')));
});

test('Groups hold their hosts through children, all holds every host, ungrouped the rest', async (t) => {
  const inventory = await loadInventory(fixture('fleet', 'inventory.yml'));
  t.deepEqual(
    [...inventory.groups.values()].map(({ name, hosts, children }) => [name, hosts.join(' '), children.join(' ')]),
    [
      ['all', 'bastion cas-01 cas-02 cas-03 cas-04 cas-05', 'eu us staging ungrouped'],
      ['eu', 'cas-01 cas-02 cas-03', 'canary'],
      ['canary', 'cas-01', ''],
      ['us', 'cas-04 cas-05', ''],
      ['staging', 'cas-02', ''],
      ['ungrouped', 'bastion', ''],
    ],
  );
});

test('Every winning var records the file, line and column of its value', async (t) => {
  const yaml = await loadInventory(fixture('fleet', 'inventory.yml'));
  t.deepEqual(yaml.hosts.get('cas-01')?.varOrigins, {
    ansible_user: { file: fixture('fleet', 'inventory.yml'), line: 4, col: 19 },
    sshAllowFrom: { file: fixture('fleet', 'inventory.yml'), line: 5, col: 19 },
    region: { file: fixture('fleet', 'inventory.yml'), line: 12, col: 17 },
    adminGui: { file: fixture('fleet', 'group_vars', 'all.yml'), line: 1, col: 11 },
    pairing: { file: fixture('fleet', 'group_vars', 'canary.yml'), line: 2, col: 10 },
    ansible_host: { file: fixture('fleet', 'inventory.yml'), line: 17, col: 29 },
    ansible_port: { file: fixture('fleet', 'inventory.yml'), line: 18, col: 29 },
    ansible_ssh_private_key_file: { file: fixture('fleet', 'host_vars', 'cas-01.yml'), line: 1, col: 31 },
  });
  const ini = await loadInventory(fixture('fleet', 'inventory.ini'));
  t.deepEqual(ini.hosts.get('cas-04')?.varOrigins.note, { file: fixture('fleet', 'inventory.ini'), line: 15, col: 37 });
  t.deepEqual(ini.hosts.get('cas-01')?.varOrigins.region, { file: fixture('fleet', 'inventory.ini'), line: 26, col: 10 });
});

test('A group_vars file for a group that does not exist is a warning, not silence', async (t) => {
  const inventory = await loadInventory(fixture('precedence', 'inventory.yml'));
  t.deepEqual(inventory.warnings, [
    { path: '', message: `${fixture('precedence', 'group_vars', 'cnary.yml')} is ignored: there is no group 'cnary' in the inventory` },
  ]);
});

test('A missing inventory file is an InventoryError that names the file', async (t) => {
  const error = await t.throwsAsync(loadInventory(fixture('no-such-inventory.yml')), { instanceOf: InventoryError });
  t.is(error?.message, `inventory file not found: ${fixture('no-such-inventory.yml')}`);
});

test('An inventory directory is refused with a clear message', async (t) => {
  const error = await t.throwsAsync(loadInventory(fixture('fleet')), { instanceOf: InventoryError });
  t.regex(error?.message ?? '', /is a directory: inventory directories are not supported/);
});

const detects = test.macro({
  exec(t, path: string, text: string, expected: InventoryFormat) {
    t.is(detectInventoryFormat(path, text), expected);
  },
  title: (_title, path: string, text: string, expected: InventoryFormat) =>
    `${path} starting with ${JSON.stringify(text.split('\n')[0])} is read as ${expected}`,
});

test(detects, 'inventory.yml', '[canary]', 'yaml');
test(detects, 'inventory.json', '{', 'yaml');
test(detects, 'inventory.ini', 'all:', 'ini');
test(detects, 'hosts', '# fleet\nall:\n  hosts:', 'yaml');
test(detects, 'hosts', '---\nall:', 'yaml');
test(detects, 'hosts', '[canary]\ncas-01', 'ini');
test(detects, 'hosts', 'cas-01:2222 ansible_user=root', 'ini');

const tempInventory = (name: string, text: string): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'casfleet-inventory-')), name);
  writeFileSync(file, text);
  return file;
};

test('A host range past the cap is refused at its file:line:col, in both formats, before any host is listed', async (t) => {
  const yaml = tempInventory('inventory.yml', 'all:\n  children:\n    cas:\n      hosts:\n        cas-[0:99999999]:\n');
  const fromYaml = await t.throwsAsync(loadInventory(yaml), { instanceOf: InventoryError });
  t.deepEqual(fromYaml.issues.map(formatSourceIssue), [
    `${yaml}:5:9: all.children.cas.hosts.cas-[0:99999999]: host 'cas-[0:99999999]' stands for 100000000 hosts; one entry may stand for at most 10000`,
  ]);
  const ini = tempInventory('inventory.ini', '[cas]\ncas-[1:200000] ansible_user=root\n');
  const fromIni = await t.throwsAsync(loadInventory(ini), { instanceOf: InventoryError });
  t.deepEqual(fromIni.issues.map(formatSourceIssue), [
    `${ini}:2:1: cas.hosts: host 'cas-[1:200000]' stands for 200000 hosts; one entry may stand for at most 10000`,
  ]);
});

test('An inventory of 200000 hosts loads and selects (no spread of its hosts as arguments)', async (t) => {
  const entries = Array.from({ length: 20 }, (_, index) => `r${index}-[1:10000]`);
  const inventory = await loadInventory(tempInventory('inventory.ini', `${entries.join('\n')}\n`));
  t.is(inventory.hosts.size, 200_000);
  t.is(inventory.groups.get('ungrouped')?.hosts.length, 200_000);
  t.is(selectHosts(inventory, '~r1').length, 110_000);
});
