import test from 'ava';
import { z } from 'zod';
import { scenarioAVarsSchema } from '../../src/cas/cas-vars.ts';
import { PlaybookError, UsageError } from '../../src/errors.ts';
import type { InventoryHost } from '../../src/inventory/types.ts';
import { definePlaybook } from '../../src/playbook/define-playbook.ts';
import { NO_EXTRA_VARS, resolveHostVars } from '../../src/playbook/host-vars.ts';

const playbook = definePlaybook({
  name: 'demo',
  description: 'test playbook',
  vars: z.object({ subnets: z.array(z.cidrv4()).min(1), pairing: z.boolean().default(false) }),
  steps: () => [],
});

const host = (name: string, vars: Record<string, unknown>, origins: InventoryHost['varOrigins'] = {}): InventoryHost => ({
  name,
  vars,
  varOrigins: origins,
  groups: ['all'],
});

test('vars validate per host with defaults applied and unrelated inventory vars ignored', async (t) => {
  const resolved = await resolveHostVars(
    playbook,
    [host('a', { subnets: ['10.8.0.0/24'], ansible_host: '10.0.0.1', other: 1 })],
    NO_EXTRA_VARS,
  );
  t.deepEqual(resolved.get('a'), { subnets: ['10.8.0.0/24'], pairing: false });
});

test('extra vars win over inventory vars', async (t) => {
  const resolved = await resolveHostVars(playbook, [host('a', { subnets: ['10.8.0.0/24'], pairing: false })], {
    vars: { pairing: true },
    origins: {},
  });
  t.true(resolved.get('a')?.pairing);
});

test('an invalid inventory var is reported at the file:line:col where it was defined', async (t) => {
  const error = await t.throwsAsync(
    () =>
      resolveHostVars(
        playbook,
        [host('a', { subnets: ['10.8.0.0/33'] }, { subnets: { file: 'inv.yml', line: 7, col: 15 } })],
        NO_EXTRA_VARS,
      ),
    { instanceOf: PlaybookError },
  );
  t.regex(error.message, /inv\.yml:7:15: hosts\.a\.subnets\.0: /);
});

test('the same problem on many hosts is reported once, listing them', async (t) => {
  const hosts = ['a', 'b', 'c', 'd'].map((name) => host(name, {}));
  const error = await t.throwsAsync(() => resolveHostVars(playbook, hosts, NO_EXTRA_VARS), { instanceOf: PlaybookError });
  t.is(error.issues.length, 1);
  t.regex(error.message, /hosts\[4: a, b, c, …\]\.subnets: required by playbook demo/);
});

test('an extra var the playbook does not declare is a usage error, not silently ignored', async (t) => {
  const error = await t.throwsAsync(
    () => resolveHostVars(playbook, [host('a', { subnets: ['10.8.0.0/24'] })], { vars: { subnet: 'x' }, origins: {} }),
    {
      instanceOf: UsageError,
    },
  );
  t.regex(error.message, /unknown var 'subnet' for playbook demo; it accepts: subnets, pairing/);
});

test('a var that is present but of the wrong type says what is wrong, not that it is missing', async (t) => {
  const error = await t.throwsAsync(
    () => resolveHostVars(playbook, [host('a', { subnets: ['10.8.0.0/24'] })], { vars: { pairing: 'maybe' }, origins: {} }),
    {
      instanceOf: PlaybookError,
    },
  );
  t.notRegex(error.message, /required/);
  t.regex(error.message, /pairing: .*expected boolean.*\(from -e\)/i);
});

test('a conflict between two vars says where the other one was set', async (t) => {
  const scenario = definePlaybook({ name: 'scenario-a', description: 'x', vars: scenarioAVarsSchema, steps: () => [] });
  const inventoryHost = host(
    'a',
    { adminGui: 'open', adminAllowFrom: ['192.0.2.7'] },
    { adminGui: { file: 'group_vars/all.yml', line: 1, col: 11 }, adminAllowFrom: { file: 'inv.yml', line: 5, col: 23 } },
  );
  const error = await t.throwsAsync(() => resolveHostVars(scenario, [inventoryHost], NO_EXTRA_VARS), { instanceOf: PlaybookError });
  t.regex(
    error.message,
    /inv\.yml:5:23: hosts\.a\.adminAllowFrom: adminGui: 'open' opens the admin GUI 7777 to everyone, .*; adminGui is set at group_vars\/all\.yml:1:11$/m,
  );
  const fromE = await t.throwsAsync(
    () => resolveHostVars(scenario, [host('a', { adminAllowFrom: ['192.0.2.7'] })], { vars: { adminGui: 'open' }, origins: {} }),
    { instanceOf: PlaybookError },
  );
  t.regex(fromE.message, /hosts\.a\.adminAllowFrom: .*; adminGui is set with -e$/m);
});
