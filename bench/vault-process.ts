import { fileURLToPath } from 'node:url';
import { firstJsonLine, spawnTs, stopChild } from './child-process.js';

export interface BenchVault {
  readonly address: string;
  readonly rootToken: string;
  /** Superuser URL of the PostgreSQL behind the database engine. */
  readonly pgUrl: string;
  readonly dbRole: string;
  readonly policies: readonly string[];
  stop(): Promise<void>;
}

type Announce = Omit<BenchVault, 'stop'>;

/** Starts bench/vault-child.ts and waits for its address (embedded PostgreSQL takes a few seconds). */
export async function startBenchVault(): Promise<BenchVault> {
  const child = spawnTs(fileURLToPath(new URL('./vault-child.ts', import.meta.url)));
  try {
    const info = await firstJsonLine<Announce>(child, 'vault child', 120_000);
    return { ...info, stop: () => stopChild(child) };
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    throw err;
  }
}
