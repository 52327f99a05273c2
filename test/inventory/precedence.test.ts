import { join } from 'node:path';
import test from 'ava';
import { loadInventory } from '../../src/inventory/load-inventory.ts';

const fixture = (...parts: string[]) => join('test/fixtures/inventory', ...parts);

// In the precedence fixture, var levelN is defined at levels 1..N and each value names its level,
// so levelN must come out as level N's name: level N beats level N-1.
const LEVELS = [
  'all in the inventory file',
  'eu in the inventory file',
  'canary in the inventory file',
  'group_vars/all',
  'group_vars/eu',
  'group_vars/canary',
  'cas-01 in the inventory file',
  'host_vars/cas-01',
] as const;

const beats = test.macro({
  async exec(t, file: string, level: number) {
    const inventory = await loadInventory(fixture('precedence', file));
    t.is(inventory.hosts.get('cas-01')?.vars[`level${level}`], LEVELS[level - 1]);
  },
  title: (_title, file: string, level: number) =>
    level === 1
      ? `In ${file}, vars of all written in the inventory file apply to every host`
      : `In ${file}, ${LEVELS[level - 1]} beats ${LEVELS[level - 2]}`,
});

for (const file of ['inventory.yml', 'inventory.ini']) {
  for (let level = 1; level <= LEVELS.length; level += 1) test(beats, file, level);
}

test('group_vars/all beats vars that the inventory file writes for a child group, as in Ansible', async (t) => {
  const inventory = await loadInventory(fixture('precedence', 'inventory.yml'));
  // level4 is written for canary (depth 2) in the file and in group_vars/all: the file loses.
  t.is(inventory.hosts.get('cas-01')?.vars.level4, 'group_vars/all');
});

test('Files in a group_vars directory are read in name order, later files winning', async (t) => {
  const inventory = await loadInventory(fixture('precedence', 'inventory.yml'));
  const host = inventory.hosts.get('cas-02');
  t.is(host?.vars.fileOrder, '20-override.json');
  t.deepEqual(host?.varOrigins.fileOrder, { file: fixture('precedence', 'group_vars', 'canary', '20-override.json'), line: 1, col: 16 });
});

test('A host without vars of its own gets its groups’ vars, group_vars files included', async (t) => {
  const inventory = await loadInventory(fixture('precedence', 'inventory.ini'));
  t.like(inventory.hosts.get('cas-02')?.vars, {
    level3: 'canary in the inventory file',
    level7: 'group_vars/canary',
    level8: 'group_vars/canary',
  });
});

test('Between sibling groups at the same depth, the later name wins', async (t) => {
  const inventory = await loadInventory(fixture('priority', 'siblings.yml'));
  t.is(inventory.hosts.get('cas-01')?.vars.who, 'beta');
  t.deepEqual(inventory.hosts.get('cas-01')?.groups, ['all', 'alpha', 'beta']);
});

test('A deeper group wins over a shallower one whatever their names', async (t) => {
  const inventory = await loadInventory(fixture('priority', 'siblings.yml'));
  t.is(inventory.hosts.get('cas-02')?.vars.who, 'child');
  t.deepEqual(inventory.hosts.get('cas-02')?.groups, ['all', 'parent', 'zeta', 'child']);
});

test('ansible_group_priority lets a sibling win over a later name, and is not kept as a var', async (t) => {
  const inventory = await loadInventory(fixture('priority', 'with-priority.yml'));
  const host = inventory.hosts.get('cas-01');
  t.is(host?.vars.who, 'alpha');
  t.deepEqual(host?.groups, ['all', 'beta', 'alpha']);
  t.false('ansible_group_priority' in (host?.vars ?? {}));
});
