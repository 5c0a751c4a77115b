import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { RequestContext } from '../../../src/model/context.js';
import { ConflictError, InvalidArgumentError, NotFoundError, UnavailableError } from '../../../src/common/errors.js';
import type { RequestStatus } from '../../../src/model/request.js';
import type { StateStore, StoredApproval, StoredGrant, StoredRequest } from '../../../src/daemon/state/store.js';

const T0 = Date.UTC(2026, 0, 1);

const CONTEXT: RequestContext = {
  trust: 'oidc',
  issuer: 'https://token.actions.githubusercontent.com',
  repository: 'acme/api',
  repositoryId: '123456',
  ref: 'refs/heads/main',
  refType: 'branch',
  sha: 'a'.repeat(40),
  actor: 'alice',
  environment: 'production',
  workflow: 'acme/api/.github/workflows/deploy.yml@refs/heads/main',
  fork: false,
};

export function sampleRequest(overrides: Partial<StoredRequest> = {}): StoredRequest {
  return {
    id: randomUUID(),
    resource: 'prod-db',
    reason: 'migrate',
    context: CONTEXT,
    claimed: { ref: 'refs/heads/main' },
    ttlMs: 60_000,
    status: 'pending',
    rule: 'prod-db-from-main',
    createdAt: T0,
    expiresAt: T0 + 900_000,
    updatedAt: T0,
    ...overrides,
  };
}

export function sampleGrant(requestId: string, overrides: Partial<StoredGrant> = {}): StoredGrant {
  return {
    id: randomUUID(),
    requestId,
    resource: 'prod-db',
    accessor: null,
    leaseIds: [],
    status: 'minting',
    createdAt: T0,
    expiresAt: T0 + 60_000,
    updatedAt: T0,
    ...overrides,
  };
}

function approval(requestId: string, subject: string, overrides: Partial<StoredApproval> = {}): StoredApproval {
  return { requestId, subject, name: subject, trust: 'idp', channel: 'web', decision: 'approve', at: T0 + 1000, ...overrides };
}

/**
 * The behaviour every StateStore must show. `open` must return a new, empty store each time; the
 * suite closes it after each test.
 */
export function runStoreContract(name: string, open: () => Promise<StateStore>): void {
  describe(`StateStore contract: ${name}`, () => {
    let store: StateStore;

    beforeEach(async () => {
      store = await open();
    });

    afterEach(async () => {
      await store.close();
    });

    describe('requests', () => {
      it('round-trips a request with every optional field', async () => {
        const request = sampleRequest({
          status: 'denied',
          statusReason: 'policy deny',
          require: {
            approvals: 2,
            from: ['group:sre', 'user:bob'],
            everyGroup: true,
            expiresAfterMs: 900_000,
            escalate: [{ afterMs: 300_000, to: ['group:sre-oncall'] }],
          },
        });
        await store.insertRequest(request);
        assert.deepEqual(await store.getRequest(request.id), request);
      });

      it('round-trips a request without optional fields, leaving them absent', async () => {
        const request = sampleRequest({ rule: null, claimed: {} });
        await store.insertRequest(request);
        // Strict deep equality also fails on a key that is present with the value undefined.
        assert.deepEqual(await store.getRequest(request.id), request);
      });

      it('keeps unusual text intact (newlines, quotes, unicode)', async () => {
        const request = sampleRequest({
          reason: 'line one\nline "two" \u2014 \u{1F680}',
          context: { ...CONTEXT, ref: "refs/heads/feat\nx'; DROP TABLE requests; --" },
        });
        await store.insertRequest(request);
        assert.deepEqual(await store.getRequest(request.id), request);
      });

      it('returns undefined for an unknown id', async () => {
        assert.equal(await store.getRequest('no-such-request'), undefined);
      });

      it('refuses a duplicate id with ConflictError', async () => {
        const request = sampleRequest();
        await store.insertRequest(request);
        await assert.rejects(store.insertRequest({ ...request, reason: 'other' }), ConflictError);
        assert.equal((await store.getRequest(request.id))?.reason, 'migrate');
      });

      it('refuses non-integer times with InvalidArgumentError', async () => {
        await assert.rejects(store.insertRequest(sampleRequest({ createdAt: 1.5 })), InvalidArgumentError);
        await assert.rejects(store.insertRequest(sampleRequest({ ttlMs: Number.NaN })), InvalidArgumentError);
      });
    });

    describe('transitionRequest', () => {
      it('applies the patch only when the current status is in `from`', async () => {
        const request = sampleRequest();
        await store.insertRequest(request);

        assert.equal(await store.transitionRequest(request.id, ['pending'], { status: 'approved', updatedAt: T0 + 5 }), true);
        assert.equal(
          await store.transitionRequest(request.id, ['pending'], { status: 'denied', statusReason: 'late', updatedAt: T0 + 6 }),
          false,
        );
        const stored = await store.getRequest(request.id);
        assert.equal(stored?.status, 'approved');
        assert.equal(stored.updatedAt, T0 + 5);
        assert.equal('statusReason' in stored, false);
      });

      it('sets statusReason when given and keeps it when a later patch has none', async () => {
        const request = sampleRequest();
        await store.insertRequest(request);
        assert.equal(
          await store.transitionRequest(request.id, ['pending'], { status: 'approved', statusReason: 'quorum', updatedAt: T0 + 1 }),
          true,
        );
        assert.equal(await store.transitionRequest(request.id, ['approved'], { status: 'granted', updatedAt: T0 + 2 }), true);
        const stored = await store.getRequest(request.id);
        assert.equal(stored?.status, 'granted');
        assert.equal(stored.statusReason, 'quorum');
      });

      it('accepts any of several `from` statuses and refuses an empty list', async () => {
        const request = sampleRequest({ status: 'approved' });
        await store.insertRequest(request);
        assert.equal(await store.transitionRequest(request.id, [], { status: 'denied', updatedAt: T0 + 1 }), false);
        assert.equal(
          await store.transitionRequest(request.id, ['pending', 'approved'], { status: 'expired', statusReason: 'expired', updatedAt: T0 + 1 }),
          true,
        );
        assert.equal((await store.getRequest(request.id))?.status, 'expired');
      });

      it('returns false for an unknown id', async () => {
        assert.equal(await store.transitionRequest('no-such-request', ['pending'], { status: 'denied', updatedAt: T0 }), false);
      });

      it('lets exactly one of 50 racing transitions of a pending request win', async () => {
        const request = sampleRequest();
        await store.insertRequest(request);
        const targets: RequestStatus[] = ['approved', 'denied', 'expired'];
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.transitionRequest(request.id, ['pending'], {
              status: targets[i % targets.length] ?? 'denied',
              statusReason: `racer-${i}`,
              updatedAt: T0 + i,
            }),
          ),
        );
        const winners = results.flatMap((won, i) => (won ? [i] : []));
        assert.equal(winners.length, 1);
        const winner = winners[0] ?? -1;
        const stored = await store.getRequest(request.id);
        assert.equal(stored?.statusReason, `racer-${winner}`);
        assert.equal(stored.status, targets[winner % targets.length]);
      });
    });

    describe('listRequests and countRequests', () => {
      async function seed(): Promise<StoredRequest[]> {
        const statuses: RequestStatus[] = ['pending', 'denied', 'pending', 'granted', 'expired', 'pending'];
        const requests = statuses.map((status, i) => sampleRequest({ status, createdAt: T0 + i * 1000, updatedAt: T0 + i * 1000 }));
        // Insert out of order: "newest" means createdAt, not insertion order.
        for (const r of [...requests].reverse()) await store.insertRequest(r);
        return requests;
      }

      it('lists newest first', async () => {
        const requests = await seed();
        const listed = await store.listRequests({});
        assert.deepEqual(
          listed.map((r) => r.id),
          requests.map((r) => r.id).reverse(),
        );
      });

      it('honours limit, also combined with a status filter', async () => {
        const requests = await seed();
        assert.deepEqual(
          (await store.listRequests({ limit: 2 })).map((r) => r.id),
          [requests[5]?.id, requests[4]?.id],
        );
        assert.deepEqual(
          (await store.listRequests({ statuses: ['pending'], limit: 2 })).map((r) => r.id),
          [requests[5]?.id, requests[2]?.id],
        );
        assert.deepEqual(await store.listRequests({ limit: 0 }), []);
      });

      it('filters by status; an empty status list matches nothing', async () => {
        const requests = await seed();
        assert.deepEqual(
          (await store.listRequests({ statuses: ['granted', 'denied'] })).map((r) => r.id),
          [requests[3]?.id, requests[1]?.id],
        );
        assert.deepEqual(await store.listRequests({ statuses: [] }), []);
      });

      it('breaks createdAt ties by insertion order, newest first', async () => {
        const first = sampleRequest();
        const second = sampleRequest();
        await store.insertRequest(first);
        await store.insertRequest(second);
        assert.deepEqual(
          (await store.listRequests({})).map((r) => r.id),
          [second.id, first.id],
        );
      });

      it('refuses a negative or fractional limit', async () => {
        await assert.rejects(store.listRequests({ limit: -1 }), InvalidArgumentError);
        await assert.rejects(store.listRequests({ limit: 1.5 }), InvalidArgumentError);
      });

      it('counts requests by status', async () => {
        await seed();
        assert.equal(await store.countRequests(['pending']), 3);
        assert.equal(await store.countRequests(['pending', 'granted']), 4);
        assert.equal(await store.countRequests(['released']), 0);
        assert.equal(await store.countRequests([]), 0);
      });
    });

    describe('approvals', () => {
      it('counts each subject once, whatever the channel or decision', async () => {
        const request = sampleRequest();
        await store.insertRequest(request);
        assert.equal(await store.addApproval(approval(request.id, 'sub-bob', { trust: 'slack', comment: 'lgtm' })), true);
        assert.equal(await store.addApproval(approval(request.id, 'sub-bob', { trust: 'idp', at: T0 + 2000 })), false);
        assert.equal(await store.addApproval(approval(request.id, 'sub-carol', { at: T0 + 4000 })), true);

        assert.deepEqual(await store.listApprovals(request.id), [
          approval(request.id, 'sub-bob', { trust: 'slack', comment: 'lgtm' }),
          approval(request.id, 'sub-carol', { at: T0 + 4000 }),
        ]);
      });

      it('lets an approver change their mind: a later denial replaces their approval, once', async () => {
        const request = sampleRequest();
        await store.insertRequest(request);
        assert.equal(await store.addApproval(approval(request.id, 'sub-bob', { trust: 'slack', channel: 'slack', comment: 'lgtm' })), true);
        assert.equal(await store.addApproval(approval(request.id, 'sub-bob', { decision: 'deny', comment: 'wrong commit', at: T0 + 3000 })), true);
        assert.equal(await store.addApproval(approval(request.id, 'sub-bob', { decision: 'deny', comment: 'again', at: T0 + 3500 })), false);
        assert.equal(await store.addApproval(approval(request.id, 'sub-bob', { at: T0 + 3600 })), false);
        assert.deepEqual(await store.listApprovals(request.id), [
          approval(request.id, 'sub-bob', { decision: 'deny', comment: 'wrong commit', at: T0 + 3000 }),
        ]);
      });

      it('keeps each decision\'s channel', async () => {
        const request = sampleRequest();
        await store.insertRequest(request);
        const decisions = [
          approval(request.id, 'sub-bob', { trust: 'local', channel: 'cli', comment: 'ship it' }),
          approval(request.id, 'sub-carol', { trust: 'slack', channel: 'slack', at: T0 + 1100 }),
          approval(request.id, 'sub-erin', { trust: 'webhook', channel: 'webhook', at: T0 + 1200 }),
          approval(request.id, 'sub-dave', { trust: 'idp', channel: 'web', decision: 'deny', comment: 'no', at: T0 + 1300 }),
        ];
        for (const d of decisions) assert.equal(await store.addApproval(d), true);
        assert.deepEqual(await store.listApprovals(request.id), decisions);
      });

      it('accepts one of 20 racing approvals by the same subject', async () => {
        const request = sampleRequest();
        await store.insertRequest(request);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.addApproval(approval(request.id, 'sub-bob', { at: T0 + i }))),
        );
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal((await store.listApprovals(request.id)).length, 1);
      });

      it('keeps approvals per request', async () => {
        const a = sampleRequest();
        const b = sampleRequest();
        await store.insertRequest(a);
        await store.insertRequest(b);
        assert.equal(await store.addApproval(approval(a.id, 'sub-bob')), true);
        assert.equal(await store.addApproval(approval(b.id, 'sub-bob')), true);
        assert.equal((await store.listApprovals(a.id)).length, 1);
        assert.deepEqual(await store.listApprovals('no-such-request'), []);
      });

      it('refuses an approval of an unknown request with NotFoundError', async () => {
        await assert.rejects(store.addApproval(approval('no-such-request', 'sub-bob')), NotFoundError);
      });
    });

    describe('break-glass', () => {
      const record = { subject: 'sub-olga', name: 'olga', trust: 'idp', reason: 'INC-1234: db down, paging nobody', at: T0 + 2000 } as const;

      it('round-trips a record, lists it as unreviewed, and takes exactly one of 10 racing reviews', async () => {
        const request = sampleRequest({ status: 'approved' });
        await store.insertRequest(request);
        await store.recordBreakGlass(request.id, record);
        assert.deepEqual(await store.getBreakGlass(request.id), record);
        assert.deepEqual([...(await store.listBreakGlass({ unreviewed: true })).keys()], [request.id]);
        const reviews = Array.from({ length: 10 }, (_, i) => ({
          ...record,
          review: { subject: `sub-r${String(i)}`, name: `r${String(i)}`, trust: 'idp', verdict: 'concern', note: 'why no page?', at: T0 + 3000 } as const,
        }));
        const won = await Promise.all(reviews.map((r) => store.reviewBreakGlass(request.id, r)));
        assert.equal(won.filter(Boolean).length, 1);
        const stored = await store.getBreakGlass(request.id);
        assert.deepEqual(stored, reviews[won.indexOf(true)]);
        assert.equal((await store.listBreakGlass({ unreviewed: true })).size, 0);
        assert.deepEqual((await store.listBreakGlass({ unreviewed: false })).get(request.id), stored);
      });

      it('keeps one record per request, refuses one for an unknown request, and knows none for others', async () => {
        const request = sampleRequest({ status: 'approved' });
        await store.insertRequest(request);
        await store.recordBreakGlass(request.id, record);
        await assert.rejects(store.recordBreakGlass(request.id, record), ConflictError);
        await assert.rejects(store.recordBreakGlass('no-such-request', record), NotFoundError);
        assert.equal(await store.getBreakGlass('no-such-request'), undefined);
        assert.equal(await store.reviewBreakGlass('no-such-request', record), false);
      });
    });

    describe('grants', () => {
      it('round-trips and updates only the patched fields', async () => {
        const request = sampleRequest({ status: 'approved' });
        await store.insertRequest(request);
        const grant = sampleGrant(request.id);
        await store.insertGrant(grant);
        assert.deepEqual(await store.getGrant(grant.id), grant);

        await store.updateGrant(grant.id, { accessor: 'acc-1', updatedAt: T0 + 10 });
        assert.deepEqual(await store.getGrant(grant.id), { ...grant, accessor: 'acc-1', updatedAt: T0 + 10 });

        await store.updateGrant(grant.id, {
          leaseIds: ['database/creds/migrator/abc', 'database/creds/migrator/def'],
          status: 'live',
          expiresAt: T0 + 70_000,
          updatedAt: T0 + 20,
        });
        assert.deepEqual(await store.getGrant(grant.id), {
          ...grant,
          accessor: 'acc-1',
          leaseIds: ['database/creds/migrator/abc', 'database/creds/migrator/def'],
          status: 'live',
          expiresAt: T0 + 70_000,
          updatedAt: T0 + 20,
        });

        await store.updateGrant(grant.id, { accessor: null, updatedAt: T0 + 30 });
        assert.equal((await store.getGrant(grant.id))?.accessor, null);
      });

      it('returns undefined for an unknown grant and refuses to update one', async () => {
        assert.equal(await store.getGrant('no-such-grant'), undefined);
        await assert.rejects(store.updateGrant('no-such-grant', { status: 'revoked', updatedAt: T0 }), NotFoundError);
      });

      it('refuses a duplicate grant id and a grant for an unknown request', async () => {
        const request = sampleRequest();
        await store.insertRequest(request);
        const grant = sampleGrant(request.id);
        await store.insertGrant(grant);
        await assert.rejects(store.insertGrant(grant), ConflictError);
        await assert.rejects(store.insertGrant(sampleGrant('no-such-request')), NotFoundError);
      });

      it('lists grants by status', async () => {
        const request = sampleRequest();
        await store.insertRequest(request);
        const live = sampleGrant(request.id, { status: 'live', accessor: 'a1', createdAt: T0 + 1 });
        const minting = sampleGrant(request.id, { status: 'minting', createdAt: T0 + 2 });
        const revoked = sampleGrant(request.id, { status: 'revoked', accessor: 'a3', createdAt: T0 + 3 });
        const failed = sampleGrant(request.id, { status: 'revoke_failed', accessor: 'a4', createdAt: T0 + 4 });
        for (const g of [failed, revoked, minting, live]) await store.insertGrant(g);

        assert.deepEqual(
          new Set((await store.listGrants(['minting', 'live', 'revoking', 'revoke_failed'])).map((g) => g.id)),
          new Set([live.id, minting.id, failed.id]),
        );
        assert.deepEqual(await store.listGrants(['revoked']), [revoked]);
        assert.deepEqual(await store.listGrants(['revoking']), []);
        assert.deepEqual(await store.listGrants([]), []);

        await store.updateGrant(live.id, { status: 'revoked', updatedAt: T0 + 9 });
        assert.deepEqual(
          new Set((await store.listGrants(['revoked'])).map((g) => g.id)),
          new Set([live.id, revoked.id]),
        );
      });
    });

    describe('rememberTokenId', () => {
      const issuer = 'https://token.actions.githubusercontent.com';

      it('accepts a token id once while it lives, per issuer', async () => {
        assert.equal(await store.rememberTokenId(issuer, 'jti-1', T0 + 600_000, T0), true);
        assert.equal(await store.rememberTokenId(issuer, 'jti-1', T0 + 600_000, T0 + 1), false);
        assert.equal(await store.rememberTokenId(issuer, 'jti-1', T0 + 900_000, T0 + 599_999), false);
        assert.equal(await store.rememberTokenId('https://gitlab.example.com', 'jti-1', T0 + 600_000, T0 + 2), true);
        assert.equal(await store.rememberTokenId(issuer, 'jti-2', T0 + 600_000, T0 + 3), true);
      });

      it('lets an expired record be replaced, and the replacement lives again', async () => {
        assert.equal(await store.rememberTokenId(issuer, 'jti-1', T0 + 1000, T0), true);
        assert.equal(await store.rememberTokenId(issuer, 'jti-1', T0 + 5000, T0 + 1000), true);
        assert.equal(await store.rememberTokenId(issuer, 'jti-1', T0 + 5000, T0 + 4999), false);
      });

      it('records exactly one of 30 racing uses of one token id', async () => {
        const results = await Promise.all(
          Array.from({ length: 30 }, () => store.rememberTokenId(issuer, 'jti-race', T0 + 600_000, T0)),
        );
        assert.equal(results.filter(Boolean).length, 1);
      });
    });

    it('rejects with UnavailableError once closed', async () => {
      const request = sampleRequest();
      await store.insertRequest(request);
      await store.close();
      await assert.rejects(store.getRequest(request.id), UnavailableError);
      await assert.rejects(store.insertRequest(sampleRequest()), UnavailableError);
      await assert.rejects(store.rememberTokenId('iss', 'jti', T0 + 1, T0), UnavailableError);
    });
  });
}
