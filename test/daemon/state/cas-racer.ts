/**
 * Worker for the cross-connection race in sqlite-store.test.ts: opens its own connection to the
 * shared file, waits at a barrier so every worker starts together, then races transitions.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteStore } from '../../../src/daemon/state/sqlite-store.js';

interface RacerData {
  readonly path: string;
  readonly requestId: string;
  readonly worker: number;
  readonly attempts: number;
  readonly barrier: SharedArrayBuffer;
  readonly workers: number;
}

const data = workerData as RacerData;
const store = openSqliteStore({ path: data.path });
const gate = new Int32Array(data.barrier);
Atomics.add(gate, 0, 1);
while (Atomics.load(gate, 0) < data.workers) Atomics.wait(gate, 0, Atomics.load(gate, 0), 10);

const wins: string[] = [];
for (let i = 0; i < data.attempts; i++) {
  const reason = `worker-${data.worker}-${i}`;
  if (await store.transitionRequest(data.requestId, ['pending'], { status: 'approved', statusReason: reason, updatedAt: i })) {
    wins.push(reason);
  }
}
await store.close();
parentPort?.postMessage(wins);
