import { join } from 'node:path';
import test from 'ava';
import { UsageError, ValidationError } from '../../src/errors.ts';
import { loadVarsFile, parseExtraVar } from '../../src/inventory/extra-vars.ts';

const fixture = (...parts: string[]) => join('test/fixtures/inventory', ...parts);

const parses = test.macro({
  exec(t, arg: string, expected: unknown) {
    t.deepEqual(parseExtraVar(arg), { key: arg.slice(0, arg.indexOf('=')), value: expected });
  },
  title: (_title, arg: string, expected: unknown) => `-e ${arg} gives ${JSON.stringify(expected)}`,
});

test(parses, 'hardwareVpnSubnets=10.8.0.0/24', '10.8.0.0/24');
test(parses, 'hardwareVpnSubnets=[10.8.0.0/24,10.9.0.0/24]', ['10.8.0.0/24', '10.9.0.0/24']);
test(parses, 'hardwareVpnSubnets=[10.8.0.0/24, 10.9.0.0/24]', ['10.8.0.0/24', '10.9.0.0/24']);
test(parses, 'pairing=true', true);
test(parses, 'pairing=no', false);
test(parses, 'pairingMinutes=15', 15);
test(parses, 'pairingMinutes="15"', '15');
test(parses, 'motd=hello world', 'hello world');
test(parses, 'motd=', '');
test(parses, 'motd=a=b', 'a=b');
test(parses, 'motd=key: value', 'key: value');
test(parses, 'extensions={onfido: true}', { onfido: true });
test(parses, 'adminAllowFrom=null', null);
test(parses, 'ansible_port=2222', 2222);

const refuses = test.macro({
  exec(t, arg: string, message: string) {
    t.throws(() => parseExtraVar(arg), { instanceOf: UsageError, message });
  },
  title: (_title, arg: string) => `-e ${arg} is a usage error`,
});

test(
  refuses,
  'pairing',
  '-e expects key=value (or @file to read vars from a YAML/JSON file); the argument given has no "=" (not shown: it may be a secret)',
);
test(refuses, '=true', "-e '=…': '' is not a variable name (letters, digits and _, not starting with a digit)");
test(
  refuses,
  'pairing-window=1',
  "-e 'pairing-window=…': 'pairing-window' is not a variable name (letters, digits and _, not starting with a digit)",
);
test(refuses, 'ansible_port=ssh', '-e ansible_port=…: ansible_port must be an integer from 1 to 65535');

test('-e errors never echo the value, which may be a secret', (t) => {
  for (const arg of ['hunter2', 'db-password=hunter2', 'ansible_port=hunter2']) {
    const error = t.throws(() => parseExtraVar(arg), { instanceOf: UsageError });
    t.notRegex(error?.message ?? '', /hunter2/, arg);
  }
});

test('A vars file gives its vars and where each was written', async (t) => {
  const file = fixture('vars', 'extra.yml');
  t.deepEqual(await loadVarsFile(file), {
    vars: { hardwareVpnSubnets: ['10.8.0.0/24'], pairing: true },
    origins: { hardwareVpnSubnets: { file, line: 2, col: 3 }, pairing: { file, line: 3, col: 10 } },
  });
});

test('A vars file that is not a mapping is a validation error at its first line', async (t) => {
  const file = fixture('vars', 'not-a-mapping.yml');
  const error = await t.throwsAsync(loadVarsFile(file), { instanceOf: ValidationError });
  t.is(error?.message, `vars file ${file} has 1 problem:\n  ${file}:1:1: must be a mapping of variable names to values (got a list)`);
});

test('A missing vars file is a usage error that names it', async (t) => {
  await t.throwsAsync(loadVarsFile(fixture('vars', 'nope.yml')), {
    instanceOf: UsageError,
    message: `vars file not found: ${fixture('vars', 'nope.yml')}`,
  });
});
