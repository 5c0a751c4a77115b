/**
 * `node --import tsx bench/floor-compare.ts [--daemon dist|tsx] [--grants N] [--db-grants N]`:
 * only the gate-vs-floor rows of `npm run bench` (sequential token and database grants through
 * the daemon, then the floor baseline, in one run), for a quick before/after of a change on the
 * grant path. Prints one JSON line of p50s and ratios.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { JitgateClient } from '../src/client/index.js';
import { BENCH_CONTEXT, RESOURCE, writeDaemonConfig } from './daemon-config.js';
import { startDaemonProcess, type DaemonRuntime } from './daemon-process.js';
import { measureFloor } from './measure-floor.js';
import { measureGrants } from './measure-grants.js';
import { closeVaultProbe } from './vault-probe.js';
import { startBenchVault } from './vault-process.js';

const { values } = parseArgs({
  options: { daemon: { type: 'string', default: 'dist' }, grants: { type: 'string', default: '500' }, 'db-grants': { type: 'string', default: '60' } },
  strict: true,
});
if (values.daemon !== 'dist' && values.daemon !== 'tsx') throw new Error(`--daemon must be dist or tsx, not ${values.daemon}`);
const runtime: DaemonRuntime = values.daemon;
const grants = Number(values.grants);
const dbGrants = Number(values['db-grants']);
if (!Number.isInteger(grants) || grants < 1 || !Number.isInteger(dbGrants) || dbGrants < 1) throw new Error('--grants and --db-grants must be positive integers');

const root = await mkdtemp(join(tmpdir(), 'jitgate-floor-compare-'));
const vault = await startBenchVault();
try {
  const files = await writeDaemonConfig(root, vault, { maxPending: 1000 });
  const daemon = await startDaemonProcess(files, runtime);
  const client = new JitgateClient({ socket: files.socket, context: BENCH_CONTEXT });
  try {
    const token = await measureGrants({ client, resource: RESOURCE.token, vaultAddress: vault.address, warmup: 50, count: grants });
    const db = await measureGrants({ client, resource: RESOURCE.db, vaultAddress: vault.address, pgUrl: vault.pgUrl, warmup: 5, count: dbGrants });
    const floorToken = await measureFloor(vault, undefined, 50, grants);
    const floorDb = await measureFloor(vault, `database/creds/${vault.dbRole}`, 5, dbGrants);
    const r = (n: number): number => Math.round(n * 100) / 100;
    process.stdout.write(`${JSON.stringify({
      token: r(token.grant.p50),
      floorToken: r(floorToken.grant.p50),
      ratioToken: r(token.grant.p50 / floorToken.grant.p50),
      db: r(db.grant.p50),
      floorDb: r(floorDb.grant.p50),
      ratioDb: r(db.grant.p50 / floorDb.grant.p50),
      releaseDbP99: r(db.releaseToRevoked.p99),
      floorFsync: r(floorToken.fsync.p50),
      floorVaultToken: r(floorToken.vault.p50),
      floorVaultDb: r(floorDb.vault.p50),
    })}\n`);
  } finally {
    client.close();
    await daemon.stop();
  }
} finally {
  closeVaultProbe();
  await vault.stop();
  await rm(root, { recursive: true, force: true });
}
