import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SoakSample } from '../../bench/soak-sample.js';
import { summarizeSoak } from '../../bench/soak-summary.js';
import { checkSlope, lastHalf, leastSquaresSlope, type SeriesPoint } from '../../bench/soak-verdict.js';

const MB = 1024 * 1024;

/** `n` points one sample per `stepMinutes`, value `f(minutes, i)`. */
function series(n: number, stepMinutes: number, f: (m: number, i: number) => number): SeriesPoint[] {
  return Array.from({ length: n }, (_, i) => ({ minutes: i * stepMinutes, value: f(i * stepMinutes, i) }));
}

describe('soak verdict: least-squares slope over the last half', () => {
  it('recovers the slope of a straight line and of a noisy one', () => {
    assert.ok(Math.abs(leastSquaresSlope(series(10, 1, (m) => 3 * m + 7)) - 3) < 1e-9);
    // Alternating ±0.5 noise around 2/min: the fit stays near 2.
    const noisy = series(60, 0.5, (m, i) => 2 * m + (i % 2 === 0 ? 0.5 : -0.5));
    assert.ok(Math.abs(leastSquaresSlope(noisy) - 2) < 0.05, String(leastSquaresSlope(noisy)));
  });

  it('is NaN with fewer than two points or a single time', () => {
    assert.ok(Number.isNaN(leastSquaresSlope([])));
    assert.ok(Number.isNaN(leastSquaresSlope([{ minutes: 1, value: 1 }])));
    assert.ok(Number.isNaN(leastSquaresSlope([{ minutes: 1, value: 1 }, { minutes: 1, value: 5 }])));
  });

  it('fails a series growing 2 MB/min against a 1 MB/min threshold', () => {
    const check = checkSlope('RSS', 'MB', series(180, 1 / 6, (m) => 120 + 2 * m), 1);
    assert.equal(check.ok, false);
    assert.ok(Math.abs(check.slopePerMinute - 2) < 1e-9);
    assert.equal(check.points, 90);
  });

  it('passes a series that grows during warm-up (first half) and is flat after', () => {
    const warm = series(180, 1 / 6, (m, i) => (m < 10 ? 100 + 5 * m : 150) + (i % 3) * 0.2);
    assert.equal(checkSlope('RSS', 'MB', warm, 1).ok, true);
    // The same series judged on every sample would fail: the window matters.
    assert.ok(leastSquaresSlope(warm) > 1);
  });

  it('fails closed with too few samples to judge', () => {
    assert.equal(checkSlope('fds', 'fds', series(4, 1, () => 30), 1).ok, false);
    assert.equal(checkSlope('fds', 'fds', series(6, 1, () => 30), 1).ok, true);
    assert.deepEqual(lastHalf([1, 2, 3, 4, 5]), [3, 4, 5]);
  });
});

function samples(n: number, rss: (m: number) => number, fds: (m: number) => number): SoakSample[] {
  return Array.from({ length: n }, (_, i) => {
    const m = i / 6;
    return { seconds: i * 10, rssBytes: rss(m) * MB, heapUsedBytes: 30 * MB, eventLoopP99Ms: 2, fds: fds(m), stateBytes: MB, grants: i * 200, pendingEnded: i, errors: 0 };
  });
}

describe('soak summary', () => {
  const counts = { grants: 1000, shed: 0, denied: 3, expired: 3, errors: 0, firstError: undefined };
  const thresholds = { minutes: 10, rate: 20, maxRssMbPerMin: 1, maxFdsPerMin: 1 };
  const none = { tokens: [], leases: [] };

  it('passes flat RSS and fds with nothing left at Vault', () => {
    const s = summarizeSoak({ samples: samples(60, () => 150, () => 40), counts, leftovers: none, thresholds, runtime: 'dist', state: 'sqlite' });
    assert.equal(s.ok, true, s.table);
    assert.equal(s.leakedTokens, 0);
    assert.doesNotMatch(s.table, /FAIL/);
  });

  it('fails on RSS growing without bound, naming the check', () => {
    const s = summarizeSoak({ samples: samples(60, (m) => 150 + 3 * m, () => 40), counts, leftovers: none, thresholds, runtime: 'dist', state: 'sqlite' });
    assert.equal(s.ok, false);
    assert.match(s.table, /\| RSS slope .* \| 3\.000 MB\/min \| \*\*FAIL\*\* \|/);
  });

  it('fails on a descriptor leak', () => {
    const s = summarizeSoak({ samples: samples(60, () => 150, (m) => 40 + Math.floor(2 * m)), counts, leftovers: none, thresholds, runtime: 'dist', state: 'sqlite' });
    assert.equal(s.ok, false);
    assert.match(s.table, /\| open fds slope .* \*\*FAIL\*\* \|/);
  });

  it('fails on a leaked token or lease, and on failed requests', () => {
    const flat = samples(60, () => 150, () => 40);
    const leaked = summarizeSoak({ samples: flat, counts, leftovers: { tokens: ['acc-1'], leases: [] }, thresholds, runtime: 'dist', state: 'sqlite' });
    assert.equal(leaked.ok, false);
    assert.equal(leaked.leakedTokens, 1);
    const lease = summarizeSoak({ samples: flat, counts, leftovers: { tokens: [], leases: ['l-1'] }, thresholds, runtime: 'dist', state: 'sqlite' });
    assert.equal(lease.ok, false);
    const failed = summarizeSoak({ samples: flat, counts: { ...counts, errors: 2, firstError: 'boom' }, leftovers: none, thresholds, runtime: 'dist', state: 'sqlite' });
    assert.equal(failed.ok, false);
    assert.match(failed.table, /2 \(first: boom\)/);
  });
});
