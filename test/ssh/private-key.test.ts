import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import ssh2, { type ParsedKey } from 'ssh2';
import { ConnectError } from '../../src/errors.ts';
import { loadPrivateKey, PASSPHRASE_ENV } from '../../src/ssh/private-key.ts';

const run = promisify(execFile);
const PASSPHRASE = 'correct horse battery staple';
let dir = '';

// Each ava file runs in its own process, so setting the environment here touches no other test file.
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'casfleet-keys-'));
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'plain')]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-f', join(dir, 'encrypted')]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-f', join(dir, 'encrypted-no-env')]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'other', '-f', join(dir, 'wrong')]);
  await run('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', PASSPHRASE, '-f', join(dir, 'pem')]);
});

test.after.always(async () => {
  await rm(dir, { recursive: true, force: true });
});

test.serial('an unencrypted key parses, with a printable public label', async (t) => {
  const loaded = await loadPrivateKey(join(dir, 'plain'));
  t.true(loaded.key.isPrivateKey());
  t.regex(loaded.label, /^ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}$/);
});

test.serial('an encrypted key without the env variable fails with advice, not a hang or a crash', async (t) => {
  delete process.env[PASSPHRASE_ENV];
  const error = await t.throwsAsync(loadPrivateKey(join(dir, 'encrypted-no-env')), { instanceOf: ConnectError });
  t.regex(error.message, new RegExp(`is encrypted: set ${PASSPHRASE_ENV} or load the key into ssh-agent`));
});

test.serial('encrypted keys are decrypted once per process and the result is shared', async (t) => {
  process.env[PASSPHRASE_ENV] = PASSPHRASE;
  const path = join(dir, 'encrypted');
  const first = loadPrivateKey(path);
  const second = loadPrivateKey(path);
  t.is(first, second);
  const started = performance.now();
  const again = await loadPrivateKey(path);
  t.is(again, await first);
  t.true(again.key.isPrivateKey());
  t.log(`decrypt (bcrypt-pbkdf, pure JS) + cached lookups took ${(performance.now() - started).toFixed(0)} ms`);
  // PEM keys use OpenSSL's KDF; the same variable decrypts them.
  t.true((await loadPrivateKey(join(dir, 'pem'))).key.isPrivateKey());
});

test.serial('a wrong passphrase fails without echoing any passphrase', async (t) => {
  process.env[PASSPHRASE_ENV] = PASSPHRASE;
  const error = await t.throwsAsync(loadPrivateKey(join(dir, 'wrong')), { instanceOf: ConnectError });
  t.regex(error.message, /cannot decrypt private key .*wrong passphrase/);
  t.false(error.message.includes(PASSPHRASE));
  // Cached: the second host does not pay the bcrypt cost again.
  t.is(await loadPrivateKey(join(dir, 'wrong')).catch((e: unknown) => e), error);
});

test.serial('a missing file is a ConnectError naming the path', async (t) => {
  const error = await t.throwsAsync(loadPrivateKey(join(dir, 'nope')), { instanceOf: ConnectError });
  t.regex(error.message, /cannot read private key .*nope: ENOENT/);
});

test.serial('a public key file is refused', async (t) => {
  const error = await t.throwsAsync(loadPrivateKey(join(dir, 'plain.pub')), { instanceOf: ConnectError });
  t.regex(error.message, /public key, not a private key|cannot parse private key/);
});

test.serial('the loaded key signs exactly as ssh2 signs with the key file, and the public key verifies it', async (t) => {
  process.env[PASSPHRASE_ENV] = PASSPHRASE;
  const data = Buffer.from('session id and userauth request');
  for (const [name, algos] of [
    ['plain', [undefined]],
    ['pem', [undefined, 'sha256', 'sha512']],
  ] as const) {
    const loaded = await loadPrivateKey(join(dir, name));
    const reference = ssh2.utils.parseKey(await readFile(join(dir, name)), PASSPHRASE) as ParsedKey;
    for (const algo of algos) {
      const signature = loaded.key.sign(data, algo);
      t.true(Buffer.isBuffer(signature), `${name} ${algo}`);
      t.deepEqual(signature, reference.sign(data, algo), `${name} ${algo}: the same bytes`);
      t.true(reference.verify(data, signature, algo), `${name} ${algo}: verifies`);
    }
    t.deepEqual(loaded.key.getPublicSSH(), reference.getPublicSSH());
  }
});
