import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { serverHostKeyOrder } from '../../src/ssh/algorithms.ts';
import {
  fingerprint,
  hostField,
  hostsFieldMatches,
  type KnownHostEntry,
  keyTypeOfBlob,
  knownKeyTypes,
  parseKnownHosts,
  verifyHostKey,
} from '../../src/ssh/known-hosts.ts';

// Fixtures come from real ssh-keygen (test/fixtures/ssh/generate.sh); only public keys are stored.
const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`../fixtures/ssh/${name}`, import.meta.url)), 'utf8');

/** `type base64` of a .pub fixture. */
const pub = (name: string): string => fixture(`${name}.pub`).trim().split(/\s+/).slice(0, 2).join(' ');
const blob = (name: string): Buffer => Buffer.from(pub(name).split(' ')[1]!, 'base64');

const ed25519 = blob('cas01-ed25519');
const ecdsa = blob('cas01-ecdsa');
const rsa = blob('cas01-rsa');
const cas02 = blob('cas02-ed25519');
const attacker = blob('attacker-ed25519');

const parse = (lines: readonly string[]): readonly KnownHostEntry[] => {
  const { entries, notes } = parseKnownHosts(lines.join('\n'), 'kh');
  if (notes.length > 0) throw new Error(notes.join('\n'));
  return entries;
};

const plain = parseKnownHosts(fixture('known_hosts.plain'), 'known_hosts.plain').entries;
const hashed = parseKnownHosts(fixture('known_hosts.hashed'), 'known_hosts.hashed').entries;

test('fingerprints and key types match what ssh-keygen -l prints', (t) => {
  for (const line of fixture('fingerprints.txt').trim().split('\n')) {
    const [file = '', expected = ''] = line.split(' ');
    const name = file.replace(/\.pub$/, '');
    t.is(fingerprint(blob(name)), expected, name);
    t.is(keyTypeOfBlob(blob(name)), pub(name).split(' ')[0], name);
  }
});

test('hostField brackets only non-22 ports', (t) => {
  t.is(hostField('cas-01', 22), 'cas-01');
  t.is(hostField('10.0.0.1', 2222), '[10.0.0.1]:2222');
});

for (const [label, entries] of [
  ['plain', plain],
  ['hashed by ssh-keygen -H', hashed],
] as const) {
  test(`${label}: accepts each known key of a port-22 host`, (t) => {
    t.deepEqual(verifyHostKey(entries, 'cas-01.example', 22, ed25519), { ok: true });
    t.deepEqual(verifyHostKey(entries, 'cas-01.example', 22, ecdsa), { ok: true });
    t.deepEqual(verifyHostKey(entries, '192.0.2.10', 22, rsa), { ok: true });
  });

  test(`${label}: host names match case-insensitively`, (t) => {
    t.deepEqual(verifyHostKey(entries, 'CAS-01.Example', 22, ed25519), { ok: true });
  });

  test(`${label}: [host]:port entries match only that port`, (t) => {
    t.deepEqual(verifyHostKey(entries, 'cas-02.example', 2222, cas02), { ok: true });
    t.like(verifyHostKey(entries, 'cas-02.example', 22, cas02), { ok: false, reason: 'unknown' });
    t.like(verifyHostKey(entries, 'cas-01.example', 2222, ed25519), { ok: false, reason: 'unknown' });
  });

  test(`${label}: a different key for a known host is a mismatch, not unknown`, (t) => {
    const verdict = verifyHostKey(entries, 'cas-01.example', 22, attacker);
    t.like(verdict, {
      ok: false,
      reason: 'mismatch',
      presentedType: 'ssh-ed25519',
      presentedFingerprint: fingerprint(attacker),
      knownTypes: ['ssh-ed25519', 'ecdsa-sha2-nistp256'],
    });
  });

  test(`${label}: a host with no entry is unknown`, (t) => {
    t.like(verifyHostKey(entries, 'cas-99.example', 22, ed25519), {
      ok: false,
      reason: 'unknown',
      presentedFingerprint: fingerprint(ed25519),
      certAuthorityOnly: false,
    });
  });

  test(`${label}: knownKeyTypes lists the host's types in file order`, (t) => {
    t.deepEqual(knownKeyTypes(entries, 'cas-01.example', 22), ['ssh-ed25519', 'ecdsa-sha2-nistp256']);
    t.deepEqual(knownKeyTypes(entries, 'cas-02.example', 2222), ['ssh-ed25519']);
    t.deepEqual(knownKeyTypes(entries, 'nobody.example', 22), []);
  });
}

test('hashed entries are the HMAC of [host]:port, so the bare name does not match them', (t) => {
  const bracketed = hashed.find((entry) => hostsFieldMatches(entry.hosts, '[cas-02.example]:2222'));
  t.truthy(bracketed);
  t.true(bracketed!.hosts.startsWith('|1|'));
  t.false(hostsFieldMatches(bracketed!.hosts, 'cas-02.example'));
});

test('brackets are literal, not a regex character class', (t) => {
  const entries = parse([`[127.0.0.1]:2222 ${pub('cas01-ed25519')}`]);
  t.deepEqual(verifyHostKey(entries, '127.0.0.1', 2222, ed25519), { ok: true });
  // As a character class, `[127.0.0.1]:2222` would match the one-character host "1:2222".
  t.false(hostsFieldMatches('[127.0.0.1]:2222', '1:2222'));
  t.false(hostsFieldMatches('[127.0.0.1]:2222', '127.0.0.1'));
  // Other regex metacharacters are literal too.
  t.false(hostsFieldMatches('cas.01', 'casx01'));
  t.false(hostsFieldMatches('a+b', 'aab'));
});

test('wildcards: * spans any run, ? exactly one character, comma lists any-of', (t) => {
  t.true(hostsFieldMatches('*.lab.example', 'cas-01.lab.example'));
  t.false(hostsFieldMatches('*.lab.example', 'lab.example'));
  t.true(hostsFieldMatches('10.0.0.?', '10.0.0.7'));
  t.false(hostsFieldMatches('10.0.0.?', '10.0.0.17'));
  t.true(hostsFieldMatches('[10.0.0.*]:2222', '[10.0.0.42]:2222'));
  t.false(hostsFieldMatches('[10.0.0.*]:2222', '10.0.0.42'));
  t.true(hostsFieldMatches('alpha,beta', 'beta'));
  const entries = parse([`*.lab.example ${pub('cas01-ed25519')}`]);
  t.deepEqual(verifyHostKey(entries, 'cas-07.lab.example', 22, ed25519), { ok: true });
});

test('a negated pattern excludes a host even when a positive pattern matches', (t) => {
  t.false(hostsFieldMatches('*.lab.example,!bad.lab.example', 'bad.lab.example'));
  t.true(hostsFieldMatches('*.lab.example,!bad.lab.example', 'good.lab.example'));
  // Negation alone never selects anything.
  t.false(hostsFieldMatches('!bad.lab.example', 'good.lab.example'));
  const entries = parse([`*.lab.example,!bad.lab.example ${pub('cas01-ed25519')}`]);
  t.like(verifyHostKey(entries, 'bad.lab.example', 22, ed25519), { ok: false, reason: 'unknown' });
});

test('@revoked rejects the key even when a plain line vouches for it', (t) => {
  const entries = parse([`cas-01.example ${pub('cas01-ed25519')}`, `@revoked * ${pub('cas01-ed25519')}`]);
  t.like(verifyHostKey(entries, 'cas-01.example', 22, ed25519), { ok: false, reason: 'revoked', revokedSource: 'kh:2' });
  // Another, unrevoked key of a host with no plain entry for it is still just unknown/mismatch.
  t.like(verifyHostKey(entries, 'cas-01.example', 22, ecdsa), { ok: false, reason: 'mismatch' });
});

test('@revoked applies only to the hosts its pattern selects (as in OpenSSH)', (t) => {
  const entries = parse([`@revoked other.example ${pub('cas01-ed25519')}`, `cas-01.example ${pub('cas01-ed25519')}`]);
  t.deepEqual(verifyHostKey(entries, 'cas-01.example', 22, ed25519), { ok: true });
});

test('@cert-authority lines never vouch for a key and are reported as the only match', (t) => {
  const entries = parse([`@cert-authority *.example ${pub('cas02-ed25519')}`]);
  t.like(verifyHostKey(entries, 'cas-01.example', 22, cas02), { ok: false, reason: 'unknown', certAuthorityOnly: true });
  t.deepEqual(knownKeyTypes(entries, 'cas-01.example', 22), []);
});

test('only another key type known: still a mismatch, with the known types', (t) => {
  const entries = parse([`cas-01.example ${pub('cas01-ecdsa')}`]);
  t.like(verifyHostKey(entries, 'cas-01.example', 22, ed25519), {
    ok: false,
    reason: 'mismatch',
    presentedType: 'ssh-ed25519',
    knownTypes: ['ecdsa-sha2-nistp256'],
  });
});

test('comments, blank lines and CRLF are fine; malformed lines become notes', (t) => {
  const text = [
    '# a comment',
    '',
    `cas-01.example ${pub('cas01-ed25519')} a trailing comment\r`,
    'cas-01.example ssh-ed25519',
    `@weird cas-01.example ${pub('cas01-ed25519')}`,
    `cas-01.example ecdsa-sha2-nistp256 ${pub('cas01-ed25519').split(' ')[1]}`,
  ].join('\n');
  const { entries, notes } = parseKnownHosts(text, 'kh');
  t.is(entries.length, 1);
  t.is(entries[0]!.source, 'kh:3');
  t.is(notes.length, 3);
  t.regex(notes[0]!, /^kh:4: /);
  t.regex(notes[1]!, /^kh:5: unknown marker @weird/);
  t.regex(notes[2]!, /^kh:6: key data does not match key type ecdsa-sha2-nistp256/);
});

test('serverHostKeyOrder puts known types first and maps ssh-rsa to the SHA-2 algorithms', (t) => {
  t.deepEqual(serverHostKeyOrder(['ecdsa-sha2-nistp256']).slice(0, 2), ['ecdsa-sha2-nistp256', 'ssh-ed25519']);
  t.deepEqual(serverHostKeyOrder(['ssh-rsa']).slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-ed25519']);
  const order = serverHostKeyOrder(['ssh-rsa', 'ssh-ed25519', 'ssh-dss']);
  t.deepEqual(order.slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-ed25519']);
  t.false(order.includes('ssh-dss' as never));
  t.is(new Set(order).size, order.length);
  t.deepEqual(serverHostKeyOrder([])[0], 'ssh-ed25519');
});
