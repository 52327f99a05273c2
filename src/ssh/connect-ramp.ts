// ssh2's key exchange and signatures run on the main thread: hundreds of simultaneous handshakes stall
// timers and rendering for hundreds of ms (research/deps.md §2). The connector caps handshakes in flight,
// independently of how many hosts the executor works on at once (its forks).

import pLimit from 'p-limit';
import type { Connection, ConnectOptions } from './connection.ts';
import { connect as connectOnce } from './ssh2-connection.ts';

export const DEFAULT_MAX_HANDSHAKES = 32;

export interface ConnectorOptions {
  /** Handshakes in flight at once (default 32). Established connections do not count. */
  readonly maxHandshakes?: number;
  /** The connect function to throttle; tests substitute a fake. */
  readonly connect?: (options: ConnectOptions) => Promise<Connection>;
}

export type Connector = (options: ConnectOptions) => Promise<Connection>;

/** One connector per run: every connect made through it shares the handshake cap. */
export const createConnector = ({ maxHandshakes = DEFAULT_MAX_HANDSHAKES, connect = connectOnce }: ConnectorOptions = {}): Connector => {
  if (!Number.isInteger(maxHandshakes) || maxHandshakes < 1) {
    throw new RangeError(`maxHandshakes must be a positive integer, got ${maxHandshakes}`);
  }
  const handshakes = pLimit(maxHandshakes);
  return (options) =>
    // An aborted run must not wait for a handshake slot just to find out it should not connect.
    options.signal?.aborted ? connect(options) : handshakes(() => connect(options));
};
