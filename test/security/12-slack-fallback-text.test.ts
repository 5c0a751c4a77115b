import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestView } from '../../src/model/request.js';
import { renderSlackMessage } from '../../src/daemon/notify/slack-message.js';

const NOW = Date.UTC(2026, 0, 1);

describe('security 12: the Slack fallback text is escaped like the blocks', () => {
  it('a CI-controlled actor or reason cannot ping the channel or plant a link in the notification text', () => {
    const request: RequestView = {
      id: 'req_fallback',
      resource: 'prod-db',
      reason: 'x',
      context: { trust: 'oidc', repository: 'acme/api', ref: 'refs/heads/main', sha: 'a'.repeat(40), actor: '<!channel> <https://evil.example|click> &', environment: 'production', fork: false },
      ttlMs: 60_000,
      status: 'denied',
      statusReason: 'denied by <!here>',
      rule: 'r',
      approvalsRequired: 1,
      approvers: ['group:sre'],
      approvals: [],
      createdAt: NOW,
      expiresAt: NOW + 600_000,
    };
    const { text } = renderSlackMessage(request, NOW);
    assert.doesNotMatch(text, /[<>]/);
    assert.match(text, /&lt;!channel&gt; &lt;https:\/\/evil\.example\|click&gt; &amp;/);
    assert.match(text, /DENIED: denied by &lt;!here&gt;/);
  });
});
