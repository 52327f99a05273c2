import test from 'ava';
import { z } from 'zod';
import { definePlaybook } from '../../src/playbook/define-playbook.ts';
import { isSecretVar, looksSecret, schemaSecrecy, secretExtraVarKeys } from '../../src/playbook/secret-vars.ts';

test('names that read like secrets, as words of camelCase or snake_case', (t) => {
  for (const name of [
    'password',
    'dbPassword',
    'ansible_become_pass',
    'apiKey',
    'API_KEY',
    'sshPrivateKey',
    'webhookSecret',
    'authToken',
    'keyPassphrase',
    'credentials',
  ]) {
    t.true(looksSecret(name), name);
  }
  for (const name of ['pairing', 'hardwareVpnSubnets', 'keyboard', 'monkey', 'passage', 'tokenizer', 'sshPort'])
    t.false(looksSecret(name), name);
});

test('a schema marks a var secret or not with .meta({ secret }), through optional, default and preprocess', (t) => {
  t.true(schemaSecrecy(z.string().meta({ secret: true })));
  t.true(schemaSecrecy(z.string().meta({ secret: true }).optional()));
  t.true(schemaSecrecy(z.string().meta({ secret: true }).default('x')));
  t.true(schemaSecrecy(z.preprocess((value) => value, z.string().meta({ secret: true }))));
  t.false(schemaSecrecy(z.string().meta({ secret: false }).optional()));
  t.is(schemaSecrecy(z.string().describe('plain')), undefined);
});

const playbook = definePlaybook({
  name: 'secrets',
  description: 'x',
  vars: z.object({
    pin: z.string().meta({ secret: true }),
    apiKey: z.string().optional(),
    keyId: z.string().meta({ secret: false }).optional(),
    motd: z.string().optional(),
  }),
  steps: () => [],
});

test('the schema decides; the name decides when the schema says nothing', (t) => {
  t.true(isSecretVar(playbook, 'pin'));
  t.true(isSecretVar(playbook, 'apiKey'));
  t.false(isSecretVar(playbook, 'keyId'));
  t.false(isSecretVar(playbook, 'motd'));
  t.true(isSecretVar(playbook, 'ansible_become_password'), 'not a playbook var: by name');
});

test('the secret keys among -e arguments, once each; @file arguments hold only a path', (t) => {
  t.deepEqual(secretExtraVarKeys(playbook, ['pin=1234', 'motd=hi', '@vars.yml', 'apiKey=k', 'pin=5678', 'keyId=abc']), ['pin', 'apiKey']);
});
