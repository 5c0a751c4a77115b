/**
 * `node --import tsx bench/bare-grpc-pending.ts [--count N] [--server grpc-js|http2]`: the floor
 * under the "RSS for 10,000 pending requests" row. A bare grpc-js server in a child process (no
 * gate, no state, no audit) whose only method is server-streaming: each call gets one ~200-byte
 * message and is then held open, as the daemon holds a pending RequestAccess stream. Opens N such
 * calls on a Unix socket from 8 clients (as bench/measure-pending.ts does) and prints the child's
 * RSS growth per call; `--heap` adds the live JavaScript heap retained per call (two V8 heap
 * snapshots, as bench/pending-heap.ts takes of the daemon). `--server http2` puts node:http2 alone
 * under the same calls (headers, one length-prefixed message, held): what any gRPC server on
 * Node's HTTP/2 pays per open stream, without grpc-js.
 */
import { fork } from 'node:child_process';
import http2 from 'node:http2';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { HEAP_SNAPSHOT_HOOK, heapGrowth, takeHeapSnapshot } from './heap-diff.js';

const METHOD = '/jitgate.bench.Bare/Hold';
const identity = (b: Buffer): Buffer => b;
const UPDATE = Buffer.alloc(200, 1);

function serve(socket: string): void {
  const server = new grpc.Server();
  const service: grpc.ServiceDefinition = {
    Hold: { path: METHOD, requestStream: false, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  };
  const held = new Set<grpc.ServerWritableStream<Buffer, Buffer>>();
  server.addService(service, {
    Hold: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      held.add(call);
      call.on('cancelled', () => held.delete(call));
      call.write(UPDATE);
    },
  });
  server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) throw err;
    process.send?.('ready');
  });
}

/** node:http2 alone, answering each call as a gRPC server would: 200, one message, then nothing. */
function serveHttp2(socket: string): void {
  // grpc-js's own server lifts node's per-session memory cap the same way.
  const server = http2.createServer({ maxSessionMemory: Number.MAX_SAFE_INTEGER });
  const held = new Set<http2.ServerHttp2Stream>();
  const message = Buffer.alloc(5 + UPDATE.length);
  message.writeUInt32BE(UPDATE.length, 1);
  UPDATE.copy(message, 5);
  server.on('stream', (stream) => {
    held.add(stream);
    stream.on('close', () => held.delete(stream));
    stream.resume();
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.write(message);
  });
  server.listen(socket, () => {
    process.send?.('ready');
  });
}

async function rssOf(pid: number): Promise<number> {
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error('no VmRSS');
  return Number(kb) * 1024;
}

async function measure(count: number, heap: boolean, server: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jitgate-bare-grpc-'));
  const socket = join(dir, 'bare.sock');
  const child = fork(fileURLToPath(import.meta.url), ['--serve', socket, '--server', server], { execArgv: ['--import', 'tsx', ...(heap ? ['--import', HEAP_SNAPSHOT_HOOK] : [])], stdio: 'inherit' });
  const clients = Array.from({ length: 8 }, () => new grpc.Client(`unix:${socket}`, grpc.credentials.createInsecure()));
  const calls: grpc.ClientReadableStream<Buffer>[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => { resolve(); });
      child.once('exit', (code) => { reject(new Error(`server exited ${code}`)); });
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error('no pid');
    await sleep(500);
    const idleHeap = heap ? await takeHeapSnapshot(pid, 0) : undefined;
    const idle = await rssOf(pid);
    for (let i = 0; i < count; i += 512) {
      const wave = Array.from({ length: Math.min(512, count - i) }, (_, j) => new Promise<void>((resolve, reject) => {
        const client = clients[(i + j) % clients.length];
        if (!client) throw new Error('no client');
        const call = client.makeServerStreamRequest(METHOD, identity, identity, Buffer.alloc(64));
        calls.push(call);
        call.once('data', () => { resolve(); });
        call.once('error', (err: grpc.ServiceError) => { if (err.code !== grpc.status.CANCELLED) reject(err); });
      }));
      await Promise.all(wave);
    }
    await sleep(500);
    const heldHeap = idleHeap === undefined ? undefined : await takeHeapSnapshot(pid, 1);
    const held = await rssOf(pid);
    const growth = held - idle;
    let heapPerCallKiB: number | undefined;
    if (idleHeap !== undefined && heldHeap !== undefined) {
      const rows = await heapGrowth(idleHeap, heldHeap, count);
      heapPerCallKiB = +(rows.reduce((sum, r) => sum + r.bytes, 0) / 1024).toFixed(2);
      await rm(idleHeap, { force: true });
      await rm(heldHeap, { force: true });
    }
    process.stdout.write(`${JSON.stringify({ server, count, idleMB: +(idle / 2 ** 20).toFixed(1), heldMB: +(held / 2 ** 20).toFixed(1), growthMB: +(growth / 2 ** 20).toFixed(1), perCallKiB: +(growth / count / 1024).toFixed(2), ...(heapPerCallKiB === undefined ? {} : { heapPerCallKiB }) })}\n`);
  } finally {
    for (const c of calls) c.cancel();
    for (const c of clients) c.close();
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

const { values } = parseArgs({
  options: { count: { type: 'string', default: '10000' }, serve: { type: 'string' }, server: { type: 'string', default: 'grpc-js' }, heap: { type: 'boolean', default: false } },
  strict: true,
});
if (values.server !== 'grpc-js' && values.server !== 'http2') throw new Error(`--server must be grpc-js or http2, not ${values.server}`);
if (values.serve !== undefined) {
  if (values.server === 'http2') serveHttp2(values.serve);
  else serve(values.serve);
} else {
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer, not ${values.count}`);
  await measure(count, values.heap, values.server);
}
