import test from 'ava';
import { formatSourceIssue } from '../../src/errors.ts';
import { parseIniInventory } from '../../src/inventory/ini-inventory.ts';

const hostVars = (text: string, host: string) =>
  Object.fromEntries([...(parseIniInventory(text, 'hosts').inventory.hosts.get(host) ?? [])].map(([key, { value }]) => [key, value]));

const types = test.macro({
  exec(t, written: string, expected: unknown) {
    t.deepEqual(hostVars(`[canary]\ncas-01 value=${written}\n`, 'cas-01').value, expected);
    t.deepEqual(hostVars(`[canary]\ncas-01\n[canary:vars]\nvalue = ${written}\n`, 'cas-01').value, undefined);
  },
  title: (_title, written: string, expected: unknown) => `An inline INI value ${written} is read as ${JSON.stringify(expected)}`,
});

test(types, '22', 22);
test(types, '"22"', '22');
test(types, "'22'", '22');
test(types, 'yes', true);
test(types, 'False', false);
test(types, '1.5', 1.5);
test(types, '"two words"', 'two words');
test(types, '[10.8.0.0/24, 10.9.0.0/24]', ['10.8.0.0/24', '10.9.0.0/24']);
test(types, '{onfido: true}', { onfido: true });
test(types, '"hello#not-a-comment"', 'hello#not-a-comment');
test(types, '', '');

test('A :vars line takes the rest of the line as its value: " #" is text in text, a comment after a literal', (t) => {
  const { inventory } = parseIniInventory(
    '[canary]\ncas-01\n[canary:vars]\nmotd = hello world  # shown at login\nport=2222\nslots = 20 # per gate\n',
    'hosts',
  );
  const vars = inventory.groups.get('canary')?.vars;
  t.is(vars?.get('motd')?.value, 'hello world  # shown at login');
  t.is(vars?.get('slots')?.value, 20);
  t.deepEqual(vars?.get('port'), { value: 2222, position: { file: 'hosts', line: 5, col: 6 } });
});

test('On a host line a # inside a word starts a comment and a backslash-escaped space is a space', (t) => {
  t.deepEqual(hostVars('[canary]\ncas-01 note=abc#def after=1 path=x\n', 'cas-01'), { note: 'abc' });
  t.deepEqual(hostVars('[canary]\ncas-01 path=a\\ b other=x\n', 'cas-01'), { path: 'a b', other: 'x' });
});

test('host:port sets ansible_port only where the host is first declared', (t) => {
  t.deepEqual(hostVars('[a]\ncas-01:2222\n[b]\ncas-01:3333\n', 'cas-01'), { ansible_port: 2222 });
  t.deepEqual(hostVars('[a]\ncas-01\n[b]\ncas-01:3333\n', 'cas-01'), {});
});

test('Hosts before any section are ungrouped, and host:port sets ansible_port', (t) => {
  const { inventory, issues } = parseIniInventory('bastion:2200\n[canary]\ncas-01\n', 'hosts');
  t.deepEqual(issues, []);
  t.deepEqual(inventory.groups.get('ungrouped')?.hosts, ['bastion']);
  t.deepEqual(inventory.hosts.get('bastion')?.get('ansible_port'), { value: 2200, position: { file: 'hosts', line: 1, col: 1 } });
});

test('A bracketed IPv6 host line is a host, not a section header', (t) => {
  const { inventory, issues } = parseIniInventory('[canary]\n[2001:db8::1]:2222 ansible_user=root\n', 'hosts');
  t.deepEqual(issues, []);
  t.deepEqual(inventory.groups.get('canary')?.hosts, ['2001:db8::1']);
});

test('Comment lines start with # or ;', (t) => {
  const { inventory, issues } = parseIniInventory('# fleet\n; old style\n[canary]\n  # indented\ncas-01 # trailing\n', 'hosts');
  t.deepEqual(issues, []);
  t.deepEqual([...inventory.hosts.keys()], ['cas-01']);
});

test('A [group:vars] section may come before the group it is for', (t) => {
  const { issues, inventory } = parseIniInventory('[canary:vars]\npairing=true\n[canary]\ncas-01\n', 'hosts');
  t.deepEqual(issues, []);
  t.is(inventory.groups.get('canary')?.vars.get('pairing')?.value, true);
});

test('Children that would make a loop are refused where they are written', (t) => {
  const { issues } = parseIniInventory('[a:children]\nb\n[b:children]\na\n', 'hosts');
  t.deepEqual(issues.map(formatSourceIssue), ["hosts:4:1: b.children.a: group 'a' cannot be a child of 'b': 'b' is already inside 'a'"]);
});

test('An unknown section kind is refused and its lines are not misread', (t) => {
  const { issues, inventory } = parseIniInventory('[canary:host]\ncas-01\n', 'hosts');
  t.deepEqual(issues.map(formatSourceIssue), [
    "hosts:1:1: [canary:host]: unknown section kind 'host': expected [canary], [canary:vars] or [canary:children]",
  ]);
  t.is(inventory.hosts.size, 0);
});
