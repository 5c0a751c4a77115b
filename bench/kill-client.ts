/**
 * A step that obtains a grant and then just holds it, for the "step dies" figure: the bench
 * SIGKILLs this process and times how long the token survives. Usage: kill-client.ts SOCKET RESOURCE.
 * Prints one JSON line `{ "token": ... }` (a throw-away token of the bench's own Vault).
 */
import { JitgateClient } from '../src/client/index.js';
import { BENCH_CONTEXT } from './daemon-config.js';

const [socket, resource] = process.argv.slice(2);
if (socket === undefined || resource === undefined) {
  process.stderr.write('usage: kill-client.ts SOCKET RESOURCE\n');
  process.exit(64);
}
const client = new JitgateClient({ socket, context: BENCH_CONTEXT });
const grant = await client.request({ resource, reason: 'bench: killed step' });
process.stdout.write(`${JSON.stringify({ token: grant.credentials.VAULT_TOKEN ?? '' })}\n`);
// Hold the grant (and its stream) until killed.
setInterval(() => undefined, 60_000);
