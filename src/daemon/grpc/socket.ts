import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { UnavailableError } from '../../common/errors.js';

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ path });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => {
      resolve(false);
    });
  });
}

/**
 * A socket file left by a crashed daemon blocks bind; removing it is safe only when nothing answers
 * on it, since a live daemon's socket must never be stolen. Anything that is not a socket is left alone.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UnavailableError(`cannot inspect socket path ${path}`, { cause: err });
  }
  if (!isSocket) throw new UnavailableError(`socket path ${path} exists and is not a socket`);
  if (await answers(path)) throw new UnavailableError(`socket ${path} is in use by another process`);
  await unlink(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UnavailableError(`cannot remove stale socket ${path}`, { cause: err });
    }
  });
}
