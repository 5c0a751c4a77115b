import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DestinationStream } from 'pino';
import { createLogger, resolveLogFormat } from '../../src/common/logger.js';
import { formatLogLine, prettyDestination } from '../../src/common/pretty-log.js';

function collector(): DestinationStream & { text: () => string } {
  let text = '';
  return { write: (s: string) => void (text += s), text: () => text };
}

describe('pretty log lines', () => {
  it('formats a pino record as time, level, component, message and key=value fields', () => {
    const line = formatLogLine(
      JSON.stringify({ level: 30, time: '2026-12-03T09:25:32.764Z', service: 'jitgated', component: 'daemon', msg: 'jitgated serving', socket: '/run/j.sock', n: 3 }),
    );
    assert.equal(line, '09:25:32.764Z INFO  daemon: jitgated serving socket=/run/j.sock n=3');
  });

  it('quotes values with spaces or quotes, escapes control characters: one record stays one line', () => {
    const line = formatLogLine(JSON.stringify({ level: 40, time: '2026-12-03T09:00:00.000Z', msg: 'a\nINFO forged', reason: 'two words', obj: { a: 1 } }));
    assert.equal(line, '09:00:00.000Z WARN  a\\nINFO forged reason="two words" obj={"a":1}');
  });

  it('redaction still applies: a secret passed to a log call is shown as [REDACTED]', () => {
    const out = collector();
    const logger = createLogger('info', prettyDestination(out));
    logger.child({ component: 'vault' }).info({ token: 'hvs.SECRET-1', nested: { password: 'pw-SECRET-2' }, user: 'bob' }, 'logged in');
    const text = out.text();
    assert.match(text, /^\d\d:\d\d:\d\d\.\d{3}Z INFO {2}vault: logged in token=\[REDACTED\] nested=\{"password":"\[REDACTED\]"\} user=bob\n$/);
    assert.doesNotMatch(text, /SECRET/);
  });

  it('auto is pretty on a terminal and JSON otherwise; an explicit format wins', () => {
    assert.equal(resolveLogFormat('auto', true), 'pretty');
    assert.equal(resolveLogFormat('auto', false), 'json');
    assert.equal(resolveLogFormat('json', true), 'json');
    assert.equal(resolveLogFormat('pretty', false), 'pretty');
  });
});
