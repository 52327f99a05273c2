import { join } from 'node:path';
import test from 'ava';
import { formatSourceIssue, InventoryError } from '../../src/errors.ts';
import { loadInventory } from '../../src/inventory/load-inventory.ts';

const fixture = (...parts: string[]) => join('test/fixtures/inventory', ...parts);

const reports = test.macro({
  async exec(t, file: string, expected: readonly string[]) {
    const error = await t.throwsAsync(loadInventory(fixture(...file.split('/'))), { instanceOf: InventoryError });
    t.deepEqual(error?.issues.map(formatSourceIssue), expected);
    // The message lists every issue under a one-line summary, for the CLI to print as is.
    t.is(
      error?.message,
      [
        `inventory ${fixture(...file.split('/'))} has ${expected.length} problem${expected.length === 1 ? '' : 's'}:`,
        ...expected.map((line) => `  ${line}`),
      ].join('\n'),
    );
  },
  title: (title, file: string) => `${title} (${file})`,
});

const bad = (name: string) => fixture('errors', name);

test('Every bad connection var is reported at its value, with the full path and what was wrong', reports, 'errors/bad-port.yml', [
  `${bad('bad-port.yml')}:6:25: all.children.canary.hosts.cas-01.ansible_port: must be an integer from 1 to 65535 (got 70000)`,
  `${bad('bad-port.yml')}:8:25: all.children.canary.hosts.cas-02.ansible_port: must be an integer from 1 to 65535 (got 'ssh')`,
  `${bad('bad-port.yml')}:9:27: all.children.canary.hosts.cas-02.ansible_become: must be a boolean (true/false or yes/no) (got 'maybe')`,
  `${bad('bad-port.yml')}:10:25: all.children.canary.hosts.cas-02.ansible_host: must be a hostname or an IP address (got '10.0.0.300')`,
  `${bad('bad-port.yml')}:13:9: all.children.eu.vars.ansible_user: must be a user name (got nothing)`,
]);

test('A YAML indentation error is reported at its line with the parser’s explanation', reports, 'errors/bad-indent.yml', [
  `${bad('bad-indent.yml')}:5:6: all mapping items must start at the same column`,
]);

test('Structure errors name the node that has the wrong shape', reports, 'errors/bad-structure.yml', [
  `${bad('bad-structure.yml')}:3:5: all.hosts: must be a mapping of host names to their vars (got a list)`,
  `${bad('bad-structure.yml')}:5:13: all.children.canary: must be a group: a mapping with hosts, vars and/or children (got 'just a string')`,
  `${bad('bad-structure.yml')}:7:7: all.children.eu.host: unknown key: a group has only hosts, vars and children`,
  `${bad('bad-structure.yml')}:9:13: all.children.eu.vars: must be a mapping of variable names to values (got a list)`,
  `${bad('bad-structure.yml')}:11:9: all.children.eu.hosts.cas-[05:1]: host range '[05:1]' must have begin and end of the same width`,
]);

test('Bad INI lines are each reported at their line and column', reports, 'errors/bad.ini', [
  `${bad('bad.ini')}:2:21: canary.hosts.cas-01.ansible_port: must be an integer from 1 to 65535 (got 99999)`,
  `${bad('bad.ini')}:3:8: canary.hosts.cas-02: expected key=value after the host name, got 'stray-word'`,
  `${bad('bad.ini')}:4:13: canary.hosts: unclosed double quote`,
  `${bad('bad.ini')}:7:1: canary.vars: expected key=value, got 'no equals here'`,
  `${bad('bad.ini')}:8:16: canary.vars.ansible_become: must be a boolean (true/false or yes/no) (got 'maybe')`,
  `${bad('bad.ini')}:10:1: invalid section header '[my group]': a group name has no spaces, ':' or ']' (then optionally :vars or :children)`,
  `${bad('bad.ini')}:14:1: [fleet:children] lists 'ghost', a group that is not defined anywhere`,
]);

test('Problems in group_vars and host_vars files are collected with the inventory’s', reports, 'bad-vars/inventory.yml', [
  `${fixture('bad-vars', 'group_vars', 'all.yml')}:2:15: ansible_port: must be an integer from 1 to 65535 (got '22x')`,
  `${fixture('bad-vars', 'host_vars', 'cas-01.yml')}:2:1: flow sequence in block collection must be sufficiently indented and end with a ]`,
]);
