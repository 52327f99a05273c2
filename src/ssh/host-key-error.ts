// Turns a failed host-key verdict into the HostKeyError the operator reads. A changed key must be
// impossible to overlook, so it gets OpenSSH's own alarm wording.

import { HostKeyError } from '../errors.ts';
import { type HostKeyVerdict, hostField } from './known-hosts.ts';

export interface HostKeyContext {
  /** Inventory name. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** known_hosts files that were consulted (missing ones included). */
  readonly checked: readonly string[];
  readonly found: readonly string[];
  /** Lines the parser skipped; a broken line can be why a host looks unknown. */
  readonly notes?: readonly string[];
}

const MAX_NOTES = 3;

const filesLine = ({ checked, found }: HostKeyContext): string => {
  const list = checked.map((path) => (found.includes(path) ? path : `${path} (missing)`)).join(', ');
  return `known_hosts checked: ${list || '(none configured)'}`;
};

/** Where sshd keeps the public host key of a type, for the "verify it out of band" hint. */
const hostKeyFile = (keyType: string): string => {
  const short = keyType === 'ssh-rsa' ? 'rsa' : keyType.startsWith('ecdsa-') ? 'ecdsa' : keyType.replace(/^ssh-/, '');
  return `/etc/ssh/ssh_host_${short}_key.pub`;
};

const target = ({ name, host, port }: HostKeyContext): string =>
  name === host && port === 22 ? name : `${name} (${hostField(host, port)})`;

export const hostKeyError = (verdict: Exclude<HostKeyVerdict, { ok: true }>, context: HostKeyContext): HostKeyError => {
  const presented = `${verdict.presentedType} ${verdict.presentedFingerprint}`;
  const lines: string[] = [];
  switch (verdict.reason) {
    case 'unknown':
      lines.push(
        `host key verification failed for ${target(context)}: no known_hosts entry for ${hostField(context.host, context.port)}; nothing was run.`,
        `The host presented ${presented}.`,
        filesLine(context),
      );
      if (verdict.certAuthorityOnly) {
        lines.push('Only @cert-authority lines match this host; casfleet (ssh2) cannot verify host certificates.');
      }
      lines.push(
        `Verify the fingerprint out of band (on the server: ssh-keygen -lf ${hostKeyFile(verdict.presentedType)}),`,
        `then add it: casfleet keys scan -l <host> --write, or ssh-keyscan -p ${context.port} ${context.host} >> ${context.checked[0] ?? '~/.ssh/known_hosts'}`,
      );
      break;
    case 'mismatch': {
      const sameType = verdict.knownTypes.includes(verdict.presentedType);
      lines.push(
        '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
        '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
        '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
        `host key for ${target(context)} has CHANGED; nothing was run. Someone could be eavesdropping on you`,
        '(man-in-the-middle attack), or the server was reinstalled and got new host keys.',
        `The host presented ${presented}; known_hosts has ${verdict.knownTypes.join(', ')} key(s) for it at ${verdict.knownSources.join(', ')}.`,
      );
      if (!sameType) {
        lines.push(`The known key type(s) were offered first, yet the server answered with ${verdict.presentedType}.`);
      }
      lines.push(
        filesLine(context),
        `If the change is legitimate, remove the old entry (ssh-keygen -R '${hostField(context.host, context.port)}') and add the new key.`,
      );
      break;
    }
    case 'revoked':
      lines.push(
        `host key for ${target(context)} is REVOKED (${verdict.revokedSource}); nothing was run.`,
        `The host presented ${presented}.`,
        filesLine(context),
      );
      break;
  }
  const notes = context.notes ?? [];
  if (notes.length > 0) {
    lines.push(
      `Skipped known_hosts lines: ${notes.slice(0, MAX_NOTES).join('; ')}${notes.length > MAX_NOTES ? ` (+${notes.length - MAX_NOTES} more)` : ''}`,
    );
  }
  return new HostKeyError(lines.join('\n'), { host: context.name });
};
