import test from 'ava';
import { formatSourceIssue } from '../../src/errors.ts';
import { parseYamlInventory } from '../../src/inventory/yaml-inventory.ts';

const parse = (text: string) => parseYamlInventory(text, 'inventory.yml');
const valuesOf = (vars: ReadonlyMap<string, { value: unknown }> | undefined) =>
  Object.fromEntries([...(vars ?? [])].map(([key, { value }]) => [key, value]));

test('Top-level groups other than all become children of all', (t) => {
  const { inventory, issues } = parse('canary:\n  hosts:\n    cas-01:\nstable:\n  hosts:\n    cas-02:\n');
  t.deepEqual(issues, []);
  t.deepEqual(inventory.groups.get('all')?.children, ['canary', 'stable', 'ungrouped']);
});

test('A group written in two places is one group with both bodies', (t) => {
  const { inventory } = parse(
    'all:\n  children:\n    eu:\n      children:\n        canary:\n          hosts: {cas-01: }\ncanary:\n  vars: {pairing: true}\n  hosts: {cas-02: }\n',
  );
  t.deepEqual(inventory.groups.get('canary')?.hosts, ['cas-01', 'cas-02']);
  t.deepEqual(valuesOf(inventory.groups.get('canary')?.vars), { pairing: true });
  // It has a parent (eu), so it is not also a direct child of all.
  t.deepEqual(inventory.groups.get('all')?.children, ['eu', 'ungrouped']);
});

test('Empty bodies are allowed for groups, hosts, vars and children', (t) => {
  const { inventory, issues } = parse(
    'all:\n  vars:\n  children:\n    canary:\n    eu:\n      hosts:\n        cas-01:\n        cas-02: ~\n',
  );
  t.deepEqual(issues, []);
  t.deepEqual([...inventory.hosts.keys()], ['cas-01', 'cas-02']);
  t.deepEqual(inventory.groups.get('canary')?.hosts, []);
});

test('Merge keys and aliases work, keeping the position of the anchored value', (t) => {
  const { inventory, issues } = parse(
    'all:\n  vars:\n    defaults: &defaults\n      ansible_user: root\n  hosts:\n    cas-01:\n      <<: *defaults\n      ansible_port: 2222\n',
  );
  t.deepEqual(issues, []);
  const vars = inventory.hosts.get('cas-01');
  t.deepEqual(valuesOf(vars), { ansible_user: 'root', ansible_port: 2222 });
  t.deepEqual(vars?.get('ansible_user')?.position, { file: 'inventory.yml', line: 4, col: 21 });
});

test('YAML 1.1 booleans are booleans, as PyYAML reads them for Ansible; 1.1 sexagesimals are not numbers', (t) => {
  const { inventory } = parse('all:\n  vars:\n    a: yes\n    b: Off\n    c: 22:30\n    d: "yes"\n');
  t.deepEqual(valuesOf(inventory.groups.get('all')?.vars), { a: true, b: false, c: '22:30', d: 'yes' });
});

test('A connection var in a merged mapping is checked too', (t) => {
  const { issues } = parse('all:\n  vars:\n    d: &d {ansible_port: 0}\n  hosts:\n    cas-01:\n      <<: *d\n');
  t.deepEqual(issues.map(formatSourceIssue), [
    'inventory.yml:3:26: all.hosts.cas-01.ansible_port: must be an integer from 1 to 65535 (got 0)',
  ]);
});

test('A group that contains itself is refused at the offending child', (t) => {
  const { issues } = parse('all:\n  children:\n    eu:\n      children:\n        canary:\n          children:\n            eu:\n');
  t.deepEqual(issues.map(formatSourceIssue), [
    "inventory.yml:7:13: all.children.eu.children.canary.children.eu: group 'eu' cannot be a child of 'canary': 'canary' is already inside 'eu'",
  ]);
});

test('all cannot be a child group', (t) => {
  const { issues } = parse('canary:\n  children:\n    all:\n');
  t.deepEqual(issues.map(formatSourceIssue), [
    "inventory.yml:3:5: canary.children.all: 'all' cannot be a child group: every group is already inside it",
  ]);
});

test('Duplicate keys and aliases without anchors are syntax errors', (t) => {
  const { issues } = parse('all:\n  hosts:\n    cas-01:\n    cas-01:\n  vars:\n    a: *nowhere\n');
  t.deepEqual(issues.map(formatSourceIssue), [
    'inventory.yml:4:5: map keys must be unique',
    'inventory.yml:6:8: unknown alias *nowhere (an anchor &nowhere must come before it)',
  ]);
});

test('A document that is not a mapping of groups says what it should be', (t) => {
  const { issues } = parse('- cas-01\n- cas-02\n');
  t.deepEqual(issues.map(formatSourceIssue), ['inventory.yml:1:1: must be a mapping of group names (all, …) to groups (got a list)']);
});

test('An unresolved tag such as !vault is a warning, the value kept as text', (t) => {
  const { warnings, inventory } = parse('all:\n  vars:\n    secret: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n');
  t.is(warnings.length, 1);
  t.regex(formatSourceIssue(warnings[0] ?? { path: '', message: '' }), /^inventory\.yml:3:13: unresolved tag: !vault/);
  t.is(typeof inventory.groups.get('all')?.vars.get('secret')?.value, 'string');
});

test('Group keywords in a host body are refused: a host’s vars go directly under its name', (t) => {
  const { issues } = parse('all:\n  hosts:\n    cas-01:\n      vars:\n        ansible_port: 2222\n');
  t.deepEqual(issues.map(formatSourceIssue), [
    "inventory.yml:4:7: all.hosts.cas-01.vars: a host's vars go directly under the host name; 'vars' belongs to groups",
  ]);
});
