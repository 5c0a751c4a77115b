import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { baseEnv, ROOT, type Cluster } from './cluster.js';
import type { Prng } from './prng.js';
import { Managed, runToEnd } from './processes.js';

const CLI = join(ROOT, 'bin/jitgate.js');
const STEP = join(ROOT, 'scripts/chaos/step.mjs');
const CONTEXT = ['--repository', 'acme/api', '--ref', 'refs/heads/main', '--sha', 'c'.repeat(40), '--actor', 'alice', '--environment', 'production'];

export type StepKind = 'release' | 'abandon' | 'cancel' | 'abandon-pending' | 'approve';
export const STEP_KINDS: readonly StepKind[] = ['release', 'abandon', 'cancel', 'abandon-pending', 'approve'];

/** Per kind: how many steps ran, and the secrets they were handed (for the leak checks). */
export class Workload {
  readonly counts = new Map<StepKind, number>(STEP_KINDS.map((k) => [k, 0]));
  readonly stepDirs: string[] = [];
  /** How client steps ended: released, killed, cancelled, refused (daemon/Vault down, expired), ... */
  readonly outcomes = new Map<string, number>();
  approvals = 0;
  #next = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly rng: Prng,
  ) {}

  /** Runs one random client step to its end. */
  async step(): Promise<void> {
    const n = this.#next++;
    const kind = this.rng.pick(STEP_KINDS);
    const db = this.rng.chance(0.5);
    const gated = kind === 'cancel' || kind === 'abandon-pending' || kind === 'approve';
    const resource = `chaos-${db ? 'db' : 'token'}${gated ? '-gated' : ''}`;
    const out = join(this.cluster.dir, 'steps', String(n));
    mkdirSync(out, { recursive: true, mode: 0o700 });
    this.stepDirs.push(out);
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const reason = `chaos step ${n}`;
    const sleepMs = kind === 'abandon' ? 30_000 : this.rng.int(0, 1500);
    const client = new Managed(process.execPath, [CLI, 'run', '--resource', resource, '--reason', reason, ...CONTEXT, '--', process.execPath, STEP], {
      cwd: ROOT,
      env: {
        ...baseEnv(),
        JITGATE_SOCKET: this.cluster.socket,
        OUT_DIR: out,
        STEP_SLEEP_MS: String(sleepMs),
        PGHOST: this.cluster.pg.host,
        PGPORT: String(this.cluster.pg.port),
      },
      logFile: this.cluster.logFile(`client-${n}`),
    });
    // A client never hangs the loop: the longest legitimate life is pending (15 s) + TTL (20 s).
    const cap = setTimeout(() => { client.kill('SIGKILL'); }, 90_000);
    try {
      if (kind === 'abandon') {
        await this.#until(() => existsSync(join(out, 'ran')) || client.done, 30_000);
        await sleep(this.rng.int(0, 1000));
        client.kill('SIGKILL');
      } else if (kind === 'cancel' || kind === 'abandon-pending') {
        await sleep(this.rng.int(300, 3000));
        client.kill(kind === 'cancel' ? 'SIGTERM' : 'SIGKILL');
      } else if (kind === 'approve') {
        await this.#approve(reason, client);
      }
      const exit = await client.exited;
      const outcome = exit.signal !== null ? `killed (${exit.signal})` : exit.code === 0 ? 'released' : /request cancelled/.test(client.output) ? 'cancelled' : `exit ${String(exit.code)}`;
      this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    } finally {
      clearTimeout(cap);
    }
  }

  async #until(check: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check() && Date.now() < deadline) await sleep(50);
  }

  /** Finds the request by its reason in `jitgate list` and approves it as bob (group sre). */
  async #approve(reason: string, client: Managed): Promise<void> {
    const env = { ...baseEnv(), JITGATE_SOCKET: this.cluster.socket };
    const logFile = this.cluster.logFile('approver');
    for (let attempt = 0; attempt < 20 && !client.done; attempt++) {
      await sleep(300);
      const list = await runToEnd(process.execPath, [CLI, 'list', '--as', 'bob', '--json'], { cwd: ROOT, env, logFile });
      if (list.code !== 0) continue;
      let requests: { id: string; reason: string; status: string }[];
      try {
        requests = JSON.parse(list.output) as typeof requests;
      } catch {
        continue;
      }
      const mine = requests.find((r) => r.reason === reason && r.status === 'pending');
      if (!mine) continue;
      const approved = await runToEnd(process.execPath, [CLI, 'approve', mine.id, '--as', 'bob'], { cwd: ROOT, env, logFile });
      if (approved.code === 0) {
        this.approvals += 1;
        return;
      }
    }
  }

  /** Every secret value a step was handed, read from the steps' private files. */
  secrets(): { pgUser?: string; pgPassword?: string; vaultToken?: string }[] {
    return this.stepDirs.flatMap((dir) => {
      const file = join(dir, 'secrets.json');
      if (!existsSync(file)) return [];
      const s = JSON.parse(readFileSync(file, 'utf8')) as { PGUSER?: string; PGPASSWORD?: string; VAULT_TOKEN?: string };
      return [{
        ...(s.PGUSER ? { pgUser: s.PGUSER } : {}),
        ...(s.PGPASSWORD ? { pgPassword: s.PGPASSWORD } : {}),
        ...(s.VAULT_TOKEN ? { vaultToken: s.VAULT_TOKEN } : {}),
      }];
    });
  }
}
