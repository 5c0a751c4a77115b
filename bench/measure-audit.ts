import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/common/clock.js';
import { silentLogger } from '../src/common/logger.js';
import { openFileAuditLog } from '../src/daemon/audit/file-audit-log.js';
import { elapsedMs } from './stats.js';

export interface AuditRun {
  /** Records per second with `inFlight` appends outstanding (group commit: one fsync per batch). */
  readonly batchedPerSecond: number;
  /** Records per second one at a time (one fsync per record). */
  readonly sequentialPerSecond: number;
  readonly records: number;
  readonly inFlight: number;
}

/** The daemon's audit writer (fsync on, default checkpointing) on a temp file in this process. */
export async function measureAudit(records: number, sequentialRecords: number, inFlight: number): Promise<AuditRun> {
  const dir = await mkdtemp(join(tmpdir(), 'jitgate-bench-audit-'));
  try {
    const log = await openFileAuditLog({
      file: join(dir, 'audit.jsonl'),
      signingKeyFile: join(dir, 'audit-signing.pem'),
      hmacKeyFile: join(dir, 'audit-hmac.key'),
      checkpointEvery: 1000,
      fsync: true,
      clock: systemClock,
      logger: silentLogger(),
    });
    try {
      const event = (i: number) => ({ type: 'bench.record', requestId: `req-${i}`, trust: 'local' as const, resource: 'bench-token', reason: 'bench' });
      let start = process.hrtime.bigint();
      for (let i = 0; i < sequentialRecords; i++) await log.append(event(i));
      const sequentialPerSecond = sequentialRecords / (elapsedMs(start) / 1000);

      start = process.hrtime.bigint();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < records) await log.append(event(next++));
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
      const batchedPerSecond = records / (elapsedMs(start) / 1000);
      return { batchedPerSecond, sequentialPerSecond, records, inFlight };
    } finally {
      await log.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
