import { createServer, type Server as NetServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { UnavailableError } from '../../common/errors.js';

/** A listening socket we were handed (systemd socket activation) and serve without owning its file. */
export interface ActivatedSocket {
  /** Stops accepting (open connections are the gRPC server's to drain); the socket file stays: it is systemd's. */
  close(): void;
}

/**
 * Serves `server` on an already listening Unix socket passed as file descriptor `fd`. grpc-js
 * binds only addresses it creates itself, so connections are accepted here and handed to the
 * server's connection injector, which serves them exactly as a bound port's (same handlers, same
 * sessions: tryShutdown/forceShutdown drain them). A descriptor that is not a listening Unix
 * socket is refused: serving requests on whatever was passed would be a guess.
 */
export async function serveActivatedSocket(server: grpc.Server, fd: number, onError: (err: Error) => void): Promise<ActivatedSocket> {
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const listener: NetServer = createServer((connection) => {
    injector.injectConnection(connection);
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => {
      reject(new UnavailableError(`cannot listen on the socket passed as fd ${fd} (LISTEN_FDS)`, { cause: err }));
    };
    listener.once('error', fail);
    listener.listen({ fd }, () => {
      listener.off('error', fail);
      // A failed accept (EMFILE, …) must not crash the daemon: report it and keep listening.
      listener.on('error', onError);
      resolve();
    });
  });
  // Node opens a Unix socket descriptor as a pipe, whose address() is null (or a path), and a TCP
  // one as TCP, whose address() has a port: serving gRPC without TLS on TCP is refused.
  const address = listener.address();
  if (address !== null && typeof address !== 'string') {
    listener.close();
    throw new UnavailableError(`the socket passed as fd ${fd} (LISTEN_FDS) is not a Unix socket`);
  }
  return {    close: () => {
      listener.close();
    },
  };
}
