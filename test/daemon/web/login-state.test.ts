import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { LoginSealer } from '../../../src/daemon/web/login-state.js';

const login = { state: 's'.repeat(43), nonce: 'n'.repeat(43), verifier: 'v'.repeat(43), returnTo: '/requests/req_1' };

describe('LoginSealer', () => {
  it('opens what it sealed until the deadline on the injected clock', () => {
    const clock = new ManualClock();
    const sealer = new LoginSealer({ clock, ttlMs: 10_000 });
    const sealed = sealer.seal(login);
    assert.match(sealed, /^[A-Za-z0-9_-]+$/);
    // Encrypted, not merely signed: the PKCE verifier and nonce are not readable in the cookie.
    assert.equal(Buffer.from(sealed, 'base64url').toString('latin1').includes('vvvv'), false);
    clock.advance(9_999);
    assert.deepEqual(sealer.open(sealed), login);
    clock.advance(1);
    assert.equal(sealer.open(sealed), undefined);
  });

  it('refuses anything tampered with, truncated, sealed by another daemon, or not a sealed login at all', () => {
    const clock = new ManualClock();
    const sealer = new LoginSealer({ clock });
    const sealed = sealer.seal(login);
    const raw = Buffer.from(sealed, 'base64url');
    for (const at of [0, 12, raw.length - 17, raw.length - 1]) {
      const flipped = Buffer.from(raw);
      flipped[at] = (flipped[at] ?? 0) ^ 1;
      assert.equal(sealer.open(flipped.toString('base64url')), undefined, `byte ${String(at)} flipped`);
    }
    assert.equal(sealer.open(raw.subarray(0, raw.length - 1).toString('base64url')), undefined);
    assert.equal(new LoginSealer({ clock }).open(sealed), undefined, 'another daemon (or a restart) has another key');
    for (const junk of [undefined, '', 'x', '!!!', 'a'.repeat(5000), Buffer.alloc(40).toString('base64url')]) {
      assert.equal(sealer.open(junk), undefined);
    }
  });
});
