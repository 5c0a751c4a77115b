import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interleaved, withoutSamples } from '../../bench/interleave.js';
import type { FloorRun } from '../../bench/measure-floor.js';
import type { GrantRun } from '../../bench/measure-grants.js';
import { summarize } from '../../bench/stats.js';

function gateRun(samples: number[]): GrantRun {
  return { grant: summarize(samples), releaseToRevoked: summarize(samples), revokedAfterRelease: 1, samples: { grant: samples, release: samples } };
}
function floorRun(samples: number[]): FloorRun {
  return { grant: summarize(samples), vault: summarize(samples), fsync: summarize(samples), samples: { grant: samples, vault: samples, fsync: samples } };
}

describe('bench: gate and floor in alternating rounds', () => {
  it('splits the count over the rounds, alternates which side goes first, and merges every sample', async () => {
    const calls: string[] = [];
    let next = 0;
    const result = await interleaved(
      3,
      10,
      (n) => { calls.push(`gate:${n}`); return Promise.resolve(gateRun(Array.from({ length: n }, () => ++next))); },
      (n) => { calls.push(`floor:${n}`); return Promise.resolve(floorRun(Array.from({ length: n }, () => 1000 + ++next))); },
    );
    assert.deepEqual(calls, ['gate:4', 'floor:4', 'floor:3', 'gate:3', 'gate:3', 'floor:3']);
    assert.equal(result.gate.grant.n, 10);
    assert.equal(result.floor.grant.n, 10);
    assert.equal(result.gate.revokedAfterRelease, 3);
    assert.ok(result.gate.grant.max < 1000 && result.floor.grant.p50 > 1000, 'each side keeps its own samples');
    assert.deepEqual(Object.keys(withoutSamples(result.floor)).sort(), ['fsync', 'grant', 'vault']);
  });

  it('refuses a round count that is not a positive integer', async () => {
    await assert.rejects(interleaved(0, 10, () => Promise.resolve(gateRun([1])), () => Promise.resolve(floorRun([1]))), /rounds must be a positive integer/);
  });
});
