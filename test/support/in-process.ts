import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createApp as createDieServiceApp } from '../../die-service/src/app';
import { BUNDLED_SPECIFICATIONS_FILE, loadSpecificationsFile } from '../../die-service/src/specifications-file';
import { captureLogger } from './capture-logger';

export interface Listening {
  url: string;
  port: number;
  /** Connections currently open to this server. */
  openConnections(): number;
  close(): Promise<void>;
}

/** Serves `handler` (an Express app or a bare listener) on a free loopback port. */
export async function listen(handler: RequestListener): Promise<Listening> {
  const server = createServer(handler);
  return track(server);
}

async function track(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    openConnections: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * An upstream that accepts connections and reads requests but never answers:
 * what a hung process or an overloaded service looks like to its callers.
 */
export async function listenSilently(): Promise<Listening> {
  return track(
    createServer(() => {
      // Never respond.
    }),
  );
}

/** die-service with the dice it ships, served in this process: the upstream of the other services' tests. */
export function listenDieService(): Promise<Listening> {
  const catalog = loadSpecificationsFile(BUNDLED_SPECIFICATIONS_FILE);
  return listen(createDieServiceApp({ catalog, logger: captureLogger().logger }));
}
