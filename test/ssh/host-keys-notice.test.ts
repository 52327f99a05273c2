// sshd announces its host keys after the login; ssh2 alone asks it to prove every one of them (a
// signature per key on the host, a verification each here). With the hook, the announcement is
// dropped and nothing is asked. Both against a throwaway sshd with ed25519, ECDSA and RSA host keys;
// an exec's round trip after the login guarantees the announcement (sent right after the login, on
// the same stream) has been handled.
import { readFile } from 'node:fs/promises';
import test from 'ava';
import ssh2 from 'ssh2';
import { HOST_KEYS_NOTICE, ignoreHostKeysNotice } from '../../src/ssh/host-keys-notice.ts';
import { type Sshd, startSshd } from './helpers/sshd.ts';

let sshd: Sshd;
test.before(async () => {
  sshd = await startSshd();
});
test.after.always(async () => {
  await sshd?.stop();
});

const PROVE = 'Outbound: Sending GLOBAL_REQUEST (hostkeys-prove-00@openssh.com)';
const NOTICE = `Inbound: GLOBAL_REQUEST (${HOST_KEYS_NOTICE})`;

/** ssh2's debug lines of one login and one exec, with or without the hook. */
const session = async (hooked: boolean): Promise<string[]> => {
  const lines: string[] = [];
  const client = new ssh2.Client();
  const ready = new Promise<void>((resolve, reject) => client.once('ready', resolve).once('error', reject));
  client.connect({
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKey: await readFile(sshd.clientKey),
    hostVerifier: () => true,
    debug: (line: string) => lines.push(line),
  });
  if (hooked) ignoreHostKeysNotice(client);
  try {
    await ready;
    const code = await new Promise<number | null>((resolve, reject) =>
      client.exec('true', (error, channel) => {
        if (error) return reject(error);
        channel.on('exit', (status: number | null) => resolve(status)).resume();
        channel.on('close', () => resolve(null));
      }),
    );
    if (code !== 0) throw new Error(`exec exited ${code}`);
  } finally {
    client.end();
  }
  return lines;
};

test('ssh2 alone asks sshd to prove the host keys it announces', async (t) => {
  const lines = await session(false);
  t.true(lines.includes(NOTICE), 'the server announced its keys');
  t.true(lines.includes(PROVE));
});

test('with the hook the announcement is dropped: no proof is asked, the session works', async (t) => {
  const lines = await session(true);
  t.true(lines.includes(NOTICE), 'the server announced its keys');
  t.false(lines.includes(PROVE));
});
