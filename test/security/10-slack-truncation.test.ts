import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestView } from '../../src/model/request.js';
import { renderSlackMessage } from '../../src/daemon/notify/slack-message.js';

const NOW = Date.UTC(2026, 0, 1);
const SHA = '0123456789abcdef0123456789abcdef01234567';

// A malicious pull request controls the branch name, the reason and the workflow name. `&` grows
// fivefold when escaped, which is how a long field used to push the trailing lines out.
const hostile = (status: RequestView['status']): RequestView => ({
  id: 'req_trunc',
  resource: 'prod-db',
  reason: '&'.repeat(4000),
  context: {
    trust: 'local',
    repository: 'acme/api',
    ref: `refs/heads/${'&<>'.repeat(2000)}`,
    sha: SHA,
    actor: 'mallory',
    environment: 'production',
    workflow: '&'.repeat(4000),
    runUrl: `https://ci.example/${'a'.repeat(5000)}`,
    fork: true,
    sourceRepository: 'evil/api',
  },
  ttlMs: 60_000,
  status,
  rule: 'r',
  approvalsRequired: 1,
  approvers: ['group:sre'],
  approvals: [],
  createdAt: NOW,
  expiresAt: NOW + 600_000,
});

const sectionTexts = (status: RequestView['status']): string[] =>
  renderSlackMessage(hostile(status), NOW).blocks
    .filter((b) => b['type'] === 'section')
    .map((b) => (b['text'] as { text: string }).text);

describe('security 10: Slack fields are capped one by one, after escaping', () => {
  for (const status of ['pending', 'denied'] as const) {
    it(`always shows the trust warning, the commit, the fork and the requester (${status})`, () => {
      const all = sectionTexts(status).join('\n');
      assert.match(all, /\*Trust:\* LOCAL \(self-asserted context, development only\)/);
      assert.match(all, new RegExp(`\\*Commit:\\* ${SHA}`));
      assert.match(all, /\*Fork:\* evil\/api/);
      assert.match(all, /\*Requested by:\* mallory/);
      assert.match(all, /\*Approvals:\* 0 of 1/);
    });
  }

  it('keeps every section under Slack\'s 3,000-character limit and never cuts an entity in half', () => {
    for (const text of sectionTexts('pending')) {
      assert.ok(text.length <= 3000, `section of ${text.length} characters`);
      // every & starts a whole entity: &amp; &lt; &gt;
      assert.doesNotMatch(text, /&(?!amp;|lt;|gt;)/);
      // no raw < or > survives: nothing from CI can become a link or a mention
      assert.doesNotMatch(text, /[<>]/);
    }
  });

  it('shows an over-long run URL as escaped text, not as a link', () => {
    const all = sectionTexts('pending').join('\n');
    assert.doesNotMatch(all, /\|open run>/);
    assert.match(all, /\*Run:\* https:\/\/ci\.example\/a+…/);
  });
});
