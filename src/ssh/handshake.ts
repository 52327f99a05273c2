// One connection attempt: node-ssh creates the ssh2 Client and starts the handshake; we watch the Client
// ourselves. node-ssh's own promise is not the verdict: it rejects on the first 'error' event, including
// non-fatal ones (an unreachable ssh-agent, after which ssh2 goes on to the next key).

import type { Duplex } from 'node:stream';
import { type Config, NodeSSH } from 'node-ssh';
import type { Client } from 'ssh2';
import { ConnectError } from '../errors.ts';
import { KEX_ALGORITHMS, serverHostKeyOrder } from './algorithms.ts';
import { planAuth } from './auth.ts';
import { type ClientWatch, watchClient } from './client-watch.ts';
import { type Ssh2Error, toConnectError } from './connect-errors.ts';
import type { SshEndpoint } from './connection.ts';
import { hostKeyError } from './host-key-error.ts';
import { ignoreHostKeysNotice } from './host-keys-notice.ts';
import { fingerprint, type HostKeyVerdict, hostField, knownKeyTypes, verifyHostKey } from './known-hosts.ts';
import { addKnownHost, type LoadedKnownHosts, reverifyHostKey } from './known-hosts-file.ts';

export const DEFAULT_READY_TIMEOUT_MS = 15_000;
/** A silent host (frozen VM, lost NAT state) fails after ~40 s instead of hanging an exec forever. */
const KEEPALIVE_INTERVAL_MS = 10_000;
const KEEPALIVE_COUNT_MAX = 3;
/** ssh2 gives up on the (countMax+1)th keepalive interval without a packet from the host. */
export const DEFAULT_KEEPALIVE_BOUND_MS = KEEPALIVE_INTERVAL_MS * (KEEPALIVE_COUNT_MAX + 1);

export type HandshakeOutcome =
  | { readonly ok: true; readonly client: Client; readonly watch: ClientWatch }
  /** `retryable`: a transient pre-auth failure (overloaded agent socket, sshd MaxStartups drop). */
  | { readonly ok: false; readonly error: ConnectError; readonly retryable: boolean };

const isAgentConnectFailure = (error: Ssh2Error): boolean => error.level === 'agent' && /failed to connect to agent/i.test(error.message);

// ssh2 reports these and then carries on with the next auth method; only the rest end the attempt.
const isRecoverable = (error: Ssh2Error): boolean => error.level === 'agent' || /^Error while signing/.test(error.message);

const isThrottled = (error: Ssh2Error): boolean => error.level === 'protocol' && /lost before handshake/i.test(error.message);

/**
 * accept-new: a host known_hosts has no entry for gets its key recorded (in the first file), as
 * OpenSSH does; a changed or revoked key is refused all the same.
 */
const acceptNewKey = async (options: SshEndpoint, knownHosts: LoadedKnownHosts, key: Buffer): Promise<boolean> => {
  const file = knownHosts.checked[0];
  if (file === undefined) return false;
  const added = await addKnownHost(file, options.host, options.port, key, options.hashKnownHosts === true);
  if (added !== undefined) {
    process.stderr.write(
      `casfleet: warning: permanently added ${options.name} (${hostField(options.host, options.port)}) ${added.line.split(' ')[1]} ${fingerprint(key)} to ${added.file}\n`,
    );
  }
  return true;
};

/** The moment a connect that starts now must have logged in by (its ready timeout, from its start). */
export const loginDeadline = (options: Pick<SshEndpoint, 'readyTimeoutMs'>): number =>
  Date.now() + (options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);

/**
 * One handshake with an endpoint, over its own TCP connection or over `sock` (a jump host's tunnel).
 * `giveUpAt` (epoch ms) is when the whole connect gives up, a retry or a jump tunnel included; ssh2's
 * own ready timer starts only at its TCP connect, so it gets what is left of the budget by then.
 */
export const handshake = async (
  options: SshEndpoint & { readonly signal?: AbortSignal; readonly giveUpAt?: number },
  knownHosts: LoadedKnownHosts,
  sock?: Duplex,
): Promise<HandshakeOutcome> => {
  const { name, host, port, username } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const giveUpAt = options.giveUpAt ?? loginDeadline(options);
  const auth = await planAuth(options);

  let verdict: HostKeyVerdict | undefined;
  let keyProblem: Error | undefined;
  let files = knownHosts;
  const config: Config = {
    host,
    port,
    username,
    ...(sock !== undefined ? { sock } : {}),
    // At least 1 ms: ssh2 reads 0 as "no timeout at all".
    readyTimeout: Math.max(1, giveUpAt - Date.now()),
    keepaliveInterval: options.keepaliveIntervalMs ?? KEEPALIVE_INTERVAL_MS,
    keepaliveCountMax: options.keepaliveCountMax ?? KEEPALIVE_COUNT_MAX,
    algorithms: {
      kex: [...KEX_ALGORITHMS],
      serverHostKey: serverHostKeyOrder(knownKeyTypes(knownHosts.entries, host, port)),
    },
    // Without hostVerifier ssh2 accepts any key. Answering false aborts before authentication, so a
    // man in the middle never even sees a signature from our key, and nothing can run.
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void): void => {
      const failed = (error: unknown) => {
        keyProblem = error instanceof Error ? error : new Error(String(error));
        verify(false);
      };
      const judge = (current: HostKeyVerdict): void => {
        verdict = current;
        if (current.ok || current.reason !== 'unknown' || current.certAuthorityOnly || options.hostKeyPolicy !== 'accept-new') {
          verify(current.ok);
          return;
        }
        acceptNewKey(options, files, key).then((accepted) => {
          if (accepted) verdict = { ok: true };
          verify(accepted);
        }, failed);
      };
      const cached = verifyHostKey(files.entries, host, port, key);
      if (cached.ok) {
        judge(cached);
        return;
      }
      // The files in memory may predate an edit (known-hosts-file.ts): judge a refusal on them as they are now.
      reverifyHostKey(files, host, port, key).then((fresh) => {
        files = fresh.knownHosts;
        judge(fresh.verdict);
      }, failed);
    },
    authHandler: auth.handler,
  };

  const ssh = new NodeSSH();
  // No privateKeyPath is passed, so node-ssh has no await before it creates the Client and calls
  // connect(): the Client exists now, and we attach our permanent listeners in the same tick.
  const viaNodeSsh = ssh.connect(config);
  const client = ssh.connection;
  if (client === null) throw new ConnectError(`internal error: node-ssh did not create a client for ${name}`, { host: name });
  const watch = watchClient(client);
  ignoreHostKeysNotice(client);
  // Nagle + delayed ACK otherwise cost ~40 ms on every channel round trip (10x slower execs).
  client.setNoDelay(true);
  viaNodeSsh.catch(() => {});

  let onError!: (error: Ssh2Error) => void;
  let onAbort: (() => void) | undefined;
  const aborted = Symbol('aborted');
  const ready = new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    onError = (error) => {
      if (!isRecoverable(error)) reject(error);
    };
    client.on('error', onError);
    void watch.closed.then(() => reject(watch.errors.at(-1) ?? new Error('the server closed the connection during the handshake')));
    if (options.signal) {
      onAbort = () => reject(aborted);
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    }
  });

  try {
    await ready;
    return { ok: true, client, watch };
  } catch (error) {
    client.destroy();
    if (error === aborted) {
      return { ok: false, error: new ConnectError(`connecting to ${name} was aborted`, { host: name }), retryable: false };
    }
    if (keyProblem !== undefined) {
      return {
        ok: false,
        error: new ConnectError(`cannot record the host key of ${name}: ${keyProblem.message}`, { host: name, cause: keyProblem }),
        retryable: false,
      };
    }
    if (verdict !== undefined && !verdict.ok) {
      return {
        ok: false,
        error: hostKeyError(verdict, { name, host, port, ...files }),
        retryable: false,
      };
    }
    const agentFailures = watch.errors.filter(isAgentConnectFailure);
    const context = {
      name,
      host,
      port,
      username,
      readyTimeoutMs,
      triedAuth: auth.tried,
      skippedAuth: [...auth.skipped, ...agentFailures.map((failure) => `ssh-agent: ${failure.message}`)],
    };
    return {
      ok: false,
      error: toConnectError(error, context),
      retryable: agentFailures.length > 0 || isThrottled(error as Ssh2Error),
    };
  } finally {
    client.removeListener('error', onError);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
  }
};
