// A TCP listener on 127.0.0.1 that accepts and reads but never answers, not even with an SSH banner:
// the shape of a hung sshd. It reads so that the client's FIN is seen and close() can finish.

import { createServer, type Socket } from 'node:net';

export interface SilentServer {
  readonly port: number;
  readonly close: () => Promise<void>;
}

export const startSilentServer = async (): Promise<SilentServer> => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
};
