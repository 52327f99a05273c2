// Which credentials a connection offers, in which order. An explicit list (not ssh2's default order)
// keeps every attempt deliberate: each rejected key counts against the server's MaxAuthTries.

import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AnyAuthMethod, AuthHandlerMiddleware } from 'ssh2';
import { isCasfleetError } from '../errors.ts';
import { loadPrivateKey } from './private-key.ts';

export interface AuthPlan {
  /** ssh2 authHandler; records each method as it is tried. */
  readonly handler: AuthHandlerMiddleware;
  /** Human labels of the methods tried so far (for "authentication failed … (tried …)"). */
  readonly tried: readonly string[];
  /** Default keys that could not be used (e.g. encrypted without a passphrase), with the reason. */
  readonly skipped: readonly string[];
}

interface Candidate {
  readonly label: string;
  readonly method: AnyAuthMethod;
}

const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

const keyCandidate = async (path: string, username: string): Promise<Candidate> => {
  const { key, label } = await loadPrivateKey(path);
  return { label: `key ${path} (${label})`, method: { type: 'publickey', username, key } };
};

/**
 * An explicit key is the only credential offered (errors loading it fail the connection). Without one:
 * ssh-agent when SSH_AUTH_SOCK is set, then ~/.ssh/id_{ed25519,ecdsa,rsa} that exist and can be parsed.
 */
export const planAuth = async (username: string, privateKeyPath: string | undefined): Promise<AuthPlan> => {
  const candidates: Candidate[] = [];
  const skipped: string[] = [];
  if (privateKeyPath !== undefined) {
    candidates.push(await keyCandidate(privateKeyPath, username));
  } else {
    const agent = process.env.SSH_AUTH_SOCK;
    if (agent) candidates.push({ label: `ssh-agent (${agent})`, method: { type: 'agent', username, agent } });
    for (const file of DEFAULT_KEY_FILES) {
      const path = join(homedir(), '.ssh', file);
      if (!(await exists(path))) continue;
      try {
        candidates.push(await keyCandidate(path, username));
      } catch (error) {
        if (!isCasfleetError(error)) throw error;
        skipped.push(error.message);
      }
    }
  }
  const tried: string[] = [];
  let next = 0;
  const handler: AuthHandlerMiddleware = (_methodsLeft, _partialSuccess, callback) => {
    const candidate = candidates[next++];
    if (candidate === undefined) return callback(false as never);
    tried.push(candidate.label);
    return callback(candidate.method);
  };
  return { handler, tried, skipped };
};
