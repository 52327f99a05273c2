// Jump hosts (ProxyJump): one SSH connection per jump host, shared by every target behind it, with
// its own budget of tunnel opens in flight. A target's tunnel is a direct-tcpip channel on the jump
// host's connection; the target's handshake, host-key check and login then run end to end through
// it, so a fresh connection to a target (gates, confirmations) is a new SSH session over a new
// tunnel. Opening one connection per target instead would hit the jump host's MaxStartups
// (research/deps.md §1.6). A jump host no tunnel uses any more is closed after a short linger.

import type { Duplex } from 'node:stream';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Client, ClientChannel } from 'ssh2';
import { ConnectError, HostKeyError, isCasfleetError } from '../errors.ts';
import type { ClientWatch } from './client-watch.ts';
import type { SshEndpoint } from './connection.ts';
import { handshake } from './handshake.ts';
import { hostField } from './known-hosts.ts';
import { loadKnownHosts } from './known-hosts-file.ts';

/** direct-tcpip opens in flight on one jump connection; established tunnels do not count. */
export const JUMP_CHANNEL_OPENS = 16;
/** How long an unused jump connection stays open, so that hosts started a moment apart share it. */
const LINGER_MS = 2_000;

interface JumpConnection {
  readonly key: string;
  readonly client: Client;
  readonly watch: ClientWatch;
  readonly opens: LimitFunction;
  /** The tunnel this connection itself runs through (for a second hop), released with it. */
  readonly releaseParent?: () => void;
  refs: number;
  linger?: NodeJS.Timeout;
}

const pool = new Map<string, Promise<JumpConnection>>();
/** Jump connections opened since the process started, by key: how tests see that one is shared. */
export const jumpConnectionsOpened = new Map<string, number>();

const keyOf = (hops: readonly SshEndpoint[]): string => hops.map((hop) => `${hop.username}@${hostField(hop.host, hop.port)}`).join(' -> ');

const closeJump = (jump: JumpConnection): void => {
  pool.delete(jump.key);
  jump.watch.markClosing();
  jump.client.end();
  jump.releaseParent?.();
};

const release = (jump: JumpConnection): void => {
  jump.refs -= 1;
  if (jump.refs > 0) return;
  jump.linger = setTimeout(() => {
    if (jump.refs === 0) closeJump(jump);
  }, LINGER_MS);
};

/** Opens a direct-tcpip channel to host:port on an established jump connection. */
const forward = (jump: JumpConnection, hop: SshEndpoint, host: string, port: number): Promise<ClientChannel> =>
  jump.opens(
    () =>
      new Promise<ClientChannel>((resolve, reject) => {
        const lost = jump.watch.lostReason();
        if (lost !== undefined) {
          reject(new ConnectError(`jump host ${hop.name} is not connected: ${lost}`));
          return;
        }
        jump.client.forwardOut('127.0.0.1', 0, host, port, (error, channel) => {
          if (error)
            reject(
              new ConnectError(`jump host ${hop.name} cannot reach ${hostField(host, port)}: ${error.message.replace(/^\(SSH\) /, '')}`, {
                cause: error,
              }),
            );
          else resolve(channel);
        });
      }),
  );

const connectJump = async (hops: readonly SshEndpoint[], signal: AbortSignal | undefined): Promise<JumpConnection> => {
  const hop = hops.at(-1)!;
  const key = keyOf(hops);
  const outer = hops.length > 1 ? await openTunnel(hops.slice(0, -1), hop.host, hop.port, signal) : undefined;
  try {
    const knownHosts = await loadKnownHosts(hop.knownHostsPaths);
    const outcome = await handshake({ ...hop, ...(signal ? { signal } : {}) }, knownHosts, outer?.stream);
    if (!outcome.ok) {
      const { error } = outcome;
      // The same class (a changed jump host key stays a HostKeyError), worded as the jump host's.
      const Kind = error instanceof HostKeyError ? HostKeyError : ConnectError;
      throw new Kind(`jump host ${hop.name}: ${error.message}`, { cause: error });
    }
    jumpConnectionsOpened.set(key, (jumpConnectionsOpened.get(key) ?? 0) + 1);
    const jump: JumpConnection = {
      key,
      client: outcome.client,
      watch: outcome.watch,
      opens: pLimit(JUMP_CHANNEL_OPENS),
      ...(outer ? { releaseParent: outer.release } : {}),
      refs: 0,
    };
    // A jump connection that dies is forgotten at once: the next target connects afresh.
    void outcome.watch.closed.then(() => {
      if (pool.get(key) !== undefined) pool.delete(key);
      clearTimeout(jump.linger);
    });
    return jump;
  } catch (error) {
    outer?.release();
    throw error;
  }
};

const acquire = async (hops: readonly SshEndpoint[], signal: AbortSignal | undefined): Promise<JumpConnection> => {
  const key = keyOf(hops);
  let pending = pool.get(key);
  if (pending === undefined) {
    pending = connectJump(hops, signal);
    pool.set(key, pending);
    pending.catch(() => pool.delete(key));
  }
  const jump = await pending;
  if (jump.watch.isClosed()) {
    pool.delete(key);
    return acquire(hops, signal);
  }
  jump.refs += 1;
  clearTimeout(jump.linger);
  return jump;
};

export interface Tunnel {
  readonly stream: Duplex;
  /** Gives the tunnel's share of the jump connection back (once; safe to call again). */
  readonly release: () => void;
}

/** A tunnel to host:port through the jump hosts (outermost first), sharing their connections. */
export const openTunnel = async (hops: readonly SshEndpoint[], host: string, port: number, signal?: AbortSignal): Promise<Tunnel> => {
  const jump = await acquire(hops, signal);
  let released = false;
  const done = (): void => {
    if (released) return;
    released = true;
    release(jump);
  };
  try {
    const stream = await forward(jump, hops.at(-1)!, host, port);
    stream.once('close', done);
    return { stream, release: done };
  } catch (error) {
    done();
    throw isCasfleetError(error) ? error : new ConnectError(String(error), { cause: error });
  }
};
