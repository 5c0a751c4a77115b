import { createDirectVault } from './direct-vault.js';
import { summarize, type LatencySummary } from './stats.js';
import type { BenchVault } from './vault-process.js';

export interface DirectRun {
  readonly grant: LatencySummary;
  readonly revoke: LatencySummary;
}

/** The same grants done directly against Vault with node-vault: `warmup` untimed, then `count` timed. */
export async function measureDirect(vault: BenchVault, read: string | undefined, warmup: number, count: number): Promise<DirectRun> {
  const direct = createDirectVault(vault);
  const grants: number[] = [];
  const revokes: number[] = [];
  try {
    for (let i = 0; i < warmup + count; i++) {
      const sample = await direct.once(read);
      if (i >= warmup) {
        grants.push(sample.grantMs);
        revokes.push(sample.revokeMs);
      }
    }
  } finally {
    direct.close();
  }
  return { grant: summarize(grants), revoke: summarize(revokes) };
}
