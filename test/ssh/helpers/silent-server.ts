// A TCP listener on 127.0.0.1 that accepts and reads but never answers, not even with an SSH banner:
// the shape of a hung sshd. It reads so that the client's FIN is seen and close() can finish. With
// `dropAfterMs` it closes each connection that long after accepting it, still without a word: the
// shape of sshd's MaxStartups drop, which the client retries.

import { createServer, type Socket } from 'node:net';

export interface SilentServer {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  readonly close: () => Promise<void>;
}

export const startSilentServer = async (options: { readonly dropAfterMs?: number } = {}): Promise<SilentServer> => {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.resume();
    // end(), not destroy(): a FIN, never a reset, whatever the client has sent by then.
    if (options.dropAfterMs !== undefined) setTimeout(() => socket.end(), options.dropAfterMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    accepted: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
};
