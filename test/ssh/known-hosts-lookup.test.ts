// The indexed host lookup must select exactly the entries a scan of every entry selects, in file
// order, whatever mix of literal, wildcard, negated and hashed host fields a file holds.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { hashHostField, hostField, hostsFieldMatches, knownKeyTypes, parseKnownHosts, verifyHostKey } from '../../src/ssh/known-hosts.ts';
import { loadKnownHosts, reverifyHostKey } from '../../src/ssh/known-hosts-file.ts';

const keyBlob = (type: string): Buffer => {
  const name = Buffer.from(type);
  const body = randomBytes(32);
  const blob = Buffer.alloc(8 + name.length + body.length);
  blob.writeUInt32BE(name.length, 0);
  name.copy(blob, 4);
  blob.writeUInt32BE(body.length, 4 + name.length);
  body.copy(blob, 8 + name.length);
  return blob;
};

const line = (hosts: string, key: Buffer, type = 'ssh-ed25519', marker = ''): string =>
  `${marker}${hosts} ${type} ${key.toString('base64')}`;

test('lookups agree with a scan of every entry, in file order, for literal, wildcard, negated and hashed fields', (t) => {
  const keys = Array.from({ length: 9 }, () => keyBlob('ssh-ed25519'));
  const ecdsa = keyBlob('ecdsa-sha2-nistp256');
  const text = [
    line('cas-01,CAS-02.example', keys[0]!),
    line('*.lab.example,!cas-09.lab.example', keys[1]!),
    line(hashHostField('cas-03', randomBytes(20)), keys[2]!),
    line('[cas-04]:2222', keys[3]!),
    line('cas-01', ecdsa, 'ecdsa-sha2-nistp256'),
    line('cas-0?', keys[4]!),
    line('cas-05', keys[5]!, 'ssh-ed25519', '@revoked '),
    line('cas-09.lab.example', keys[6]!),
    line('cas-01', keys[7]!),
  ].join('\n');
  const { entries, notes } = parseKnownHosts(text, 'kh');
  t.deepEqual(notes, []);
  const names: [string, number][] = [
    ['cas-01', 22],
    ['CAS-02.example', 22],
    ['cas-02.example', 22],
    ['cas-03', 22],
    ['cas-04', 2222],
    ['cas-04', 22],
    ['cas-05', 22],
    ['x.lab.example', 22],
    ['cas-09.lab.example', 22],
    ['nobody', 22],
  ];
  for (const [host, port] of names) {
    const name = hostField(host.toLowerCase(), port);
    const scanned = entries.filter((entry) => hostsFieldMatches(entry.hosts, name));
    const types = [...new Set(scanned.filter((entry) => entry.marker === undefined).map((entry) => entry.keyType))];
    t.deepEqual(knownKeyTypes(entries, host, port), types, `${host}:${port} key types`);
    for (const key of [...keys, ecdsa]) {
      const plain = scanned.filter((entry) => entry.marker === undefined);
      const revoked = scanned.some((entry) => entry.marker === 'revoked' && entry.key.equals(key));
      const verdict = verifyHostKey(entries, host, port, key);
      const expected = revoked
        ? 'revoked'
        : plain.some((entry) => entry.key.equals(key))
          ? 'ok'
          : plain.length === 0
            ? 'unknown'
            : 'mismatch';
      t.is(verdict.ok ? 'ok' : verdict.reason, expected, `${host}:${port}`);
      if (!verdict.ok && verdict.reason === 'mismatch')
        t.deepEqual(
          verdict.knownSources,
          plain.map((entry) => entry.source),
        );
    }
  }
});

test('loadKnownHosts hands out the same entries while the files are unchanged, and sees a key added since', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'casfleet-kh-')), 'known_hosts');
  const first = keyBlob('ssh-ed25519');
  writeFileSync(file, `${line('cas-01', first)}\n`);
  const before = await loadKnownHosts([file, join(file, '..', 'missing')]);
  t.is((await loadKnownHosts([file, join(file, '..', 'missing')])).entries, before.entries);
  t.true(verifyHostKey(before.entries, 'cas-01', 22, first).ok);
  const second = keyBlob('ssh-ed25519');
  writeFileSync(file, `${line('cas-01', first)}\n${line('cas-02', second)}\n`);
  // At once, before any change signal can have arrived: a lookup that fails looks at the files again.
  const { verdict, knownHosts: after } = await reverifyHostKey(before, 'cas-02', 22, second);
  t.true(verdict.ok);
  t.not(after.entries, before.entries);
  t.deepEqual(after.found, [file]);
});

test('a key removed from known_hosts is no longer vouched for once the change is signalled', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'casfleet-kh-')), 'known_hosts');
  const first = keyBlob('ssh-ed25519');
  const second = keyBlob('ssh-ed25519');
  writeFileSync(file, `${line('cas-01', first)}\n${line('cas-02', second)}\n`);
  t.true(verifyHostKey((await loadKnownHosts([file])).entries, 'cas-02', 22, second).ok);
  writeFileSync(file, `${line('cas-01', first)}\n`);
  // The watch's event arrives through the event loop: wait for it without a time limit of our own.
  let current = await loadKnownHosts([file]);
  while (verifyHostKey(current.entries, 'cas-02', 22, second).ok) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    current = await loadKnownHosts([file]);
  }
  t.is(verifyHostKey(current.entries, 'cas-02', 22, second).ok, false);
  t.true(verifyHostKey(current.entries, 'cas-01', 22, first).ok);
});
