import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { STATUS_FILE, type HolderStatus } from './holder-protocol.js';

/** Where /proc exists, the pid must still be a running (not zombie) `hold.js`; pids get reused. */
function procSaysHolder(pid: number): boolean | undefined {
  const dir = `/proc/${pid}`;
  if (!existsSync('/proc/self')) return undefined;
  try {
    const stat = readFileSync(join(dir, 'stat'), 'utf8');
    // The state letter follows the parenthesised command name, which may itself contain ") ".
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    return readFileSync(join(dir, 'cmdline'), 'utf8').split('\0').some((arg) => arg.endsWith('hold.js'));
  } catch {
    return false;
  }
}

/** True while `pid` is the holder process and alive. */
export function holderAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: the pid now belongs to someone else's process, so not our holder either.
    return false;
  }
  return procSaysHolder(pid) ?? true;
}

export function readStatus(dir: string): HolderStatus | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, STATUS_FILE), 'utf8')) as Partial<HolderStatus>;
    if (typeof parsed.outcome === 'string' && typeof parsed.message === 'string') return parsed as HolderStatus;
  } catch {
    // No status (yet): the holder is still at work, or it was killed before it could write one.
  }
  return undefined;
}

/**
 * Waits until the holder is gone or has written its status (it exits right after; without /proc
 * an unreaped holder would look alive forever), or `ms` pass. Resolves whether it finished.
 */
export async function waitForHolder(pid: number, dir: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (holderAlive(pid) && readStatus(dir) === undefined) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}
