// Differential tests against Ansible itself: every expected value in test/fixtures/ansible/*/expected.json
// was produced by ansible-core (the command is recorded next to it; generate.py regenerates them).
// casfleet must read each inventory to the same vars and groups, and select the same hosts for each
// --limit pattern; where Ansible warns that a part matches nothing, casfleet refuses the pattern.
// Host order is not compared: casfleet keeps the order of first appearance in the file.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { InventoryError, UsageError } from '../../src/errors.ts';
import { selectHosts } from '../../src/inventory/host-pattern.ts';
import { patternFileReader } from '../../src/inventory/host-pattern-file.ts';
import { loadInventory } from '../../src/inventory/load-inventory.ts';

const ROOT = 'test/fixtures/ansible';

interface AnsibleGroup {
  readonly hosts?: readonly string[];
  readonly children?: readonly string[];
}
interface InventoryCase {
  readonly command: string;
  readonly exitCode: number;
  readonly output?: { _meta: { hostvars: Record<string, Record<string, unknown>> } } & Record<string, AnsibleGroup>;
}
interface PatternCase {
  readonly pattern: string;
  readonly command: string;
  readonly hosts: readonly string[];
  readonly warnings: readonly string[];
}
interface Expected {
  readonly inventories: Record<string, InventoryCase>;
  readonly patterns?: readonly PatternCase[];
}

const fixtures = readdirSync(ROOT, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => ({ name: entry.name, expected: JSON.parse(readFileSync(join(ROOT, entry.name, 'expected.json'), 'utf8')) as Expected }));

/** Every host of an Ansible group, through its children. */
const ansibleMembers = (groups: Record<string, AnsibleGroup>, name: string): string[] => {
  const group = groups[name] ?? {};
  return [...new Set([...(group.hosts ?? []), ...(group.children ?? []).flatMap((child) => ansibleMembers(groups, child))])];
};

const sorted = (names: Iterable<string>): string[] => [...names].sort();

for (const { name, expected } of fixtures) {
  for (const [file, ansible] of Object.entries(expected.inventories)) {
    const path = join(ROOT, name, file);
    const hostvars = ansible.output?._meta.hostvars ?? {};
    const groups = ansible.output ?? {};
    const ansibleHosts = sorted(ansibleMembers(groups as Record<string, AnsibleGroup>, 'all'));
    test(`${name}/${file} reads as \`${ansible.command}\` does`, async (t) => {
      if (ansibleHosts.length === 0) {
        // Ansible goes on with an implicit localhost; casfleet refuses, naming the file.
        await t.throwsAsync(loadInventory(path), { instanceOf: InventoryError, message: new RegExp(`${file} defines no hosts`) });
        return;
      }
      const inventory = await loadInventory(path);
      t.deepEqual(sorted(inventory.hosts.keys()), ansibleHosts);
      for (const host of ansibleHosts) t.deepEqual(inventory.hosts.get(host)?.vars, hostvars[host] ?? {}, `vars of ${host}`);
      for (const group of Object.keys(groups).filter((key) => key !== '_meta')) {
        t.deepEqual(
          sorted(inventory.groups.get(group)?.hosts ?? []),
          sorted(ansibleMembers(groups as Record<string, AnsibleGroup>, group)),
          `hosts of group ${group}`,
        );
      }
    });
  }
  for (const ansible of expected.patterns ?? []) {
    const unmatched = ansible.warnings.find((warning) => warning.startsWith('Could not match supplied host pattern'));
    test(`${name}: --limit '${ansible.pattern}' as \`${ansible.command}\``, async (t) => {
      const inventory = await loadInventory(join(ROOT, name, 'inventory.ini'));
      const select = () => selectHosts(inventory, ansible.pattern, patternFileReader(join(ROOT, name)));
      if (unmatched !== undefined || ansible.hosts.length === 0) {
        // Ansible warns and drops the part; casfleet refuses the whole pattern instead (safer for canaries).
        const part = unmatched?.replace(/^.*ignoring: /, '');
        const error = t.throws(select, { instanceOf: UsageError });
        if (part !== undefined) t.true(error?.message.includes(`'${part}'`), `${error?.message} names '${part}'`);
        return;
      }
      t.deepEqual(sorted(select()), sorted(ansible.hosts));
    });
  }
}
