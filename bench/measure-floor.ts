import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { openAuditFile, type AuditFileHandle } from '../src/daemon/audit/file-audit-log.js';
import { createDirectVault, type DirectVault } from './direct-vault.js';
import { summarize, type LatencySummary } from './stats.js';
import type { BenchVault } from './vault-process.js';

/**
 * The floor under a gated grant: what any gate must do, and nothing else. One gRPC unary call on a
 * Unix socket (the socket type the daemon listens on) to a trivial grpc-js server whose handler
 * makes the direct Vault call (child token, and the database read when asked) and `FSYNCED_WRITES`
 * durable appends — one O_DSYNC write on the libuv pool each, as the daemon's audit log does — then answers
 * with the credentials. The client times the whole call. The gate's own work on top (identity,
 * policy, state rows, audit hashing and signing, the streaming RPC) is what "gate / floor" measures.
 */
export const FSYNCED_WRITES = 2;

/** A plausible durable record: an audit line is a few hundred bytes. */
const RECORD = Buffer.from(`${JSON.stringify({ type: 'floor', pad: 'x'.repeat(400) })}\n`);

export interface FloorRun {
  readonly grant: LatencySummary;
  /** The parts, timed inside the handler (p50s add up to less than the call: gRPC is the rest). */
  readonly vault: LatencySummary;
  readonly fsync: LatencySummary;
  /** The timed samples (ms), for merging interleaved rounds (bench/interleave.ts). */
  readonly samples: { readonly grant: readonly number[]; readonly vault: readonly number[]; readonly fsync: readonly number[] };
}

const METHOD = '/jitgate.bench.Floor/Grant';
const identity = (b: Buffer): Buffer => b;

interface Parts {
  vaultMs: number;
  fsyncMs: number;
  accessor: string;
}

function startFloorServer(socket: string, direct: DirectVault, file: AuditFileHandle, read: string | undefined, parts: Parts[]): Promise<grpc.Server> {
  const server = new grpc.Server();
  const service: grpc.ServiceDefinition = {
    Grant: { path: METHOD, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  };
  server.addService(service, {
    Grant: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      void (async () => {
        const { grantMs, accessor } = await direct.grant(read);
        const fsyncStart = process.hrtime.bigint();
        for (let i = 0; i < FSYNCED_WRITES; i++) {
          // The audit log's own file (O_DSYNC): durable when the write returns, as its appends are.
          await file.write(RECORD, 0, RECORD.length);
        }
        parts.push({ vaultMs: grantMs, fsyncMs: Number(process.hrtime.bigint() - fsyncStart) / 1e6, accessor });
        return Buffer.from(JSON.stringify({ accessor, ttl: 60 }));
      })().then(
        (reply) => { callback(null, reply); },
        (err: unknown) => { callback({ code: grpc.status.UNAVAILABLE, details: err instanceof Error ? err.message : String(err) }); },
      );
    },
  });
  return new Promise((resolve, reject) => {
    server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (err) => {
      if (err) reject(err);
      else resolve(server);
    });
  });
}

function call(client: grpc.Client): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(METHOD, identity, identity, Buffer.alloc(64), (err, value) => {
      if (err) reject(err);
      else if (value) resolve(value);
      else reject(new Error('floor: empty reply'));
    });
  });
}

/** `warmup` untimed, then `count` timed floor grants; each token is revoked after (untimed). */
export async function measureFloor(vault: BenchVault, read: string | undefined, warmup: number, count: number): Promise<FloorRun> {
  const dir = await mkdtemp(join(tmpdir(), 'jitgate-floor-'));
  const direct = createDirectVault(vault);
  const file = await openAuditFile(join(dir, 'floor.jsonl'), true);
  const parts: Parts[] = [];
  const server = await startFloorServer(join(dir, 'floor.sock'), direct, file, read, parts);
  const client = new grpc.Client(`unix:${join(dir, 'floor.sock')}`, grpc.credentials.createInsecure());
  const grants: number[] = [];
  try {
    for (let i = 0; i < warmup + count; i++) {
      const start = process.hrtime.bigint();
      await call(client);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const part = parts.at(-1);
      if (!part) throw new Error('floor: the handler recorded nothing');
      await direct.revoke(part.accessor);
      if (i >= warmup) grants.push(ms);
      else parts.pop();
    }
  } finally {
    client.close();
    await new Promise<void>((resolve) => { server.tryShutdown(() => { resolve(); }); });
    direct.close();
    await file.close();
    await rm(dir, { recursive: true, force: true });
  }
  const vaultMs = parts.map((p) => p.vaultMs);
  const fsyncMs = parts.map((p) => p.fsyncMs);
  return { grant: summarize(grants), vault: summarize(vaultMs), fsync: summarize(fsyncMs), samples: { grant: grants, vault: vaultMs, fsync: fsyncMs } };
}
