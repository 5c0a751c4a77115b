// Preloaded into jitgated by bench/pending-heap.ts (`--import`): on SIGUSR2, writes a V8 heap
// snapshot to <tmpdir>/jitgate-heap-<pid>-<n>.heapsnapshot (n counts from 0). Bench-only.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

let n = 0;
process.on('SIGUSR2', () => {
  writeHeapSnapshot(join(tmpdir(), `jitgate-heap-${String(process.pid)}-${String(n++)}.heapsnapshot`));
});
