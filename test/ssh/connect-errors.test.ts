import test from 'ava';
import { ConnectError, HostKeyError } from '../../src/errors.ts';
import { type ConnectErrorContext, toConnectError } from '../../src/ssh/connect-errors.ts';
import { type HostKeyContext, hostKeyError } from '../../src/ssh/host-key-error.ts';

const context: ConnectErrorContext = {
  name: 'cas-01',
  host: '10.0.0.1',
  port: 22,
  username: 'deploy',
  readyTimeoutMs: 15_000,
  triedAuth: ['key /keys/id_ed25519 (ssh-ed25519 SHA256:abc)'],
  skippedAuth: [],
};

const ssh2Error = (message: string, fields: { level?: string; code?: string | number }): Error => Object.assign(new Error(message), fields);

test('socket errors become short, readable reasons', (t) => {
  const refused = toConnectError(ssh2Error('connect ECONNREFUSED 10.0.0.1:22', { level: 'client-socket', code: 'ECONNREFUSED' }), context);
  t.true(refused instanceof ConnectError);
  t.is(refused.message, 'cannot connect to cas-01 (deploy@10.0.0.1): connection refused (is sshd listening on that port?)');
  t.is(refused.host, 'cas-01');
  const dns = toConnectError(ssh2Error('getaddrinfo ENOTFOUND nope', { level: 'client-socket', code: 'ENOTFOUND' }), {
    ...context,
    host: 'nope',
    port: 2222,
  });
  t.is(dns.message, 'cannot connect to cas-01 (deploy@[nope]:2222): host name does not resolve');
});

test('readyTimeout is explained, not "waiting for handshake"', (t) => {
  const error = toConnectError(ssh2Error('Timed out while waiting for handshake', { level: 'client-timeout' }), context);
  t.regex(error.message, /timed out after 15 s \(TCP connect, key exchange and authentication/);
});

test('authentication failures name the user and what was tried', (t) => {
  const error = toConnectError(ssh2Error('All configured authentication methods failed', { level: 'client-authentication' }), {
    ...context,
    name: '10.0.0.1',
    skippedAuth: ['private key /root/.ssh/id_rsa is encrypted: set CASFLEET_KEY_PASSPHRASE …'],
  });
  t.is(
    error.message,
    'cannot connect to deploy@10.0.0.1: authentication failed for user deploy ' +
      '(tried key /keys/id_ed25519 (ssh-ed25519 SHA256:abc); skipped: private key /root/.ssh/id_rsa is encrypted: set CASFLEET_KEY_PASSPHRASE …)',
  );
  const nothing = toConnectError(ssh2Error('All configured authentication methods failed', { level: 'client-authentication' }), {
    ...context,
    triedAuth: [],
  });
  t.regex(nothing.message, /no credentials to try: no private key given, SSH_AUTH_SOCK unset/);
});

test('MaxStartups drops and handshake failures are recognisable', (t) => {
  t.regex(
    toConnectError(ssh2Error('Connection lost before handshake', { level: 'protocol' }), context).message,
    /closed the connection before the SSH handshake \(sshd MaxStartups/,
  );
  t.regex(
    toConnectError(ssh2Error('Handshake failed: no matching key exchange algorithm', { level: 'handshake' }), context).message,
    /SSH handshake failed: Handshake failed: no matching key exchange algorithm/,
  );
});

const hostContext: HostKeyContext = {
  name: 'cas-01',
  host: '10.0.0.1',
  port: 2222,
  checked: ['/home/op/.ssh/known_hosts', '/etc/ssh/ssh_known_hosts'],
  found: ['/home/op/.ssh/known_hosts'],
};

test('unknown host: names host, files (missing marked) and the presented fingerprint', (t) => {
  const error = hostKeyError(
    { ok: false, reason: 'unknown', presentedType: 'ecdsa-sha2-nistp256', presentedFingerprint: 'SHA256:xyz', certAuthorityOnly: true },
    hostContext,
  );
  t.true(error instanceof HostKeyError);
  t.is(error.host, 'cas-01');
  const lines = error.message.split('\n');
  t.is(lines[0], 'host key verification failed for cas-01 ([10.0.0.1]:2222): no known_hosts entry for [10.0.0.1]:2222; nothing was run.');
  t.true(lines.includes('The host presented ecdsa-sha2-nistp256 SHA256:xyz.'));
  t.true(lines.includes('known_hosts checked: /home/op/.ssh/known_hosts, /etc/ssh/ssh_known_hosts (missing)'));
  t.regex(error.message, /@cert-authority/);
  t.regex(error.message, /ssh-keygen -lf \/etc\/ssh\/ssh_host_ecdsa_key\.pub/);
  t.regex(error.message, /ssh-keyscan -p 2222 10\.0\.0\.1/);
});

test('changed key: the OpenSSH alarm, both fingerprints sources and the removal hint', (t) => {
  const error = hostKeyError(
    {
      ok: false,
      reason: 'mismatch',
      presentedType: 'ssh-ed25519',
      presentedFingerprint: 'SHA256:new',
      knownTypes: ['ecdsa-sha2-nistp256'],
      knownSources: ['/home/op/.ssh/known_hosts:7'],
    },
    hostContext,
  );
  t.regex(error.message, /WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!/);
  t.regex(error.message, /man-in-the-middle/);
  t.regex(
    error.message,
    /presented ssh-ed25519 SHA256:new; known_hosts has ecdsa-sha2-nistp256 key\(s\) for it at \/home\/op\/\.ssh\/known_hosts:7/,
  );
  t.regex(error.message, /known key type\(s\) were offered first, yet the server answered with ssh-ed25519/);
  t.regex(error.message, /ssh-keygen -R '\[10\.0\.0\.1\]:2222'/);
});
