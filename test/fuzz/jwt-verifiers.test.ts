/**
 * Fuzz: random JWTs on the two verifiers (the CI job token verifier behind AccessService and the
 * approver token verifier behind ApprovalService and the web page). Garbage, random headers and
 * payloads, `alg: none` and symmetric algorithms, unknown and stolen `kid`s, and valid tokens
 * mutated byte by byte: every one is refused with a JitgateError (a typed, stable-coded rejection
 * the gRPC edge maps to UNAUTHENTICATED), never a throw of another type, never accepted. A valid
 * token of each kind is accepted first, so a verifier that refused everything could not pass.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { systemClock } from '../../src/common/clock.js';
import { JitgateError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/logger.js';
import { createIdpApproverResolver } from '../../src/daemon/identity/idp-approver-resolver.js';
import { createOidcContextResolver } from '../../src/daemon/identity/oidc-context-resolver.js';
import { openSqliteStore, type SqliteStateStore } from '../../src/daemon/state/sqlite-store.js';
import { issuerConfigFor, SHA_MAIN, startCiIssuer, type CiIssuer, type IssuerKey } from '../support/ci-issuer.js';
import { fuzzOptions } from './fuzz-runs.js';

const CI_AUDIENCE = 'jitgate';
const APPROVER_AUDIENCE = 'jitgate-approvers';
const CLAIMED = { repository: 'acme/api', ref: 'refs/heads/main', sha: SHA_MAIN };

const b64 = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');

/** Anything JSON, including the shapes a header or payload must not be (arrays, strings, null). */
const json = fc.jsonValue({ maxDepth: 3 });
const segment = fc.oneof(
  json.map((v) => b64(JSON.stringify(v))),
  fc.uint8Array({ maxLength: 96 }).map(b64),
  fc.string({ maxLength: 40 }),
  fc.constant(''),
);
const ALGS = ['none', 'None', 'NONE', 'nOnE', 'HS256', 'HS512', 'RS256', 'ES256', 'PS256', 'EdDSA', 'RS1', '', 'rs256'];

/** Free-form text and dotted strings: not tokens at all. */
const garbage = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.array(fc.string({ maxLength: 30 }), { maxLength: 6 }).map((parts) => parts.join('.')),
  fc.constantFrom('.', '..', '...', 'a.b.c', 'e30.e30.', 'e30.e30', 'null.null.null', `${'A'.repeat(17 * 1024)}.e30.`),
);

/** Three (or two, or four) segments with a random header, payload and signature. */
const randomSegments = fc.oneof(
  fc.tuple(segment, segment, segment).map((s) => s.join('.')),
  fc.tuple(segment, segment).map((s) => s.join('.')),
  fc.tuple(segment, segment, segment, segment).map((s) => s.join('.')),
);

interface Target {
  readonly claims: () => Record<string, unknown>;
}

/** A header the verifier might trust (alg, kid, typ, jku, x5u…) around claims that would otherwise pass. */
function forgedHeader(issuer: CiIssuer, target: Target) {
  const header = fc.record(
    {
      alg: fc.oneof(fc.constantFrom(...ALGS), json),
      kid: fc.oneof(fc.constantFrom(issuer.rsa.kid, issuer.ec.kid), fc.string({ maxLength: 20 }), json),
      typ: fc.oneof(fc.constantFrom('JWT', 'at+jwt', 'JOSE'), json),
      jku: fc.constant(`${issuer.issuer}/.well-known/jwks`),
      crit: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }),
      b64: fc.boolean(),
    },
    { requiredKeys: [] },
  );
  const signature = fc.oneof(fc.constant(''), fc.uint8Array({ minLength: 1, maxLength: 300 }).map(b64), fc.string({ maxLength: 40 }));
  return fc.tuple(header, signature).map(([h, sig]) => () => `${b64(JSON.stringify(h))}.${b64(JSON.stringify(target.claims()))}.${sig}`);
}

/**
 * Tokens signed properly but by the wrong party: unsigned (`none`), HMAC keyed with the public
 * key's bytes or random bytes, a real key under an unknown `kid`, an unpublished key under a real one.
 */
function wrongKey(issuer: CiIssuer, stray: IssuerKey, target: Target) {
  return fc.oneof(
    fc.record({ kind: fc.constant('none' as const), kid: fc.option(fc.constantFrom(issuer.rsa.kid, 'x'), { nil: undefined }) }),
    fc.record({ kind: fc.constant('hmac' as const), key: fc.oneof(fc.constant(new TextEncoder().encode(JSON.stringify(issuer.rsa.publicJwk))), fc.uint8Array({ minLength: 32, maxLength: 64 })) }),
    fc.record({ kind: fc.constant('unknown-kid' as const), kid: fc.string({ minLength: 1, maxLength: 40 }).filter((k) => k !== issuer.rsa.kid && k !== issuer.ec.kid) }),
    fc.record({ kind: fc.constant('stray-key' as const), kid: fc.constantFrom(issuer.rsa.kid, stray.kid) }),
  ).map((spec) => (): Promise<string> => {
    const claims = target.claims();
    switch (spec.kind) {
      case 'none':
        return issuer.issue(claims, { alg: 'none', ...(spec.kid === undefined ? {} : { kid: spec.kid }) });
      case 'hmac':
        return issuer.issue(claims, { alg: 'HS256', key: spec.key, kid: issuer.rsa.kid });
      case 'unknown-kid':
        return issuer.issue(claims, { kid: spec.kid });
      case 'stray-key':
        return issuer.issue(claims, { key: stray.privateKey, kid: spec.kid });
    }
  });
}

type Mutation =
  | { readonly kind: 'replace'; readonly at: number; readonly char: string }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'segments'; readonly order: readonly number[] }
  | { readonly kind: 'claim'; readonly claim: string; readonly value: unknown };

const CLAIMS_TO_TAMPER = ['iss', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sub', 'groups', 'repository', 'ref', 'environment', 'email', 'email_verified'];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: fc.constantFrom('A', 'a', '0', '-', '_', '.', '=', '+', '/', ' ', '\u0000', 'é') }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('segments' as const), order: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('claim' as const), claim: fc.constantFrom(...CLAIMS_TO_TAMPER), value: json }),
);

function mutate(token: string, m: Mutation): string {
  const at = (n: number): number => n % (token.length + 1);
  switch (m.kind) {
    case 'replace':
      return token.slice(0, at(m.at)) + m.char + token.slice(at(m.at) + 1);
    case 'insert':
      return token.slice(0, at(m.at)) + m.text + token.slice(at(m.at));
    case 'delete':
      return token.slice(0, at(m.at)) + token.slice(at(m.at) + m.length);
    case 'truncate':
      return token.slice(0, at(m.at));
    case 'segments': {
      const parts = token.split('.');
      return m.order.map((i) => parts[i] ?? '').join('.');
    }
    case 'claim': {
      // Re-encodes the payload with one claim changed and keeps the original signature.
      const [header = '', payload = '', signature = ''] = token.split('.');
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return token; // an earlier byte mutation already broke the payload: nothing to re-encode
      }
      return `${header}.${b64(JSON.stringify({ ...(typeof claims === 'object' ? claims : {}), [m.claim]: m.value }))}.${signature}`;
    }
  }
}

/**
 * A mutation that leaves the signed bytes as they were is the same token, not a forged one:
 * the signing input is the first two segments as text, and the signature is compared as bytes
 * (base64url's unused tail bits, or a character Buffer's lenient decoder skips, change nothing).
 */
function sameToken(original: string, mutated: string): boolean {
  const [h1, p1, s1 = ''] = original.split('.');
  const parts = mutated.split('.');
  if (parts.length !== 3) return false;
  const [h2, p2, s2 = ''] = parts;
  return h1 === h2 && p1 === p2 && Buffer.from(s1, 'base64url').equals(Buffer.from(s2, 'base64url'));
}

/** Runs `attempt` and requires a JitgateError rejection; anything else fails the property. */
async function refusedTyped(attempt: () => Promise<unknown>, token: string): Promise<void> {
  let outcome: unknown;
  try {
    outcome = await attempt();
  } catch (err) {
    assert.ok(err instanceof JitgateError, `expected a JitgateError for ${JSON.stringify(token.slice(0, 200))}, got ${String(err)}`);
    assert.equal(typeof err.code, 'string');
    assert.ok(!err.message.includes(token) || token.length < 8, 'the rejection never echoes the token');
    return;
  }
  assert.fail(`accepted ${JSON.stringify(token.slice(0, 200))}: ${JSON.stringify(outcome)}`);
}

describe('fuzz: CI token and approver token verifiers', () => {
  let issuer: CiIssuer;
  let stray: IssuerKey;
  let store: SqliteStateStore;
  let ci: ReturnType<typeof createOidcContextResolver>;
  let approvers: ReturnType<typeof createIdpApproverResolver>;

  before(async () => {
    issuer = await startCiIssuer();
    stray = await issuer.strayKey();
    store = openSqliteStore({ path: ':memory:', clock: systemClock });
    ci = createOidcContextResolver({ issuers: [issuerConfigFor(issuer)], store, clock: systemClock, logger: silentLogger() });
    approvers = createIdpApproverResolver({
      config: { issuer: issuer.issuer, audience: APPROVER_AUDIENCE, groupsClaim: 'groups', jwksUri: issuer.jwksUri },
      clock: systemClock,
      logger: silentLogger(),
    });
  });
  after(async () => {
    ci.close();
    approvers.close();
    await store.close();
    await issuer.close();
  });

  const verifiers = [
    {
      name: 'CI token verifier',
      target: (): Target => ({ claims: () => issuer.githubClaims(CI_AUDIENCE) }),
      verify: (token: string) => ci.resolve(token, CLAIMED),
    },
    {
      name: 'approver token verifier',
      target: (): Target => ({
        claims: () => issuer.baseClaims(APPROVER_AUDIENCE, { sub: '17', email: 'carol@acme.test', email_verified: true, groups: ['sre'] }),
      }),
      verify: (token: string) => approvers.resolve({ authorization: `Bearer ${token}` }),
    },
  ] as const;

  for (const v of verifiers) {
    describe(v.name, () => {
      it('accepts a valid token (the control: the refusals below are the verifier judging, not a broken setup)', async () => {
        const accepted = await v.verify(await issuer.issue(v.target().claims()));
        assert.ok(accepted);
      });

      it('refuses garbage and random three-segment strings with a JitgateError', async () => {
        await fc.assert(
          fc.asyncProperty(fc.oneof(garbage, randomSegments), (token) => refusedTyped(() => v.verify(token), token)),
          fuzzOptions(300),
        );
      });

      it('refuses forged headers (alg none / HS / unknown, odd kid, jku, crit) over otherwise valid claims', async () => {
        await fc.assert(
          fc.asyncProperty(forgedHeader(issuer, v.target()), (make) => {
            const token = make();
            return refusedTyped(() => v.verify(token), token);
          }),
          fuzzOptions(200),
        );
      });

      it('refuses tokens signed by the wrong key: none, HMAC with the public key, unknown kid, unpublished key', async () => {
        await fc.assert(
          fc.asyncProperty(wrongKey(issuer, stray, v.target()), async (make) => {
            const token = await make();
            await refusedTyped(() => v.verify(token), token);
          }),
          fuzzOptions(100),
        );
      });

      it('refuses every mutation of a valid token that changes its signed bytes', async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
            const valid = await issuer.issue(v.target().claims());
            const token = mutations.reduce(mutate, valid);
            fc.pre(!sameToken(valid, token));
            await refusedTyped(() => v.verify(token), token);
          }),
          fuzzOptions(300),
        );
      });
    });
  }

  it('refuses random authorization metadata on the approver verifier (no Bearer, odd schemes, several tokens)', async () => {
    const valid = await issuer.issue(verifiers[1].target().claims());
    const header = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.constantFrom('Bearer', 'Bearer ', 'bearer', 'Basic YWxpY2U6eA==', `Bearer  ${valid}x`, `Bearer ${valid} ${valid}`, `Token ${valid}`),
      fc.string({ maxLength: 30 }).map((s) => `Bearer ${s}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('authorization', 'x-jitgate-approver', 'cookie', 'x-forwarded-user'), header), (metadata) =>
        refusedTyped(() => approvers.resolve(metadata), JSON.stringify(metadata)),
      ),
      fuzzOptions(300),
    );
  });
});
