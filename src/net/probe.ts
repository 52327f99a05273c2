// TCP port probe, in-process: connect and classify (open / closed / filtered). Used by the rollout
// gates against real hosts and by the lab. Runs in whatever network namespace the calling
// process is in; for the lab that must be the controller (see probe-from-controller.ts), because the
// lab's addresses exist nowhere else.

import { connect } from 'node:net';
import { CasfleetError } from '../errors.ts';
import { hostWorkTurn } from '../event-loop-turn.ts';

export type PortState = 'open' | 'closed' | 'filtered';

export interface PortProbeResult {
  readonly address: string;
  readonly port: number;
  readonly state: PortState;
  /** Why a port counts as filtered when it was not a plain timeout (EHOSTUNREACH, …). */
  readonly detail?: string;
}

export interface ProbePortsOptions {
  readonly address: string;
  readonly ports: readonly number[];
  /** Local address to connect from, e.g. the lab's hardware-VPN-router address 10.8.0.1. */
  readonly sourceAddress?: string;
  /** No answer within this long = filtered (a firewall DROP). Default 1000 ms. */
  readonly timeoutMs?: number;
  /** Connection attempts in flight at once. */
  readonly concurrency?: number;
}

/** Errors that mean "something between us and the port swallowed or rejected the packet". */
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EHOSTDOWN']);

export const probePort = (address: string, port: number, sourceAddress: string | undefined, timeoutMs: number): Promise<PortProbeResult> =>
  new Promise((resolvePromise, reject) => {
    const socket = connect({ host: address, port, ...(sourceAddress ? { localAddress: sourceAddress } : {}) });
    const finish = (state: PortState, detail?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolvePromise({ address, port, state, ...(detail ? { detail } : {}) });
    };
    // A DROP rule answers nothing: the SYN is retried until the timeout, which we cut short.
    const timer = setTimeout(() => finish('filtered'), timeoutMs);
    socket.once('connect', () => finish('open'));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') finish('closed');
      else if (error.code && UNREACHABLE.has(error.code)) finish('filtered', error.code);
      else {
        clearTimeout(timer);
        socket.destroy();
        // EADDRNOTAVAIL (bad source address), EINVAL, …: a usage problem, not a port state.
        reject(
          new CasfleetError(`probe ${address}:${port}${sourceAddress ? ` from ${sourceAddress}` : ''} failed: ${error.message}`, {
            cause: error,
          }),
        );
      }
    });
  });

/**
 * The ports' states, in order. The connects start at the caller's turn of the event loop
 * (hostWorkTurn): a fleet's hosts start their probes at once (a run's, a gate's, an audit's), and
 * each connect() runs the target's network stack on this thread when the target is local (the
 * lab's namespaces). 50 hosts' connects in one task were a run's longest stall, 58-99 ms against
 * 42-48 with a turn each (7 alternating 50-host no-op runs each).
 */
export const probePorts = async ({
  address,
  ports,
  sourceAddress,
  timeoutMs = 1000,
  concurrency = 256,
}: ProbePortsOptions): Promise<PortProbeResult[]> => {
  for (const port of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CasfleetError(`invalid port ${port}`);
  }
  await hostWorkTurn();
  const results = new Array<PortProbeResult>(ports.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ports.length) {
      const index = next++;
      results[index] = await probePort(address, ports[index] as number, sourceAddress, timeoutMs);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, ports.length)) }, worker));
  return results;
};
