import { join } from 'node:path';
import test from 'ava';
import { InventoryError } from '../../src/errors.ts';
import { checkVar, hostConnection } from '../../src/inventory/connection-vars.ts';
import { loadInventory } from '../../src/inventory/load-inventory.ts';
import type { InventoryHost } from '../../src/inventory/types.ts';

const fleet = loadInventory(join('test/fixtures/inventory', 'fleet', 'inventory.yml'));

const host = (vars: Record<string, unknown>): InventoryHost => ({ name: 'cas-09', vars, varOrigins: {}, groups: ['all'] });

test('A host’s connection comes from its resolved vars, with ~ expanded in the key path', async (t) => {
  const inventory = await fleet;
  t.deepEqual(hostConnection(inventory.hosts.get('cas-01') as InventoryHost, '/home/operator'), {
    address: '10.0.1.1',
    port: 2222,
    user: 'casadmin',
    privateKeyFile: '/home/operator/.ssh/canary_ed25519',
    become: false,
  });
});

test('Without connection vars a host is reached by its name without become; the port is left to ssh_config', (t) => {
  t.deepEqual(hostConnection(host({}), '/home/operator'), { address: 'cas-09', become: false });
});

test('A become password and ssh args are read from their ansible_ vars', (t) => {
  t.deepEqual(
    hostConnection(
      host({
        ansible_become: true,
        ansible_become_pass: 's3cret',
        ansible_ssh_common_args: '-J bastion',
        ansible_ssh_extra_args: '-o User=ops',
      }),
    ),
    { address: 'cas-09', become: true, becomePassword: 's3cret', sshArgs: '-J bastion -o User=ops' },
  );
});

test('Numeric strings and yes/no words are normalised', (t) => {
  t.deepEqual(hostConnection(host({ ansible_port: '2222', ansible_become: 'Yes', ansible_become_user: 'batm' })), {
    address: 'cas-09',
    port: 2222,
    become: true,
    becomeUser: 'batm',
  });
});

test('The older ansible_ssh_* spellings are read, and win when both are set (as in Ansible)', (t) => {
  t.like(
    hostConnection(host({ ansible_host: '10.0.0.1', ansible_ssh_host: '10.0.0.2', ansible_ssh_user: 'root', ansible_ssh_port: 2200 })),
    {
      address: '10.0.0.2',
      user: 'root',
      port: 2200,
    },
  );
});

test('A hand-built host with a bad connection var is an InventoryError pointing at its origin', (t) => {
  const bad: InventoryHost = { ...host({ ansible_port: 0 }), varOrigins: { ansible_port: { file: 'inv.yml', line: 3, col: 21 } } };
  const error = t.throws(() => hostConnection(bad), { instanceOf: InventoryError });
  t.is(
    error?.message,
    'host cas-09 has invalid connection variables\n  inv.yml:3:21: ansible_port: must be an integer from 1 to 65535 (got 0)',
  );
});

const accepts = test.macro({
  exec(t, name: string, value: unknown) {
    t.is(checkVar(name, value, 'host'), undefined);
  },
  title: (_title, name: string, value: unknown) => `${name}: ${JSON.stringify(value)} is accepted`,
});

test(accepts, 'ansible_host', 'cas-01.example.com');
test(accepts, 'ansible_host', '10.0.0.1');
test(accepts, 'ansible_host', '2001:db8::1');
test(accepts, 'ansible_port', 1);
test(accepts, 'ansible_port', '65535');
test(accepts, 'ansible_become', false);
test(accepts, 'ansible_become', 'no');
test(accepts, 'ansible_become', 1);
test(accepts, 'sshAllowFrom', 'anything at all');

const rejects = test.macro({
  exec(t, name: string, value: unknown, message: string) {
    t.is(checkVar(name, value, 'host'), message);
  },
  title: (_title, name: string, value: unknown) => `${name}: ${JSON.stringify(value)} is rejected`,
});

test(rejects, 'ansible_host', 'cas 01', "must be a hostname or an IP address (got 'cas 01')");
test(rejects, 'ansible_host', '10.0.0.256', "must be a hostname or an IP address (got '10.0.0.256')");
test(rejects, 'ansible_port', 65536, 'must be an integer from 1 to 65535 (got 65536)');
test(rejects, 'ansible_port', 22.5, 'must be an integer from 1 to 65535 (got 22.5)');
test(rejects, 'ansible_user', '', "must be a user name (got '')");
test(rejects, 'ansible_ssh_private_key_file', ['a'], 'must be the path of a private key file (got a list)');
test(rejects, 'ansible_become', 'sometimes', "must be a boolean (true/false or yes/no) (got 'sometimes')");
test(rejects, 'ansible_become_user', 0, 'must be a user name (got 0)');
