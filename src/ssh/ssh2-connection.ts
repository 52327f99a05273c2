// The Connection implementation: one SSH connection per host, reused for every command, at most
// MAX_CHANNELS commands at once on it.

import pLimit, { type LimitFunction } from 'p-limit';
import type { Client } from 'ssh2';
import { ConnectError, HostKeyError, isCasfleetError, RemoteCommandError } from '../errors.ts';
import type { ClientWatch } from './client-watch.ts';
import type { Connection, ConnectOptions, ExecOptions, ExecResult } from './connection.ts';
import { runOnChannel } from './exec-channel.ts';
import { type HandshakeOutcome, handshake, loginDeadline } from './handshake.ts';
import { openTunnel, type Tunnel } from './jump-pool.ts';
import { type LoadedKnownHosts, loadKnownHosts } from './known-hosts-file.ts';

/**
 * sshd's MaxSessions is 10, but it frees a slot only some time after 'close': at 7+ concurrent channels
 * opens start failing (measured, research/deps.md §1.11). 4 never failed.
 */
export const MAX_CHANNELS = 4;

/** A retry with less of the connect budget left than this could not log in anyway. */
const RETRY_MIN_MS = 1_000;

/** Grace for an orderly close before the socket is destroyed. */
const CLOSE_TIMEOUT_MS = 2_000;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class Ssh2Connection implements Connection {
  /** The inventory name (ConnectOptions.name), as in every message and event. */
  readonly host: string;
  readonly #client: Client;
  readonly #watch: ClientWatch;
  // A limiter per connection: sharing one across connections (or nesting) could deadlock.
  readonly #channels: LimitFunction = pLimit(MAX_CHANNELS);
  #closing: Promise<void> | undefined;

  constructor(host: string, client: Client, watch: ClientWatch) {
    this.host = host;
    this.#client = client;
    this.#watch = watch;
  }

  exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    const lost = this.#watch.lostReason();
    if (lost !== undefined) {
      return Promise.reject(new RemoteCommandError(`not connected to ${this.host}: ${lost}`, null, '', { host: this.host }));
    }
    const context = { host: this.host, lostReason: this.#watch.lostReason };
    const queued = this.#channels(() => runOnChannel(this.#client, script, options, context));
    const { signal } = options;
    if (signal === undefined) return queued;
    // runOnChannel honours the signal once it runs; this also frees callers still waiting for a slot.
    return new Promise<ExecResult>((resolve, reject) => {
      const onAbort = (): void =>
        reject(new RemoteCommandError(`command on ${this.host} was aborted`, null, '', { host: this.host, cause: signal.reason }));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      queued.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#watch.markClosing();
      if (this.#watch.isClosed()) return;
      this.#client.end();
      const timer = setTimeout(() => this.#client.destroy(), CLOSE_TIMEOUT_MS);
      await this.#watch.closed;
      clearTimeout(timer);
    })();
    return this.#closing;
  }
}

const withHost = (error: unknown, options: ConnectOptions): unknown => {
  if (!isCasfleetError(error) || error.host !== undefined) return error;
  const Kind = error instanceof HostKeyError ? HostKeyError : ConnectError;
  return new Kind(`cannot connect to ${options.name}: ${error.message}`, { host: options.name, cause: error });
};

/** One attempt: straight to the host, or through a new tunnel over the (shared) jump connections. */
const attempt = async (
  options: ConnectOptions & { readonly giveUpAt: number },
  knownHosts: LoadedKnownHosts,
): Promise<{ outcome: HandshakeOutcome; tunnel?: Tunnel }> => {
  if (options.jump === undefined || options.jump.length === 0) return { outcome: await handshake(options, knownHosts) };
  const tunnel = await openTunnel(options.jump, options.host, options.port, options.signal);
  // Each hop has its own timeout (OpenSSH's ConnectTimeout is per connection too): the target's
  // starts once its tunnel is open, however long the jump host's own login took.
  const outcome = await handshake({ ...options, giveUpAt: Math.max(options.giveUpAt, loginDeadline(options)) }, knownHosts, tunnel.stream);
  if (!outcome.ok) tunnel.release();
  return { outcome, tunnel };
};

/**
 * Opens an SSH connection with strict host-key checking (through the jump hosts, when there are
 * any, each checked the same way). Rejects with HostKeyError when known_hosts does not vouch for the
 * presented key (nothing runs on the host), ConnectError for anything else.
 */
export const connect = async (options: ConnectOptions): Promise<Connection> => {
  if (options.signal?.aborted) throw new ConnectError(`connecting to ${options.name} was aborted`, { host: options.name });
  try {
    // One budget for the whole connect: a retry gets what is left of it, not a second timeout.
    const timed = { ...options, giveUpAt: loginDeadline(options) };
    const knownHosts = await loadKnownHosts(options.knownHostsPaths);
    let { outcome, tunnel } = await attempt(timed, knownHosts);
    // One retry for failures that are about load, not about this host (research/deps.md §1.3, §1.6).
    if (!outcome.ok && outcome.retryable && !options.signal?.aborted && timed.giveUpAt - Date.now() > RETRY_MIN_MS) {
      await delay(100 + Math.random() * 200);
      ({ outcome, tunnel } = await attempt(timed, knownHosts));
    }
    if (!outcome.ok) throw outcome.error;
    if (tunnel) void outcome.watch.closed.then(tunnel.release);
    return new Ssh2Connection(options.name, outcome.client, outcome.watch);
  } catch (error) {
    throw withHost(error, options);
  }
};
