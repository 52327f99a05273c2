// Which credentials a connection offers, in which order. An explicit list (not ssh2's default order)
// keeps every attempt deliberate: each rejected key counts against the server's MaxAuthTries.

import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AnyAuthMethod, AuthHandlerMiddleware } from 'ssh2';
import { isCasfleetError } from '../errors.ts';
import type { IdentityFile, SshEndpoint } from './connection.ts';
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

const missingOrUnusable = async (file: IdentityFile, username: string, skipped: string[]): Promise<Candidate | undefined> => {
  if (!file.required && !(await exists(file.path))) {
    skipped.push(`${file.path} (${file.source ?? 'ssh_config'}) does not exist`);
    return undefined;
  }
  try {
    return await keyCandidate(file.path, username);
  } catch (error) {
    if (file.required || !isCasfleetError(error)) throw error;
    skipped.push(error.message);
    return undefined;
  }
};

/**
 * Which credentials to offer, in order. An explicit key (inventory, --private-key) is the only one
 * offered, and must load. Identity files from ssh_config come first, then ssh-agent unless
 * IdentitiesOnly; ones that do not exist are skipped, as OpenSSH does. Without any: ssh-agent
 * (IdentityAgent, else SSH_AUTH_SOCK) then ~/.ssh/id_{ed25519,ecdsa,rsa} that exist and parse.
 */
export const planAuth = async (endpoint: SshEndpoint): Promise<AuthPlan> => {
  const { username } = endpoint;
  const files: IdentityFile[] = [
    ...(endpoint.privateKeyPath !== undefined ? [{ path: endpoint.privateKeyPath, required: true }] : []),
    ...(endpoint.identityFiles ?? []),
  ];
  const explicit = files.some((file) => file.required);
  const candidates: Candidate[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    const candidate = await missingOrUnusable(file, username, skipped);
    if (candidate !== undefined) candidates.push(candidate);
  }
  if (!explicit) {
    const agent = endpoint.agent === undefined ? process.env.SSH_AUTH_SOCK : endpoint.agent;
    if (agent && !endpoint.identitiesOnly) candidates.push({ label: `ssh-agent (${agent})`, method: { type: 'agent', username, agent } });
    if (files.length === 0) {
      for (const file of DEFAULT_KEY_FILES) {
        const path = join(homedir(), '.ssh', file);
        if (!(await exists(path))) continue;
        const candidate = await missingOrUnusable({ path, required: false }, username, skipped);
        if (candidate !== undefined) candidates.push(candidate);
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
