import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { firstJsonLine, spawnTs, stopChild } from './child-process.js';
import { elapsedMs, summarize, type LatencySummary } from './stats.js';
import { tokenRevoked } from './vault-probe.js';

const KILL_CLIENT = fileURLToPath(new URL('./kill-client.ts', import.meta.url));
const GIVE_UP_MS = 10_000;

/**
 * Step dies → credentials revoked: client processes each obtain a grant and are SIGKILLed one at a
 * time; each figure is from the kill to Vault answering 403 for the step's token (polled every
 * millisecond or so). Clients start `batch` at a time, to keep node start-up off the critical path.
 */
export async function measureKills(options: { socket: string; resource: string; vaultAddress: string; kills: number; batch: number }): Promise<LatencySummary> {
  const samples: number[] = [];
  while (samples.length < options.kills) {
    const size = Math.min(options.batch, options.kills - samples.length);
    const children = Array.from({ length: size }, () => spawnTs(KILL_CLIENT, [options.socket, options.resource]));
    try {
      const tokens = await Promise.all(children.map((c) => firstJsonLine<{ token: string }>(c, 'kill client', 60_000)));
      for (const [i, child] of children.entries()) {
        const token = tokens[i]?.token;
        if (!token) throw new Error('kill client announced no token');
        if (await tokenRevoked(options.vaultAddress, token)) throw new Error('kill client token dead before the kill');
        const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
        const start = process.hrtime.bigint();
        child.kill('SIGKILL');
        for (;;) {
          if (await tokenRevoked(options.vaultAddress, token)) break;
          if (elapsedMs(start) > GIVE_UP_MS) throw new Error(`token still alive ${GIVE_UP_MS} ms after its step was killed`);
          await sleep(1);
        }
        samples.push(elapsedMs(start));
        await exited;
      }
    } finally {
      await Promise.all(children.map((c) => stopChild(c, 'SIGKILL')));
    }
  }
  return summarize(samples);
}
