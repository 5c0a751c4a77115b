/**
 * The holder: started detached by `main`, it asks jitgated for access with the job's OIDC token
 * and keeps the RequestAccess stream open for the rest of the job. A JavaScript action's `main`
 * exits when its step ends, and the daemon revokes a grant whose stream breaks, so this process
 * holds the grant in its place. `post` sends SIGTERM; the holder then releases and exits.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../../src/common/errors.js';
import { claimedContext } from '../../../src/cli/ci-context.js';
import { formatProgress } from '../../../src/cli/format.js';
import { obtainIdToken } from '../../../src/client/id-token.js';
import { JitgateClient, type Grant } from '../../../src/client/index.js';
import { HOLDER_DIR_ENV, isAcceptedMessage, STATUS_FILE, type HolderMessage, type HolderStatus } from './lib/holder-protocol.js';
import { readInputs } from './lib/inputs.js';

const dir = process.env[HOLDER_DIR_ENV];
const controller = new AbortController();
let client: JitgateClient | undefined;
let grant: Grant | undefined;
let accepted = false;
let finishing = false;

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

/** Resolves once the message is handed to the channel. After `main` has gone there is nobody to tell. */
function send(message: HolderMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => {
      resolve();
    });
  });
}

function writeStatus(status: HolderStatus): void {
  if (dir === undefined) return;
  writeFileSync(join(dir, STATUS_FILE), JSON.stringify(status), { mode: 0o600 });
}

/** Ends the holder: releases the grant (or cancels the pending request) and records the outcome. */
async function finish(why: string): Promise<void> {
  if (finishing) return;
  finishing = true;
  let status: HolderStatus;
  if (grant) {
    try {
      await grant.release();
      status = { outcome: 'released', message: `released grant ${grant.id} (${why})` };
    } catch (err) {
      // release() closed the stream even so, which revokes; the TTL is the backstop.
      status = { outcome: 'release-failed', message: `release of grant ${grant.id} failed (${errorMessage(err)}); the daemon revokes on disconnect` };
    }
  } else {
    controller.abort(new Error(why));
    status = { outcome: 'cancelled', message: `request cancelled (${why})` };
  }
  log(status.message);
  writeStatus(status);
  client?.close();
  process.exit(0);
}

async function hold(): Promise<void> {
  const inputs = readInputs(process.env);
  const idToken = await obtainIdToken({ env: process.env, audience: inputs.audience });
  client = new JitgateClient({ socket: inputs.socket, idToken, context: claimedContext({}, process.env) });
  grant = await client.request({
    resource: inputs.resource,
    ...(inputs.reason === undefined ? {} : { reason: inputs.reason }),
    ...(inputs.ttl === undefined ? {} : { ttl: inputs.ttl }),
    signal: controller.signal,
    onUpdate: (progress) => {
      const line = formatProgress(progress, Date.now());
      log(line);
      void send({ type: 'progress', line });
    },
  });
  const held = grant;
  void held.ended.then((end) => {
    if (end.outcome !== 'lost' || finishing) return;
    finishing = true;
    const status: HolderStatus = { outcome: 'lost', message: `grant ${held.id} ended early: ${end.error?.message ?? 'jitgated closed it'}` };
    log(status.message);
    writeStatus(status);
    client?.close();
    process.exit(0);
  });
  log(`holding grant ${held.id} (request ${held.requestId}) until the end of the job`);
  await send({ type: 'granted', grantId: held.id, requestId: held.requestId, expiresAtMs: held.expiresAt.getTime(), credentials: held.credentials });
}

if (dir === undefined || !process.send) {
  process.stderr.write('jitgate: hold.js is started by the action\'s main step, not on its own\n');
  process.exit(2);
}
process.on('message', (message: unknown) => {
  if (isAcceptedMessage(message)) accepted = true;
});
// `main` gone before it took the credentials (killed, cancelled): nobody can use them, so let go.
process.on('disconnect', () => {
  if (!accepted) void finish('the main step ended before taking the credentials');
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => void finish(`${signal} received`));
}
hold().catch(async (err: unknown) => {
  if (finishing) return;
  finishing = true;
  const message = errorMessage(err);
  log(`request failed: ${message}`);
  await send({ type: 'failed', message });
  client?.close();
  process.exit(1);
});
