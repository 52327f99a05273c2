// ssh2 reports failures as bare Errors with a `level` (and sometimes a socket `code`). This maps them to
// ConnectError messages an operator can act on. Messages name hosts, users, key paths and fingerprints,
// never passphrases or key material.

import { AuthError, ConnectError } from '../errors.ts';
import { hostField } from './known-hosts.ts';

/** What ssh2 attaches to its errors. */
export interface Ssh2Error extends Error {
  readonly level?: string;
  readonly code?: string | number;
}

export interface ConnectErrorContext {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly readyTimeoutMs: number;
  readonly triedAuth: readonly string[];
  readonly skippedAuth: readonly string[];
}

const SOCKET_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (is sshd listening on that port?)',
  ECONNRESET: 'connection reset by the server during the SSH handshake',
  ETIMEDOUT: 'TCP connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'host name does not resolve',
  EAI_AGAIN: 'host name lookup failed temporarily (DNS)',
  EPIPE: 'connection closed by the server during the SSH handshake',
};

/** A duration for messages: `0.5 s`, `15 s`. */
export const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

const authFailure = (context: ConnectErrorContext): string => {
  const tried =
    context.triedAuth.length > 0
      ? `tried ${context.triedAuth.join('; ')}`
      : 'no credentials to try: no private key given, SSH_AUTH_SOCK unset, no usable ~/.ssh/id_* key';
  const skipped = context.skippedAuth.length > 0 ? `; skipped: ${context.skippedAuth.join('; ')}` : '';
  return `authentication failed for user ${context.username} (${tried}${skipped})`;
};

const describe = (error: Ssh2Error, context: ConnectErrorContext): string => {
  if (typeof error.code === 'string' && SOCKET_CODES[error.code] !== undefined) return SOCKET_CODES[error.code]!;
  if (error.level === 'client-timeout' && /handshake/i.test(error.message)) {
    // ssh2 says "waiting for handshake" even when only authentication was slow: its timer covers all three.
    return `timed out after ${seconds(context.readyTimeoutMs)} (TCP connect, key exchange and authentication must finish within the ready timeout)`;
  }
  if (error.level === 'client-authentication') return authFailure(context);
  if (error.level === 'agent') return `ssh-agent failed: ${error.message}`;
  if (error.level === 'protocol' && /lost before handshake/i.test(error.message)) {
    return 'the server closed the connection before the SSH handshake (sshd MaxStartups/PerSourcePenalties throttling, or not an SSH server)';
  }
  if (error.level === 'handshake') return `SSH handshake failed: ${error.message}`;
  if (typeof error.code === 'number') return `the server disconnected: ${error.message}`;
  return error.message;
};

export const toConnectError = (error: unknown, context: ConnectErrorContext): ConnectError => {
  const where = `${context.username}@${hostField(context.host, context.port)}`;
  const label = context.name === context.host ? where : `${context.name} (${where})`;
  const reason = error instanceof Error ? describe(error as Ssh2Error, context) : String(error);
  const Kind = (error as Ssh2Error | undefined)?.level === 'client-authentication' ? AuthError : ConnectError;
  return new Kind(`cannot connect to ${label}: ${reason}`, { host: context.name, cause: error });
};
