// Preloaded into jitgated by bench/grant-timeline.ts (`--import`): collects the daemon's
// `jitgate:grant-stage` messages (src/common/grant-stages.ts) and, on SIGUSR2, writes them to
// <tmpdir>/jitgate-timeline-<pid>.json and starts over. Bench-only: nothing in the daemon loads it.
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** @type {[string, string][]} */
let stages = [];
subscribe('jitgate:grant-stage', (message) => {
  const { stage, at } = /** @type {{ stage: string, at: bigint }} */ (message);
  stages.push([stage, at.toString()]);
});
process.on('SIGUSR2', () => {
  writeFileSync(join(tmpdir(), `jitgate-timeline-${String(process.pid)}.json`), JSON.stringify(stages));
  stages = [];
});
