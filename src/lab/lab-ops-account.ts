// The lab's non-root admin account: `ops`, whose sudo asks for a password, as on servers where the
// operator logs in as themselves. It logs in with the lab key like root; its password is random per
// lab and kept in the lab directory (become_password, 0600) for tests and hand tries.

import { randomBytes } from 'node:crypto';
import { runChecked } from './lab-exec.ts';

export const OPS_USER = 'ops';
/** Where a host's sshd also looks for keys (in its own /etc overlay), readable by ops. */
export const OPS_AUTHORIZED_KEYS = '/etc/casfleet-lab/authorized_keys';
const OPS_ID = 4242;

export const newOpsPassword = (): string => randomBytes(12).toString('base64url');

/** SHA-512 crypt hash for /etc/shadow (openssl ships with OpenSSH's dependencies). */
export const hashOpsPassword = async (password: string): Promise<string> =>
  (await runChecked('hashing the lab ops password', ['openssl', 'passwd', '-6', '-stdin'], { input: `${password}\n` })).stdout.trim();

/** /etc/passwd and /etc/group with ops added; home /tmp (each host's own), a shell without rc files. */
export const withOpsPasswd = (systemPasswd: string): string =>
  `${systemPasswd.trimEnd()}\n${OPS_USER}:x:${OPS_ID}:${OPS_ID}:casfleet lab admin:/tmp:/bin/sh\n`;
export const withOpsGroup = (systemGroup: string): string => `${systemGroup.trimEnd()}\n${OPS_USER}:x:${OPS_ID}:\n`;
export const opsShadowLine = (hash: string): string => `${OPS_USER}:${hash}:20000:0:99999:7:::\n`;

/** sudoers.d entry: every command, with the password (no NOPASSWD). */
export const OPS_SUDOERS = `# casfleet lab: ops may run everything through sudo, after giving its password\n${OPS_USER} ALL=(ALL:ALL) ALL\n`;
