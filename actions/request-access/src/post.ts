/**
 * The action's post step (runs with `post-if: always()`, also when the job failed or was
 * cancelled): tells the holder to release the grant, waits for it (bounded), and reports.
 */
import { rmSync } from 'node:fs';
import { basename } from 'node:path';
import { errorMessage } from '../../../src/common/errors.js';
import { holderAlive, readStatus, waitForHolder } from './lib/holder-process.js';
import { errorCommand, warningCommand } from './lib/workflow-commands.js';

const RELEASE_WAIT_MS = 20_000;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Stops the holder if it still runs; resolves false if it had to be killed. */
async function stopHolder(pid: number, dir: string): Promise<boolean> {
  if (!holderAlive(pid)) return true;
  process.kill(pid, 'SIGTERM');
  if (await waitForHolder(pid, dir, RELEASE_WAIT_MS)) return true;
  // The stream breaks with the process, and jitgated revokes on a broken stream.
  process.kill(pid, 'SIGKILL');
  return false;
}

async function post(): Promise<number> {
  const env = process.env;
  const pid = Number(env.STATE_pid ?? '');
  const dir = env.STATE_dir ?? '';
  const grantId = env.STATE_grant_id;
  if (!Number.isInteger(pid) || pid <= 0 || !basename(dir).startsWith('jitgate-')) {
    out('jitgate: nothing to release');
    return 0;
  }
  try {
    if (!(await stopHolder(pid, dir))) {
      out(warningCommand(`jitgate: the holder did not release within ${RELEASE_WAIT_MS / 1000}s and was killed; jitgated revokes the grant on the broken stream`));
      return 0;
    }
    const status = readStatus(dir);
    if (status === undefined) {
      if (grantId === undefined) out('jitgate: nothing to release (no grant was handed out)');
      else out(warningCommand(`jitgate: the holder of grant ${grantId} was gone; jitgated revoked the grant when its stream broke`));
    } else if (status.outcome === 'release-failed') {
      out(warningCommand(`jitgate: ${status.message}`));
    } else {
      out(`jitgate: ${status.message}`);
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

post().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    out(errorCommand(`jitgate: ${errorMessage(err)}`));
    process.exitCode = 1;
  },
);
