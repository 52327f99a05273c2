// SSH keys for a lab: one client key (the operator's), one ed25519 host key per host, and the
// known_hosts files that vouch for those host keys (plain, plus OpenSSH's hashed form).

import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { hashHostField } from '../ssh/known-hosts.ts';
import { mapLimit, runChecked } from './lab-exec.ts';
import { renderKnownHostsLine } from './lab-templates.ts';

export interface KeyRequest {
  readonly path: string;
  readonly comment: string;
}

/** ssh-keygen is mostly process start-up, so a few in parallel per core is the fastest. */
export const generateKeys = async (requests: readonly KeyRequest[]): Promise<void> => {
  await mapLimit(requests, availableParallelism() * 3, async ({ path, comment }) => {
    // ssh-keygen asks before overwriting; a stale key from a crashed run must go first.
    rmSync(path, { force: true });
    rmSync(`${path}.pub`, { force: true });
    await runChecked('generating an ssh key', ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  });
};

export const readPublicKey = (privateKeyPath: string): string => readFileSync(`${privateKeyPath}.pub`, 'utf8').trim();

/** OpenSSH's HashKnownHosts format: |1|base64(salt)|base64(HMAC-SHA1(salt, host)). */
export const hashKnownHostName = (host: string, salt: Buffer = randomBytes(20)): string => hashHostField(host, salt);

export interface KnownHostEntry {
  readonly address: string;
  readonly publicKeyLine: string;
}

export const renderKnownHosts = (entries: readonly KnownHostEntry[]): string =>
  entries.map(({ address, publicKeyLine }) => `${renderKnownHostsLine(address, publicKeyLine)}\n`).join('');

export const renderHashedKnownHosts = (entries: readonly KnownHostEntry[]): string =>
  entries
    .map(({ address, publicKeyLine }) => {
      const [, type, key] = renderKnownHostsLine(address, publicKeyLine).split(' ');
      return `${hashKnownHostName(address)} ${type} ${key}\n`;
    })
    .join('');
