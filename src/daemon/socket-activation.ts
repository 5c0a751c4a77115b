/**
 * systemd socket activation (sd_listen_fds(3)): the listening sockets start at file descriptor 3,
 * `LISTEN_FDS` says how many, and `LISTEN_PID` says for which process, since the variables are
 * inherited by children that must not take the sockets for theirs. Read once, by main, from the
 * environment it is given; the daemon is handed the descriptor, never the environment.
 */
import { ConfigError } from '../common/errors.js';

/** SD_LISTEN_FDS_START. */
const FIRST_FD = 3;

/** The variables sd_listen_fds(unset_environment=1) clears so that no child inherits them. */
export const ACTIVATION_VARIABLES = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

/**
 * The descriptor of the socket systemd passed to process `pid`, or undefined when none was passed
 * to it (no `LISTEN_PID`, or another process's). jitgated serves one socket, so a count other than
 * one, or a malformed one, is refused rather than guessed at.
 */
export function activatedSocketFd(env: Readonly<Record<string, string | undefined>>, pid: number): number | undefined {
  const listenPid = env.LISTEN_PID;
  if (listenPid === undefined || listenPid === '') return undefined;
  if (!/^\d+$/.test(listenPid)) throw new ConfigError('LISTEN_PID', `expected a process id, got ${JSON.stringify(listenPid)}`);
  if (Number(listenPid) !== pid) return undefined;
  const count = env.LISTEN_FDS ?? '';
  if (!/^\d+$/.test(count)) throw new ConfigError('LISTEN_FDS', `expected a number of sockets, got ${JSON.stringify(count)}`);
  if (count === '0') return undefined;
  if (count !== '1') {
    throw new ConfigError('LISTEN_FDS', `jitgated serves exactly one socket, got ${count} (give jitgated.socket one ListenStream=)`);
  }
  return FIRST_FD;
}
