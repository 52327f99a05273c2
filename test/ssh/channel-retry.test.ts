// sshd refuses session channels beyond MaxSessions with reason 2 (SSH_OPEN_CONNECT_FAILED). This sshd
// allows only 2, below casfleet's cap of 4, so opens fail and must be retried until slots free up.

import test from 'ava';
import type { Connection } from '../../src/ssh/connection.ts';
import { connect } from '../../src/ssh/ssh2-connection.ts';
import { type Sshd, startSshd } from './helpers/sshd.ts';

const isRoot = process.getuid?.() === 0;
const itest = isRoot ? test : test.skip;

let sshd: Sshd;
let connection: Connection;

test.before(async () => {
  if (!isRoot) return;
  sshd = await startSshd({ config: ['SetEnv SHLVL=1', 'MaxSessions 2'] });
  const knownHosts = await sshd.writeKnownHosts('known_hosts', [`[${sshd.host}]:${sshd.port} ${sshd.hostKeys.ed25519}`]);
  connection = await connect({
    name: 'tight',
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKeyPath: sshd.clientKey,
    knownHostsPaths: [knownHosts],
  });
});

test.after.always(async () => {
  await connection?.close();
  await sshd?.stop();
});

itest('channel-open failures (reason 2) are retried with backoff until a session slot frees', async (t) => {
  const results = await Promise.all(Array.from({ length: 4 }, (_, i) => connection.exec(`sleep 0.2; echo ${i}`)));
  t.deepEqual(
    results.map((r) => r.stdout),
    ['0\n', '1\n', '2\n', '3\n'],
  );
  // Proof that the limit was really hit (and survived), not merely avoided.
  t.regex(await sshd.log(), /no more sessions/);
});
