import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GRANT_STAGE_CHANNEL, grantStage, type GrantStageMessage } from '../../src/common/grant-stages.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The stages of an auto-approved token grant, in the order the daemon passes them. */
const ORDER = [
  'received',
  'admitted',
  'request-recorded',
  'intent-issued',
  'intent-durable',
  'vault-sent',
  'vault-answered',
  'token-created',
  'accessor-recorded',
  'minted',
  'grant-recorded',
  'replied',
];

describe('grant stages (bench/grant-timeline.ts)', () => {
  it('publishes the stage name and a monotonic time, nothing else, and only to subscribers', () => {
    const seen: unknown[] = [];
    const listener = (message: unknown): void => {
      seen.push(message);
    };
    grantStage('received');
    subscribe(GRANT_STAGE_CHANNEL, listener);
    try {
      grantStage('admitted');
      grantStage('replied');
    } finally {
      unsubscribe(GRANT_STAGE_CHANNEL, listener);
    }
    grantStage('minted');
    assert.equal(seen.length, 2);
    const [first, second] = seen as GrantStageMessage[];
    assert.deepEqual(Object.keys(first ?? {}).sort(), ['at', 'stage']);
    assert.equal(first?.stage, 'admitted');
    assert.equal(second?.stage, 'replied');
    assert.ok(typeof first.at === 'bigint' && typeof second.at === 'bigint' && second.at >= first.at);
  });

  it('times every step of real grants through the daemon, in order, beside the floor', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/grant-timeline.ts', '--daemon', 'tsx', '--grants', '20'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr.slice(-3000));
    const steps = stdout.split('\n').filter((l) => /^\| [a-z-]+ → [a-z-]+ \|/.test(l)).map((l) => l.split(' | ')[0]?.slice(2));
    const expected = ORDER.slice(1).map((stage, i) => `${ORDER[i] ?? ''} → ${stage}`);
    assert.deepEqual(steps, expected);
    for (const label of ['in the daemon', 'client total', 'floor: whole call', 'gate / floor']) {
      assert.match(stdout, new RegExp(`\\| \\**${label}[^|]*\\|[^|]*\\| \\**[0-9.]+( ms|×)\\**`), label);
    }
  });
});
