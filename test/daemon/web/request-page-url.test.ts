import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestView } from '../../../src/model/request.js';
import { renderEmail } from '../../../src/daemon/notify/email-notifier.js';
import { renderSlackMessage } from '../../../src/daemon/notify/slack-message.js';
import { requestPageUrl } from '../../../src/daemon/web/request-page-url.js';

const NOW = Date.UTC(2026, 0, 1);
const request: RequestView = {
  id: 'req_abc123',
  resource: 'prod-db',
  reason: 'migrate',
  context: { trust: 'local', repository: 'acme/api', ref: 'refs/heads/main', sha: 'a'.repeat(40), actor: 'alice', environment: 'production', fork: false },
  ttlMs: 60_000,
  status: 'pending',
  rule: 'r',
  approvalsRequired: 1,
  approvers: ['group:sre'],
  approvals: [],
  createdAt: NOW,
  expiresAt: NOW + 600_000,
};

describe('links to the approval page in notifications', () => {
  it('builds the page URL from http.public_url, and none without it', () => {
    assert.equal(requestPageUrl('https://jit.example/', 'req_abc123'), 'https://jit.example/requests/req_abc123');
    assert.equal(requestPageUrl(undefined, 'req_abc123'), undefined);
    assert.equal(requestPageUrl('https://jit.example/a|b', 'req_abc123'), undefined);
  });

  it('puts the read-only link in the mail and the Slack message only when given', () => {
    const url = 'https://jit.example/requests/req_abc123';
    assert.match(renderEmail(request, NOW, url).text, /open:\n {2}https:\/\/jit\.example\/requests\/req_abc123\n/);
    assert.doesNotMatch(renderEmail(request, NOW).text, /https:/);
    assert.match(JSON.stringify(renderSlackMessage(request, NOW, url).blocks), /<https:\/\/jit\.example\/requests\/req_abc123\|open the web page>/);
    assert.doesNotMatch(JSON.stringify(renderSlackMessage(request, NOW).blocks), /open the web page/);
  });
});
