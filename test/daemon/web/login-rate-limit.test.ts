import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { clientKey, LoginRateLimiter } from '../../../src/daemon/web/login-rate-limit.js';

describe('LoginRateLimiter', () => {
  it('allows a burst per address, then refuses with the wait until the next token, refilling on the injected clock', () => {
    const clock = new ManualClock();
    const limiter = new LoginRateLimiter({ clock, burst: 3, perMinute: 6 });
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('10.0.0.1'), { allowed: true });
    assert.deepEqual(limiter.take('10.0.0.1'), { allowed: false, retryAfterSeconds: 10 });
    // Another address has its own bucket.
    assert.deepEqual(limiter.take('10.0.0.2'), { allowed: true });
    clock.advance(4_000);
    assert.deepEqual(limiter.take('10.0.0.1'), { allowed: false, retryAfterSeconds: 6 });
    clock.advance(6_000);
    assert.deepEqual(limiter.take('10.0.0.1'), { allowed: true });
    assert.equal(limiter.take('10.0.0.1').allowed, false);
    // Refills up to the burst, never beyond it.
    clock.advance(3_600_000);
    for (let i = 0; i < 3; i++) assert.equal(limiter.take('10.0.0.1').allowed, true);
    assert.equal(limiter.take('10.0.0.1').allowed, false);
  });

  it('remembers a bounded number of addresses, forgetting the least recently seen', () => {
    const limiter = new LoginRateLimiter({ clock: new ManualClock(), burst: 1, perMinute: 1, maxClients: 3 });
    assert.equal(limiter.take('10.0.0.1').allowed, true);
    for (const a of ['10.0.0.2', '10.0.0.3']) limiter.take(a);
    assert.equal(limiter.take('10.0.0.1').allowed, false, 'still remembered, and now the most recent');
    for (let i = 0; i < 1000; i++) limiter.take(`10.1.${String(i >> 8)}.${String(i & 255)}`);
    assert.equal(limiter.size, 3);
  });

  it('limits IPv6 clients per /64 and IPv4-mapped addresses as IPv4', () => {
    assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
    assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:0db8:0001:0002::1'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    const limiter = new LoginRateLimiter({ clock: new ManualClock(), burst: 2, perMinute: 1 });
    assert.equal(limiter.take('2001:db8:1:2::a').allowed, true);
    assert.equal(limiter.take('2001:db8:1:2::b').allowed, true);
    assert.equal(limiter.take('2001:db8:1:2:ffff::c').allowed, false, 'the same /64');
    assert.equal(limiter.take('2001:db8:1:3::a').allowed, true, 'another /64');
  });
});
