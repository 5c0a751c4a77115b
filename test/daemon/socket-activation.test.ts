import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/common/errors.js';
import { activatedSocketFd } from '../../src/daemon/socket-activation.js';

describe('activatedSocketFd (sd_listen_fds)', () => {
  it('is fd 3 when one socket was passed to this very process', () => {
    assert.equal(activatedSocketFd({ LISTEN_PID: '4242', LISTEN_FDS: '1' }, 4242), 3);
  });

  it('is nothing without LISTEN_PID, or when the sockets were meant for another process (a parent)', () => {
    assert.equal(activatedSocketFd({}, 4242), undefined);
    assert.equal(activatedSocketFd({ LISTEN_FDS: '1' }, 4242), undefined);
    assert.equal(activatedSocketFd({ LISTEN_PID: '4241', LISTEN_FDS: '1' }, 4242), undefined);
    assert.equal(activatedSocketFd({ LISTEN_PID: '4242', LISTEN_FDS: '0' }, 4242), undefined);
  });

  it('refuses malformed variables and more than one socket rather than guessing', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ LISTEN_PID: 'x', LISTEN_FDS: '1' }, /^LISTEN_PID: expected a process id/],
      [{ LISTEN_PID: '4242' }, /^LISTEN_FDS: expected a number of sockets/],
      [{ LISTEN_PID: '4242', LISTEN_FDS: 'one' }, /^LISTEN_FDS: expected a number of sockets/],
      [{ LISTEN_PID: '4242', LISTEN_FDS: '2' }, /^LISTEN_FDS: jitgated serves exactly one socket, got 2/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => activatedSocketFd(env, 4242), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
    }
  });
});
