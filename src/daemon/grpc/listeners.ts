import { chmod, readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { UnavailableError } from '../../common/errors.js';
import type { CheckedListenConfig } from '../config/types.js';
import { removeStaleSocket } from './socket.js';
import { chownSocket, letGroupTraverse } from './socket-group.js';

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => {
      if (err) reject(new UnavailableError(`cannot listen on ${address}`, { cause: err }));
      else resolve(port);
    });
  });
}

/**
 * Binds the Unix socket (removing a stale socket file first only if nothing answers on it), gives
 * it `listen.socketGid` (its directory made traversable by that group first) and chmods it to
 * `listen.socketMode`. `onSocketBound` runs as soon as the socket file is ours, so a failure after
 * it still lets shutdown remove the file.
 */
export async function bindSocket(server: grpc.Server, listen: CheckedListenConfig, onSocketBound: () => void): Promise<void> {
  if (listen.socketGid !== undefined) await letGroupTraverse(listen.socket, listen.socketGid);
  await removeStaleSocket(listen.socket);
  await bind(server, `unix:${listen.socket}`, grpc.ServerCredentials.createInsecure());
  onSocketBound();
  if (listen.socketGid !== undefined) await chownSocket(listen.socket, listen.socketGid);
  try {
    await chmod(listen.socket, listen.socketMode);
  } catch (err) {
    throw new UnavailableError(`cannot set the mode of ${listen.socket}`, { cause: err });
  }
}

/** Binds the TCP+TLS listener for remote approvers, if configured; a client CA makes client certificates mandatory. */
export async function bindTcp(server: grpc.Server, listen: CheckedListenConfig): Promise<void> {
  if (!listen.tcp) return;
  const { certFile, keyFile, clientCaFile } = listen.tcp.tls;
  let certs: [Buffer, Buffer, Buffer | null];
  try {
    certs = await Promise.all([readFile(certFile), readFile(keyFile), clientCaFile ? readFile(clientCaFile) : null]);
  } catch (err) {
    throw new UnavailableError('cannot read the TLS certificate or key', { cause: err });
  }
  const [cert, key, ca] = certs;
  await bind(server, listen.tcp.address, grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null));
}
