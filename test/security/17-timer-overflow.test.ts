import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock, systemClock, type TimerHandle } from '../../src/common/clock.js';
import { MAX_TIMER_STEP_MS, steppedTimers } from '../../src/common/stepped-timer.js';
import { checkConfigText } from '../../src/daemon/config/check-config.js';
import { DeadlineQueue, type Deadlined } from '../../src/daemon/gate/deadline-queue.js';

const DAY_MS = 86_400_000;
const BIN = resolve(import.meta.dirname, '../../bin/jitgated.js');

/**
 * A manual clock whose setTimeout behaves like Node's: a delay above 2^31-1 ms fires after 1 ms.
 * It records each delay handed to it and which handles were unref'd.
 */
class NodeLikeClock extends ManualClock {
  readonly delays: number[] = [];
  readonly unrefd = new Set<TimerHandle>();
  readonly created: TimerHandle[] = [];

  override setTimeout(fn: () => void, ms: number): TimerHandle {
    this.delays.push(ms);
    const handle = super.setTimeout(fn, ms > MAX_TIMER_STEP_MS ? 1 : ms);
    const wrapped: TimerHandle = {
      unref: () => {
        this.unrefd.add(wrapped);
      },
    };
    this.#inner.set(wrapped, handle);
    this.created.push(wrapped);
    return wrapped;
  }

  override clearTimeout(handle: TimerHandle): void {
    const inner = this.#inner.get(handle);
    if (inner !== undefined) super.clearTimeout(inner);
  }

  readonly #inner = new Map<TimerHandle, TimerHandle>();
}

function config(escalateAfter: string, expiresAfter = '24d'): string {
  return `
state: { sqlite: state.db }
audit: { file: audit.jsonl }
vault: { address: "http://127.0.0.1:1", auth: { token_file: vault-token } }
identity: { local: { context: true, approvers: true } }
groups: { sre: [bob], leads: [carol] }
resources:
  db: { vault: { policies: [p] }, env: { VAULT_TOKEN: token }, ttl: 60s }
policies:
  - name: db
    match: { resource: db, repository: acme/api }
    require:
      approvals: 1
      from: ["group:sre"]
      expires_after: ${expiresAfter}
      escalate: [{ after: ${escalateAfter}, to: ["group:leads"] }]
`;
}

describe('security 17: timers beyond 2^31-1 ms (24.8 days)', () => {
  describe('check-config refuses timer durations longer than 24 days, naming the key', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'jitgate-sec17-'));
      await writeFile(join(dir, 'vault-token'), 'hvs.test-token-not-real\n', { mode: 0o600 });
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('accepts 24d and refuses a 30d escalation', async () => {
      const ok = await checkConfigText(config('23d'), { source: 'test.yaml', baseDir: dir });
      assert.deepEqual(ok.problems, []);
      const bad = await checkConfigText(config('30d'), { source: 'test.yaml', baseDir: dir });
      assert.deepEqual(bad.problems, [
        { path: 'policies[0].require.escalate[0].after', message: 'must be at most 24d (it becomes a timer)' },
      ]);
    });

    it('refuses every other duration that becomes a timer, each by its key', async () => {
      const text = config('1h', '25d')
        .replace('ttl: 60s', 'ttl: 25d, max_ttl: 600h')
        .replace('auth: { token_file: vault-token } }', 'auth: { token_file: vault-token }, timeout: 30d }')
        .concat('limits: { default_rpc_deadline: 31d }\nstop_timeout: 40d\n');
      const { problems } = await checkConfigText(text, { source: 'test.yaml', baseDir: dir });
      assert.deepEqual(
        problems.map((p) => p.path).sort(),
        [
          'limits.default_rpc_deadline',
          'policies[0].require.expires_after',
          'resources.db.max_ttl',
          'resources.db.ttl',
          'stop_timeout',
          'vault.timeout',
        ],
      );
      for (const p of problems) assert.match(p.message, /at most 24d/, p.path);
    });

    it('the jitgated check-config command exits 78 and prints the key', async () => {
      const path = join(dir, 'jitgated.yaml');
      await writeFile(path, config('30d'));
      const result = spawnSync(process.execPath, [BIN, 'check-config', path], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(result.status, 78, result.stderr);
      assert.match(result.stderr, /policies\[0\]\.require\.escalate\[0\]\.after: must be at most 24d/);
    });
  });

  describe('timers step past the limit instead of firing at once', () => {
    it('a stepped 30-day timer fires once, at 30 days, with no host delay above 2^31-1 ms', () => {
      const host = new NodeLikeClock();
      const timers = steppedTimers(host);
      let fired = 0;
      timers.setTimeout(() => fired++, 30 * DAY_MS);
      host.advance(1);
      assert.equal(fired, 0, 'fired after 1 ms: the delay overflowed');
      host.advance(30 * DAY_MS - 2);
      assert.equal(fired, 0, 'fired before its 30 days');
      host.advance(1);
      assert.equal(fired, 1);
      host.advance(60 * DAY_MS);
      assert.equal(fired, 1);
      assert.ok(host.delays.length >= 2, 'stepped');
      assert.ok(host.delays.every((d) => d <= MAX_TIMER_STEP_MS), JSON.stringify(host.delays));
    });

    it('clearing a stepped timer mid-way cancels it, and unref reaches every later step', () => {
      const host = new NodeLikeClock();
      const timers = steppedTimers(host);
      let fired = 0;
      const handle = timers.setTimeout(() => fired++, 60 * DAY_MS);
      handle.unref();
      host.advance(MAX_TIMER_STEP_MS + 1);
      assert.equal(host.created.length, 2);
      assert.ok(host.created.every((h) => host.unrefd.has(h)), 'a later step keeps the process alive');
      timers.clearTimeout(handle);
      host.advance(90 * DAY_MS);
      assert.equal(fired, 0);
    });

    it('short delays go to the host unchanged', () => {
      const host = new NodeLikeClock();
      let fired = 0;
      steppedTimers(host).setTimeout(() => fired++, 1500);
      assert.deepEqual(host.delays, [1500]);
      host.advance(1500);
      assert.equal(fired, 1);
    });

    it('the system clock does not fire a 30-day timer after a few milliseconds (real timers)', async () => {
      const warnings: string[] = [];
      const onWarning = (w: Error): void => {
        warnings.push(w.name);
      };
      process.on('warning', onWarning);
      let fired = false;
      const handle = systemClock.setTimeout(() => {
        fired = true;
      }, 30 * DAY_MS);
      const control = new Promise<void>((done) => {
        systemClock.setTimeout(done, 100);
      });
      await control;
      systemClock.clearTimeout(handle);
      process.off('warning', onWarning);
      assert.equal(fired, false, 'a 30-day timer fired within 100 ms');
      assert.deepEqual(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
    });

    it('the deadline queue holds a 30-day deadline on a Node-like clock until it falls due', () => {
      const clock = new NodeLikeClock();
      const fired: string[] = [];
      const queue = new DeadlineQueue<Deadlined & { name: string }>(clock, (i) => fired.push(i.name));
      queue.add({ name: 'month', deadline: clock.monotonic() + 30 * DAY_MS, slot: -1 });
      queue.add({ name: 'soon', deadline: clock.monotonic() + 1000, slot: -1 });
      clock.advance(1000);
      assert.deepEqual(fired, ['soon']);
      clock.advance(30 * DAY_MS - 1001);
      assert.deepEqual(fired, ['soon'], 'the 30-day deadline fired early');
      clock.advance(1);
      assert.deepEqual(fired, ['soon', 'month']);
      assert.ok(clock.delays.every((d) => d <= MAX_TIMER_STEP_MS), JSON.stringify(clock.delays));
    });

    it('the deadline queue on the system clock does not fire a 30-day deadline (real timers)', async () => {
      const fired: string[] = [];
      const queue = new DeadlineQueue<Deadlined & { name: string }>(systemClock, (i) => fired.push(i.name));
      queue.add({ name: 'month', deadline: systemClock.monotonic() + 30 * DAY_MS, slot: -1 });
      queue.add({ name: 'soon', deadline: systemClock.monotonic() + 20, slot: -1 });
      await new Promise<void>((done) => {
        systemClock.setTimeout(done, 150);
      });
      queue.clear();
      assert.deepEqual(fired, ['soon']);
    });
  });
});
