import { chmod, chown, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UnavailableError } from '../../common/errors.js';

const GROUP_X = 0o010;
const OTHER_X = 0o001;
const GROUP_BITS = 0o070;

/**
 * The socket's directory must let the socket group's members through, or they get EACCES before
 * the socket's own mode is even looked at (the bug: a 0750 directory of the daemon's own group).
 * A directory already traversable by them is left as it is. One the daemon owns is given the
 * socket group with traverse only (--x: members reach the socket, they do not list the directory).
 * One owned by someone else is not ours to change: start fails naming it.
 */
export async function letGroupTraverse(socket: string, gid: number): Promise<void> {
  const dir = dirname(socket);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(dir);
  } catch (err) {
    throw new UnavailableError(`cannot inspect the socket directory ${dir}`, { cause: err });
  }
  const mode = info.mode & 0o7777;
  if ((info.gid === gid && (mode & GROUP_X) !== 0) || (info.gid !== gid && (mode & OTHER_X) !== 0)) return;
  if (info.uid !== process.getuid?.()) {
    throw new UnavailableError(`the socket directory ${dir} is not traversable by listen.socket_group and is not the daemon's to change: make it group ${gid} with mode 0710`);
  }
  try {
    await chown(dir, -1, gid);
    await chmod(dir, (mode & ~GROUP_BITS) | GROUP_X);
  } catch (err) {
    throw new UnavailableError(`cannot make the socket directory ${dir} traversable by listen.socket_group`, { cause: err });
  }
}

/** Gives the bound socket the runners' group; the mode is set after, so it never opens to the wrong group. */
export async function chownSocket(socket: string, gid: number): Promise<void> {
  try {
    await chown(socket, -1, gid);
  } catch (err) {
    throw new UnavailableError(`cannot give ${socket} the group of listen.socket_group`, { cause: err });
  }
}
