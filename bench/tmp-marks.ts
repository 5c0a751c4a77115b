import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { JitgateClient } from '../src/client/index.js';
import { BENCH_CONTEXT, RESOURCE, writeDaemonConfig } from './daemon-config.js';
import { startDaemonProcess } from './daemon-process.js';
import { closeVaultProbe } from './vault-probe.js';
import { startBenchVault } from './vault-process.js';

const root = await mkdtemp(join(tmpdir(), 'jitgate-trace-'));
const vault = await startBenchVault();
const files = await writeDaemonConfig(root, vault, { maxPending: 1000 });
const daemon = await startDaemonProcess(files, 'dist', 30_000, []);
const client = new JitgateClient({ socket: files.socket, context: BENCH_CONTEXT });
for (let i = 0; i < 300; i += 1) { const g = await client.request({ resource: RESOURCE.token, reason: 'warm' }); await g.release(); }
process.kill(daemon.pid, 'SIGUSR2'); await sleep(200);
const client2: [number, number][] = [];
for (let i = 0; i < 800; i += 1) {
  const t0 = process.hrtime.bigint();
  const g = await client.request({ resource: RESOURCE.token, reason: 'trace' });
  client2.push([Number(t0), Number(process.hrtime.bigint())]);
  await g.release();
}
process.kill(daemon.pid, 'SIGUSR2'); await sleep(300);
const marks = JSON.parse(readFileSync('/tmp/tr/marks.json', 'utf8')) as [string, number][];
// split per grant: sequences starting at h.entry; take those whose first update is the grant
const seqs: [string, number][][] = [];
let cur: [string, number][] | undefined;
for (const m of marks) { if (m[0] === 'h.entry') { cur = [m]; seqs.push(cur); } else cur?.push(m); }
const deltas = new Map<string, number[]>();
for (const s of seqs) { const first = s.findIndex((x) => x[0] === 'h.update'); const upto = s.slice(0, first + 1); for (let i = 1; i < upto.length; i++) { const k = `${upto[i - 1]![0]} -> ${upto[i]![0]}`; (deltas.get(k) ?? deltas.set(k, []).get(k)!).push((upto[i]![1] - upto[i - 1]![1]) / 1e6); } const k='total entry->update'; (deltas.get(k) ?? deltas.set(k, []).get(k)!).push((upto.at(-1)![1] - upto[0]![1]) / 1e6); }
const med = (a: number[]) => { const b = [...a].sort((x, y) => x - y); return b[Math.floor(b.length / 2)]!; };
for (const [k, v] of deltas) console.log(k.padEnd(40), med(v).toFixed(3), 'n', v.length);
console.log('client total', med(client2.map(([a, b]) => (b - a) / 1e6)).toFixed(3));
client.close(); await daemon.stop(); closeVaultProbe(); await vault.stop(); await rm(root, { recursive: true, force: true });
