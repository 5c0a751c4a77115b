/**
 * Fuzz: random and mutated protobuf messages, and raw bytes, on every RPC of AccessService and
 * ApprovalService, through the real jitgated on its Unix socket (trusting a jose-built CI issuer
 * and, for approvers, the same issuer with the approvers' audience; local approvers off). Every
 * call goes through a generic client with identity serializers, so the daemon decodes what the
 * fuzzer wrote byte for byte. Properties: every call ends with a status that names the caller's
 * mistake (never INTERNAL/UNKNOWN, never UNAVAILABLE or a deadline: the daemon still answers
 * health checks); no unauthenticated call creates, approves or denies a request; no Vault token is
 * minted (the Vault-compatible server's accessor list is unchanged) and no grant is recorded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { loadJitgateProto } from '../../src/common/load-proto.js';
import { ERROR_CODE_METADATA_KEY } from '../../src/model/error-codes.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { SHA_MAIN, startCiIssuer, type CiIssuer } from '../support/ci-issuer.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';
import { fuzzOptions } from './fuzz-runs.js';

const APPROVER_AUDIENCE = 'jitgate-approvers';
const POLICIES = `
  - name: token-needs-sre
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 10m }
  - name: everything-else
    decision: deny`;

interface MethodDef {
  readonly path: string;
  readonly responseStream: boolean;
  readonly requestSerialize: (value: unknown) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => unknown;
}

const { packageDefinition } = loadJitgateProto();
const service = (name: string): Record<string, MethodDef> => packageDefinition[`jitgate.v1.${name}`] as unknown as Record<string, MethodDef>;
const ACCESS = service('AccessService');
const APPROVAL = service('ApprovalService');
const method = (svc: Record<string, MethodDef>, name: string): MethodDef => {
  const m = svc[name];
  if (m === undefined) throw new Error(`no method ${name}`);
  return m;
};

/** Statuses that say what the caller did wrong. INTERNAL, UNKNOWN, UNAVAILABLE, DEADLINE_EXCEEDED are the daemon's failures. */
const CALLER_STATUSES = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.UNAUTHENTICATED,
  grpc.status.PERMISSION_DENIED,
  grpc.status.NOT_FOUND,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.OUT_OF_RANGE,
]);

interface Outcome {
  readonly code: grpc.status;
  readonly details: string;
  readonly errorCode: readonly grpc.MetadataValue[];
  readonly messages: readonly unknown[];
}

const identity = (b: Buffer): Buffer => b;

/** Printable ASCII: what HTTP/2 header values may carry (grpc-js refuses the rest before sending). */
const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', 'demo-token', 'demo-db', '../demo-token', 'DEMO-TOKEN', '\u0000', '\u202e', 'req_', 'grant_', '%s%n', '${x}', 'a'.repeat(1025), 'a'.repeat(20_000)),
);
const duration = fc.oneof(text, fc.constantFrom('60s', '0s', '-1s', '1ms', '999999999h', '1e3s', '5m', 'NaNs', '   60s'));
const claimed = fc.record(
  { repository: fc.oneof(text, fc.constant('acme/api')), ref: fc.oneof(text, fc.constant('refs/heads/main')), sha: fc.oneof(text, fc.constant(SHA_MAIN)), actor: text, environment: text, workflow: text },
  { requiredKeys: [] },
);
const stateValue = fc.oneof(fc.integer({ min: -5, max: 20 }), fc.constantFrom('PENDING', 'GRANTED', 'STATE_UNSPECIFIED'));

/** A message of each request type with random field values (valid shapes, wrong contents). */
function randomMessage(name: string, ids: fc.Arbitrary<string>, idToken: fc.Arbitrary<string>): fc.Arbitrary<Record<string, unknown>> {
  switch (name) {
    case 'RequestAccess':
      return fc.record({ resource: fc.oneof(text, fc.constantFrom('demo-token', 'demo-db')), reason: text, ttl: duration, idToken, context: claimed }, { requiredKeys: [] });
    case 'Release':
      return fc.record({ grantId: fc.oneof(ids, text), releaseToken: text }, { requiredKeys: [] });
    case 'ListRequests':
      return fc.record({ statuses: fc.array(stateValue, { maxLength: 6 }) }, { requiredKeys: [] });
    case 'WatchRequests':
      return fc.constant({});
    case 'Approve':
      return fc.record({ id: fc.oneof(ids, text), comment: text }, { requiredKeys: [] });
    case 'Review':
      return fc.record({ id: fc.oneof(ids, text), verdict: fc.oneof(text, fc.constantFrom('ok', 'concern')), note: text }, { requiredKeys: [] });
    default:
      return fc.record({ id: fc.oneof(ids, text), reason: text }, { requiredKeys: [] });
  }
}

type ByteEdit =
  | { readonly kind: 'flip'; readonly at: number; readonly byte: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'append'; readonly bytes: Uint8Array }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array };

const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  // Field headers and lengths that lie: a huge varint length, a group start, a reserved wire type.
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.constantFrom(...[[0x0a, 0xff, 0xff, 0xff, 0x0f], [0x0b], [0x0e, 0x01], [0x2a, 0x05, 0x0a], [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [0x00]].map((b) => Uint8Array.from(b))) }),
);

function editBytes(bytes: Buffer, edit: ByteEdit): Buffer {
  const at = (n: number): number => (bytes.length === 0 ? 0 : n % bytes.length);
  switch (edit.kind) {
    case 'flip': {
      if (bytes.length === 0) return Buffer.from([edit.byte]);
      const copy = Buffer.from(bytes);
      copy[at(edit.at)] = edit.byte;
      return copy;
    }
    case 'truncate':
      return bytes.subarray(0, at(edit.at));
    case 'append':
      return Buffer.concat([bytes, edit.bytes]);
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at(edit.at)), edit.bytes, bytes.subarray(at(edit.at))]);
  }
}

/** The bytes sent: a random message encoded, that encoding mutated, or raw random bytes. */
function payload(def: MethodDef, message: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Buffer> {
  const encoded = message.map((m) => def.requestSerialize(m));
  return fc.oneof(
    encoded,
    fc.tuple(encoded, fc.array(byteEdit, { minLength: 1, maxLength: 3 })).map(([bytes, edits]) => edits.reduce(editBytes, bytes)),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  );
}

/** Random metadata; `authorization` at most once (grpc-js itself refuses to send two). */
const metadataEntries = (bearer: fc.Arbitrary<string>) =>
  fc.uniqueArray(
    fc.oneof(
      fc.tuple(fc.constantFrom('authorization', 'x-jitgate-approver', 'x-forwarded-for', 'x-jitgate-actor', 'cookie'), fc.oneof(printable, bearer)),
      fc.tuple(fc.constantFrom('x-jitgate-approver-bin', 'authorization-bin'), fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b))),
    ),
    { maxLength: 4, selector: ([key]) => key },
  );

describe('fuzz: gRPC AccessService and ApprovalService on the Unix socket', () => {
  let env: VaultWithDatabase;
  let issuer: CiIssuer;
  let daemon: DaemonProcess;
  let client: grpc.Client;
  let pendingId = '';
  let pendingCall: grpc.ClientReadableStream<unknown> | undefined;
  let tokensBefore: string[] = [];
  let approverToken = '';

  /** Sends `bytes` as the request of `def` and collects the responses and the final status. */
  function call(def: MethodDef, bytes: Buffer, entries: readonly (readonly [string, string | Buffer])[] = [], deadlineMs = 10_000): Promise<Outcome> {
    const metadata = new grpc.Metadata();
    for (const [key, value] of entries) metadata.add(key, value);
    const deadline = Date.now() + deadlineMs;
    return new Promise((resolve) => {
      const messages: unknown[] = [];
      const done = (code: grpc.status, details: string, trailers?: grpc.Metadata): void => {
        resolve({ code, details, errorCode: trailers?.get(ERROR_CODE_METADATA_KEY) ?? [], messages });
      };
      if (def.responseStream) {
        const stream = client.makeServerStreamRequest(def.path, identity, identity, bytes, metadata, { deadline });
        stream.on('data', (b: Buffer) => {
          messages.push(def.responseDeserialize(b));
          // A watch never ends by itself: after the snapshot's first event it has shown what it would.
          // A pending request would wait for an approver: seeing PENDING is all this call shows.
          if (def.path.endsWith('/WatchRequests') || (def.path.endsWith('/RequestAccess') && (messages.at(-1) as { state?: string }).state === 'PENDING')) stream.cancel();
        });
        stream.on('error', () => undefined);
        stream.on('status', (s: grpc.StatusObject) => {
          done(s.code, s.details, s.metadata);
        });
      } else {
        client.makeUnaryRequest(def.path, identity, identity, bytes, metadata, { deadline }, (err, value) => {
          if (value !== undefined) messages.push(def.responseDeserialize(value));
          if (err) done(err.code, err.details, err.metadata);
          else done(grpc.status.OK, '', undefined);
        });
      }
    });
  }

  async function healthy(): Promise<void> {
    const { code, messages } = await new Promise<{ code: grpc.status; messages: Buffer[] }>((resolve) => {
      client.makeUnaryRequest('/grpc.health.v1.Health/Check', identity, identity, Buffer.alloc(0), new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, value) => {
        resolve({ code: err?.code ?? grpc.status.OK, messages: value ? [value] : [] });
      });
    });
    assert.equal(code, grpc.status.OK, 'the daemon still answers its health check');
    assert.deepEqual(messages, [Buffer.from([0x08, 0x01])], 'health: SERVING');
  }

  async function vaultAccessors(): Promise<string[]> {
    const res = await fetch(`${env.vault.address}/v1/auth/token/accessors`, { method: 'LIST', headers: { 'X-Vault-Token': env.vault.rootToken } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: { keys: string[] } };
    return body.data.keys.sort();
  }

  /** The pending request as an approver sees it: still pending, nobody's approval on it. */
  async function pendingUntouched(): Promise<void> {
    const get = method(APPROVAL, 'GetRequest');
    const out = await call(get, get.requestSerialize({ id: pendingId }), [['authorization', `Bearer ${approverToken}`]]);
    assert.equal(out.code, grpc.status.OK, out.details);
    const request = out.messages[0] as { status: string; approvals: unknown[] };
    assert.equal(request.status, 'PENDING');
    assert.deepEqual(request.approvals, []);
  }

  function assertCallerStatus(name: string, out: Outcome, bytes: Buffer): void {
    const hex = bytes.subarray(0, 200).toString('hex');
    assert.ok(CALLER_STATUSES.has(out.code), `${name} answered ${grpc.status[out.code]} (${out.details}) to ${hex}`);
    assert.notEqual(out.details, 'internal error', `${name}: ${hex}`);
  }

  before(async () => {
    env = await startVaultWithDatabase();
    issuer = await startCiIssuer();
    daemon = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      identity: `identity:
  ci:
    - issuer: ${issuer.issuer}
      audience: jitgate
      kind: github
  approvers:
    issuer: ${issuer.issuer}
    audience: ${APPROVER_AUDIENCE}
    groups_claim: groups`,
    });
    client = new grpc.Client(`unix:${daemon.socket}`, grpc.credentials.createInsecure());
    tokensBefore = await vaultAccessors();
    approverToken = await issuer.issue(issuer.baseClaims(APPROVER_AUDIENCE, { sub: '17', email: 'carol@acme.test', email_verified: true, groups: ['sre'], exp: Math.floor(Date.now() / 1000) + 3600 }));
    // One request waiting for an approval: the fuzzed Approve and Deny calls aim at it too.
    const access = method(ACCESS, 'RequestAccess');
    const token = await issuer.issue(issuer.githubClaims('jitgate'));
    const metadata = new grpc.Metadata();
    pendingId = await new Promise<string>((resolve, reject) => {
      const stream = client.makeServerStreamRequest(
        access.path,
        identity,
        identity,
        access.requestSerialize({ resource: 'demo-token', reason: 'fuzz target', idToken: token, context: { repository: 'acme/api', ref: 'refs/heads/main', sha: SHA_MAIN } }),
        metadata,
      );
      pendingCall = stream;
      stream.on('data', (b: Buffer) => {
        const update = access.responseDeserialize(b) as { state: string; request?: { id: string } };
        if (update.state === 'PENDING' && update.request) resolve(update.request.id);
        else reject(new Error(`unexpected ${update.state}`));
      });
      stream.on('error', (err) => {
        reject(err);
      });
    });
    await pendingUntouched();
  });

  after(async () => {
    pendingCall?.cancel();
    client.close();
    await daemon.close();
    await issuer.close();
    await env.stop();
  });

  const ids = (): fc.Arbitrary<string> => fc.oneof(fc.constant(pendingId), fc.constant(`${pendingId} `), fc.constant(pendingId.toUpperCase()), text);
  const forgedToken = (): fc.Arbitrary<string> =>
    fc.oneof(text, fc.constant(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: issuer.issuer, aud: 'jitgate' })).toString('base64url')}.`));

  // Found by the raw-bytes cases (seed 2026): grpc-js answers a request it cannot decode with
  // INTERNAL "Error deserializing request", blaming the daemon for the caller's bytes.
  it('regression: bytes that are no protobuf message get INVALID_ARGUMENT naming the request, on every RPC', async () => {
    const found = Buffer.from('d0e9b1a87a1cfba4', 'hex');
    for (const def of [...Object.values(ACCESS), ...Object.values(APPROVAL)]) {
      for (const bytes of [found, Buffer.from([0x0b]), Buffer.from([0x7e, 0x01]), Buffer.from([0xff])]) {
        const out = await call(def, bytes, [['authorization', `Bearer ${approverToken}`]]);
        assert.deepEqual([out.code, out.details, out.errorCode], [grpc.status.INVALID_ARGUMENT, 'request: is not a valid protobuf message', ['ERR_INVALID_ARGUMENT']], `${def.path} ${bytes.toString('hex')}`);
      }
    }
    await healthy();
  });

  it('AccessService/RequestAccess with a valid CI token and random fields: a caller status or PENDING/DENIED, never a grant or INTERNAL', async () => {
    const def = method(ACCESS, 'RequestAccess');
    await fc.assert(
      fc.asyncProperty(randomMessage('RequestAccess', text, fc.constant('')), async (message) => {
        const idToken = await issuer.issue(issuer.githubClaims('jitgate'));
        const bytes = def.requestSerialize({ ...message, idToken });
        const out = await call(def, bytes);
        const states = out.messages.map((m) => (m as { state: string }).state);
        if (out.code === grpc.status.OK) assert.deepEqual(states, ['DENIED'], JSON.stringify(message).slice(0, 300));
        else if (out.code === grpc.status.CANCELLED) assert.deepEqual(states, ['PENDING']);
        else {
          assertCallerStatus('RequestAccess', out, bytes);
          assert.ok(states.every((s) => s === 'PENDING'), states.join());
        }
      }),
      fuzzOptions(100),
    );
    await healthy();
    assert.deepEqual(await vaultAccessors(), tokensBefore, 'no Vault token was minted');
    assert.deepEqual(await daemon.grants(), [], 'no grant was recorded');
  });

  for (const [serviceName, svc] of [
    ['AccessService', ACCESS],
    ['ApprovalService', APPROVAL],
  ] as const) {
    for (const name of Object.keys(svc)) {
      it(`${serviceName}/${name}: random, mutated and raw messages without a valid identity get a caller status, and change nothing`, async () => {
        const def = method(svc, name);
        const bearer = fc.oneof(forgedToken().map((t) => `Bearer ${t}`), printable).filter((v) => /^[\x20-\x7e]*$/.test(v));
        await fc.assert(
          fc.asyncProperty(payload(def, randomMessage(name, ids(), forgedToken())), metadataEntries(bearer), async (bytes, entries) => {
            const out = await call(def, bytes, entries);
            assertCallerStatus(name, out, bytes);
            assert.deepEqual(out.messages, [], `${name} answered an unauthenticated call with data`);
          }),
          fuzzOptions(100),
        );
        await healthy();
        await pendingUntouched();
        assert.deepEqual(await vaultAccessors(), tokensBefore, 'no Vault token was minted');
        assert.deepEqual(await daemon.grants(), [], 'no grant was recorded');
      });
    }
  }

  for (const name of Object.keys(APPROVAL)) {
    it(`ApprovalService/${name} as a signed-in approver: random and mutated messages get OK or a caller status, never INTERNAL`, async () => {
      const def = method(APPROVAL, name);
      // The pending request is left out: a real approver may approve it, and that is not what is fuzzed.
      const notPending = text.filter((s) => s.trim() !== pendingId);
      await fc.assert(
        fc.asyncProperty(payload(def, randomMessage(name, notPending, fc.constant(''))), async (bytes) => {
          const out = await call(def, bytes, [['authorization', `Bearer ${approverToken}`]], 10_000);
          if (out.code === grpc.status.CANCELLED && name === 'WatchRequests') return; // cancelled by us after its first event
          if (out.code !== grpc.status.OK) assertCallerStatus(name, out, bytes);
        }),
        fuzzOptions(100),
      );
      await healthy();
      await pendingUntouched();
    });
  }
});
