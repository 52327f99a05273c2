// casfleet_known_hosts: taken from the inventory file's directory, checked, never from -e; and the
// order of the places a known_hosts file can come from.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  checkInventoryKnownHosts,
  inventoryKnownHosts,
  inventoryKnownHostsOf,
  refuseKnownHostsExtraVar,
} from '../../src/cli/known-hosts-choice.ts';
import { InventoryError, TrustError, UsageError } from '../../src/errors.ts';
import type { InventoryHost } from '../../src/inventory/types.ts';
import { runCli } from '../helpers/cli.ts';

const host = (name: string, vars: Record<string, unknown>): InventoryHost => ({
  name,
  vars,
  varOrigins: { casfleet_known_hosts: { file: '/ops/group_vars/all.yml', line: 2, col: 23 } },
  groups: ['all'],
});

test('a relative casfleet_known_hosts is taken from the inventory file, not the working directory', (t) => {
  t.is(inventoryKnownHosts(host('cas-01', { casfleet_known_hosts: 'keys/known_hosts' }), '/ops/inventory.yml'), '/ops/keys/known_hosts');
  t.is(inventoryKnownHosts(host('cas-01', { casfleet_known_hosts: '~/kh' }), '/ops/inventory.yml', '/home/op'), '/home/op/kh');
  t.is(
    inventoryKnownHosts(host('cas-01', { casfleet_known_hosts: '/etc/ssh/ssh_known_hosts' }), '/ops/inventory.yml'),
    '/etc/ssh/ssh_known_hosts',
  );
  t.is(inventoryKnownHosts(host('cas-01', {}), '/ops/inventory.yml'), undefined);
  t.throws(() => inventoryKnownHosts(host('cas-01', { casfleet_known_hosts: 7 }), '/ops/inventory.yml'), {
    instanceOf: InventoryError,
    message: /\/ops\/group_vars\/all\.yml:2:23: casfleet_known_hosts: must be the path of a known_hosts file/,
  });
});

test('--known-hosts overrides every file the inventory names', (t) => {
  t.deepEqual([...inventoryKnownHostsOf([host('cas-01', { casfleet_known_hosts: '/nonexistent/kh' })], '/ops/inventory.yml', 'kh')], []);
});

test('-e casfleet_known_hosts is refused instead of silently ignored', (t) => {
  t.throws(() => refuseKnownHostsExtraVar({ vars: { casfleet_known_hosts: '/tmp/kh' }, origins: {} }), {
    instanceOf: UsageError,
    message: /casfleet_known_hosts cannot be set with -e; use --known-hosts FILE/,
  });
  t.notThrows(() => refuseKnownHostsExtraVar({ vars: { pairing: true }, origins: {} }));
});

test('the file the inventory names must exist and pass the trust rule', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-kh-'));
  const file = join(dir, 'known_hosts');
  const hosts = [host('cas-01', {}), host('cas-02', {})];
  t.throws(() => checkInventoryKnownHosts(hosts, new Map([['cas-01', file]])), {
    instanceOf: InventoryError,
    message: /known_hosts does not exist/,
  });
  writeFileSync(file, '');
  t.notThrows(() =>
    checkInventoryKnownHosts(
      hosts,
      new Map([
        ['cas-01', file],
        ['cas-02', file],
      ]),
    ),
  );
  chmodSync(file, 0o646);
  t.throws(() => checkInventoryKnownHosts(hosts, new Map([['cas-02', file]])), {
    instanceOf: TrustError,
    message: new RegExp(
      `^refusing to use the known_hosts file named by casfleet_known_hosts \\(host cas-02\\) ${file}: it is writable by others`,
    ),
  });
});

test('apply with -e casfleet_known_hosts exits 1 before contacting any host', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-kh-'));
  mkdirSync(join(dir, 'inv'));
  writeFileSync(join(dir, 'inv', 'hosts.yml'), 'all:\n  hosts:\n    cas-01:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n');
  const result = await runCli(['apply', 'scenario-a', '-i', 'inv/hosts.yml', '-e', 'casfleet_known_hosts=/tmp/kh', '--check'], {
    cwd: dir,
  });
  t.is(result.code, 1, result.stdout + result.stderr);
  t.regex(result.stderr, /casfleet_known_hosts cannot be set with -e/);
});
