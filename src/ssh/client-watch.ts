// The permanent listeners every ssh2 Client needs from the moment it exists. An 'error' event without a
// listener is an uncaught exception that kills the whole run (node-ssh removes its own listener once the
// connection is ready), and a late ECONNRESET or "Keepalive timeout" must only fail this one host.

import type { Client } from 'ssh2';
import type { Ssh2Error } from './connect-errors.ts';

export interface ClientWatch {
  /** Errors seen so far, oldest first (the handshake picks the most telling one). */
  readonly errors: readonly Ssh2Error[];
  /** Resolves when the TCP connection is gone. */
  readonly closed: Promise<void>;
  readonly isClosed: () => boolean;
  /** Why the connection is gone, or undefined while it is up. */
  readonly lostReason: () => string | undefined;
  /** Marks an orderly close by us, so pending commands say so instead of "lost". */
  readonly markClosing: () => void;
}

export const watchClient = (client: Client): ClientWatch => {
  const errors: Ssh2Error[] = [];
  let isClosed = false;
  let closing = false;
  let onClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    onClosed = resolve;
  });
  client.on('error', (error: Ssh2Error) => {
    // Bounded: a connection that keeps failing must not grow memory.
    if (errors.length < 20) errors.push(error);
  });
  client.on('close', () => {
    isClosed = true;
    onClosed();
  });
  return {
    errors,
    closed,
    isClosed: () => isClosed,
    lostReason: () => {
      if (closing) return 'the connection was closed by casfleet';
      if (!isClosed) return undefined;
      return errors.at(-1)?.message ?? 'the server closed the connection';
    },
    markClosing: () => {
      closing = true;
    },
  };
};
