import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hexDigestEquals, slackSignatureHeaders, verifySlackSignature, verifyWebhookSignature, webhookSignatureHeaders } from '../../../src/daemon/notify/signing.js';

const NOW = Date.UTC(2026, 0, 1);
const body = Buffer.from('payload=%7B%7D');

describe('signing', () => {
  it('accepts a Slack v0 signature over the raw body within five minutes, and nothing else', () => {
    const headers = slackSignatureHeaders('secret', body.toString(), NOW);
    assert.equal(verifySlackSignature(headers, body, 'secret', NOW + 4 * 60_000).ok, true);
    assert.equal(verifySlackSignature(headers, body, 'secret', NOW + 6 * 60_000).ok, false);
    assert.equal(verifySlackSignature(headers, body, 'other', NOW).ok, false);
    assert.equal(verifySlackSignature(headers, Buffer.from('payload=%7B%20%7D'), 'secret', NOW).ok, false);
    assert.equal(verifySlackSignature({ ...headers, 'x-slack-request-timestamp': '1e9' }, body, 'secret', NOW).ok, false);
    assert.equal(verifySlackSignature({ ...headers, 'x-slack-signature': headers['x-slack-signature']?.replace('v0=', 'v1=') }, body, 'secret', NOW).ok, false);
  });

  it('accepts a webhook signature only with the same secret, body and a fresh timestamp', () => {
    const headers = webhookSignatureHeaders('k', body.toString(), NOW);
    assert.match(headers['x-jitgate-signature'] ?? '', /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(headers, body, 'k', NOW).ok, true);
    assert.equal(verifyWebhookSignature(headers, Buffer.from('x'), 'k', NOW).ok, false);
    assert.equal(verifyWebhookSignature(headers, body, 'k', NOW - 301_000).ok, false);
  });

  it('compares digests of any shape without throwing', () => {
    const d = 'ab'.repeat(32);
    assert.equal(hexDigestEquals(d, d), true);
    assert.equal(hexDigestEquals(d.slice(2), d), false);
    assert.equal(hexDigestEquals(`${d}00`, d), false);
    assert.equal(hexDigestEquals('zz'.repeat(32), d), false);
    assert.equal(hexDigestEquals('', d), false);
  });
});
