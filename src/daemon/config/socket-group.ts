/**
 * `listen.socket_group` resolved to a gid in the config phase: the group must exist, and the
 * daemon's user must be able to give its socket that group (root, or a member), so a typo or a
 * missing `usermod -aG` is a config problem rather than a start-up failure on the runner host.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { ProblemList } from './config-problem.js';

const KEY = 'listen.socket_group';

/** `name:x:gid:members` as /etc/group and `getent group` print it. */
function gidFromLine(line: string, name: string): number | undefined {
  const [entry, , gid] = line.split(':');
  return entry === name && gid !== undefined && /^\d+$/.test(gid) ? Number(gid) : undefined;
}

/**
 * Through getent, so groups from LDAP/SSSD (nsswitch) count as they do for `chown`; /etc/group
 * when getent is not installed. Undefined when the group does not exist.
 */
async function lookupGroup(name: string): Promise<number | undefined> {
  const viaGetent = await new Promise<{ missingTool: boolean; gid?: number }>((resolve) => {
    execFile('getent', ['group', name], { timeout: 5_000 }, (err, stdout) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') resolve({ missingTool: true });
      else {
        const gid = err ? undefined : gidFromLine(stdout.trim(), name);
        resolve({ missingTool: false, ...(gid !== undefined && { gid }) });
      }
    });
  });
  if (!viaGetent.missingTool) return viaGetent.gid;
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const gid = gidFromLine(line, name);
    if (gid !== undefined) return gid;
  }
  return undefined;
}

/** Whether this process may chown a file it owns to `gid`: root may, otherwise only a member. */
function mayUseGroup(gid: number): boolean {
  if (process.getuid?.() === 0) return true;
  return process.getegid?.() === gid || (process.getgroups?.() ?? []).includes(gid);
}

/** The gid for `group` (a name, or digits), or undefined with the problem recorded. */
export async function resolveSocketGroup(group: string, problems: ProblemList): Promise<number | undefined> {
  const gid = /^\d+$/.test(group) ? Number(group) : await lookupGroup(group);
  if (gid === undefined) {
    problems.add(KEY, `no such group ${JSON.stringify(group)} (create it, e.g. groupadd --system ${group})`);
    return undefined;
  }
  if (!mayUseGroup(gid)) {
    problems.add(KEY, `the daemon's user is not in group ${JSON.stringify(group)}, so it cannot give the socket that group (usermod -aG ${group} <daemon user>)`);
    return undefined;
  }
  return gid;
}
