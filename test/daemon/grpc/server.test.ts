import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { ManualClock } from '../../../src/common/clock.js';
import {
  ConflictError,
  ConfigError,
  IdentityError,
  InvalidArgumentError,
  JitgateError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnavailableError,
} from '../../../src/common/errors.js';
import { loadJitgateProto } from '../../../src/daemon/grpc/load-proto.js';
import { toGrpcStatus } from '../../../src/daemon/grpc/status.js';
import type { AccessRequest } from '../../../src/generated/jitgate/v1/AccessRequest.js';
import type { AccessServiceClient } from '../../../src/generated/jitgate/v1/AccessService.js';
import type { AccessUpdate__Output } from '../../../src/generated/jitgate/v1/AccessUpdate.js';
import type { ApprovalServiceClient } from '../../../src/generated/jitgate/v1/ApprovalService.js';
import type { Request__Output } from '../../../src/generated/jitgate/v1/Request.js';
import { SECRET_PASSWORD, startHarness, type Harness } from './test-gate.js';

const { proto } = loadJitgateProto();

function clients(socket: string): { access: AccessServiceClient; approval: ApprovalServiceClient; close(): void } {
  const target = `unix:${socket}`;
  const access = new proto.jitgate.v1.AccessService(target, grpc.credentials.createInsecure());
  const approval = new proto.jitgate.v1.ApprovalService(target, grpc.credentials.createInsecure());
  return {
    access,
    approval,
    close() {
      access.close();
      approval.close();
    },
  };
}

function approverMd(name = 'bob'): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('x-jitgate-approver', name);
  return md;
}

function getRequest(approval: ApprovalServiceClient, id: string, md = approverMd()): Promise<Request__Output> {
  return new Promise((resolve, reject) => {
    approval.GetRequest({ id }, md, (err, value) => {
      if (err) reject(err);
      else if (value) resolve(value);
      else reject(new Error('empty'));
    });
  });
}

/** Collects a RequestAccess stream to its end; resolves with the updates, or the final error. */
function collect(access: AccessServiceClient, request: AccessRequest): Promise<{ updates: AccessUpdate__Output[]; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const updates: AccessUpdate__Output[] = [];
    const call = access.RequestAccess(request);
    call.on('data', (u: AccessUpdate__Output) => updates.push(u));
    call.on('error', (error: grpc.ServiceError) => {
      resolve({ updates, error });
    });
    call.on('end', () => {
      resolve({ updates });
    });
  });
}

function firstUpdate(call: grpc.ClientReadableStream<AccessUpdate__Output>): Promise<AccessUpdate__Output> {
  return new Promise((resolve, reject) => {
    call.once('data', resolve);
    call.once('error', reject);
  });
}

describe('toGrpcStatus', () => {
  const cases: [Error, grpc.status][] = [
    [new InvalidArgumentError('resource', 'bad'), grpc.status.INVALID_ARGUMENT],
    [new ConfigError('policies[0]', 'bad'), grpc.status.INVALID_ARGUMENT],
    [new NotFoundError('no such request'), grpc.status.NOT_FOUND],
    [new IdentityError('bad token'), grpc.status.UNAUTHENTICATED],
    [new PermissionDeniedError('not allowed'), grpc.status.PERMISSION_DENIED],
    [new ConflictError('already final'), grpc.status.FAILED_PRECONDITION],
    [new ResourceExhaustedError('too many'), grpc.status.RESOURCE_EXHAUSTED],
    [new UnavailableError('vault down'), grpc.status.UNAVAILABLE],
  ];
  for (const [err, code] of cases) {
    it(`maps ${err.constructor.name} to ${grpc.status[code]} with its message`, () => {
      assert.deepEqual(toGrpcStatus(err), { code, details: err.message });
    });
  }
  it('hides unknown errors behind a generic INTERNAL', () => {
    assert.deepEqual(toGrpcStatus(new Error('db password=hunter2 leaked')), { code: grpc.status.INTERNAL, details: 'internal error' });
    assert.deepEqual(toGrpcStatus(new JitgateError('generic')), { code: grpc.status.INTERNAL, details: 'internal error' });
  });
});

describe('gRPC transport', () => {
  let h: Harness;
  let c: ReturnType<typeof clients>;
  before(async () => {
    h = await startHarness();
    c = clients(h.socket);
  });
  after(async () => {
    c.close();
    await h.close();
  });

  it('creates the socket with mode 0660', async () => {
    const st = await stat(h.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
  });

  it('refuses to start on a socket another server answers on', async () => {
    const { createGrpcServer } = await import('../../../src/daemon/grpc/server.js');
    const { silentLogger } = await import('../../../src/common/logger.js');
    const { systemClock } = await import('../../../src/common/clock.js');
    const { TEST_LIMITS, localApprovers, TestGate } = await import('./test-gate.js');
    const second = createGrpcServer({
      gate: new TestGate(),
      approvers: localApprovers,
      listen: { socket: h.socket, socketMode: 0o660 },
      limits: TEST_LIMITS,
      logger: silentLogger(),
      clock: systemClock,
    });
    await assert.rejects(second.start(), { code: 'ERR_UNAVAILABLE', message: /in use/ });
    // The live server must still answer.
    assert.equal((await getRequest(c.approval, 'req-1')).id, 'req-1');
  });

  it('streams pending then granted with credentials, and ends after Release', async () => {
    const call = c.access.RequestAccess({ resource: 'auto-db', reason: 'migrate', ttl: '60s', context: { ref: 'refs/heads/main' } });
    const updates: AccessUpdate__Output[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (u: AccessUpdate__Output) => {
        updates.push(u);
        if (u.state === 'GRANTED') {
          c.access.Release({ grantId: u.grant?.grantId ?? '', releaseToken: u.grant?.releaseToken ?? '' }, (err) => {
            if (err) reject(err);
          });
        }
      });
      call.on('end', resolve);
      call.on('error', reject);
    });
    await ended;
    assert.deepEqual(
      updates.map((u) => u.state),
      ['PENDING', 'GRANTED', 'RELEASED'],
    );
    const granted = updates[1];
    assert.equal(granted?.grant?.credentials.PGPASSWORD, SECRET_PASSWORD);
    assert.equal(granted.grant.expiresAtMs, '2000000000000');
    assert.equal(granted.request?.context?.ref, 'refs/heads/main');
    assert.equal(granted.request.status, 'GRANTED');
    const input = h.gate.inputs.at(-1);
    assert.equal(input?.ttlMs, 60_000);
    assert.deepEqual(input.claimed, { ref: 'refs/heads/main' });
  });

  it('reports denial as a DENIED update with the reason', async () => {
    const { updates, error } = await collect(c.access, { resource: 'deny-db' });
    assert.equal(error, undefined);
    assert.deepEqual(
      updates.map((u) => [u.state, u.reason]),
      [
        ['PENDING', ''],
        ['DENIED', 'policy says no'],
      ],
    );
  });

  const invalid: [string, AccessRequest, string][] = [
    ['resource', { resource: 'Prod DB' }, 'resource: must match [a-z0-9][a-z0-9._-]{0,62}'],
    ['context.ref', { resource: 'auto-db', context: { ref: 'refs/heads/main\nevil' } }, 'context.ref: must not contain control characters'],
    ['ttl', { resource: 'auto-db', ttl: '60' }, 'ttl: invalid duration'],
    ['reason', { resource: 'auto-db', reason: 'x'.repeat(1025) }, 'reason: longer than 1024 characters'],
  ];
  for (const [field, request, details] of invalid) {
    it(`rejects a bad ${field} with INVALID_ARGUMENT naming the field`, async () => {
      const { updates, error } = await collect(c.access, request);
      assert.equal(updates.length, 0);
      assert.equal(error?.code, grpc.status.INVALID_ARGUMENT);
      assert.ok(error.details.startsWith(details), error.details);
    });
  }

  const domainErrors: [string, Error, grpc.status, string][] = [
    ['e-invalid', new InvalidArgumentError('resource', 'unknown resource "x"'), grpc.status.INVALID_ARGUMENT, 'resource: unknown resource "x"'],
    ['e-notfound', new NotFoundError('request e-notfound not found'), grpc.status.NOT_FOUND, 'request e-notfound not found'],
    ['e-identity', new IdentityError('token expired'), grpc.status.UNAUTHENTICATED, 'token expired'],
    ['e-perm', new PermissionDeniedError('not an approver'), grpc.status.PERMISSION_DENIED, 'not an approver'],
    ['e-conflict', new ConflictError('request is final'), grpc.status.FAILED_PRECONDITION, 'request is final'],
    ['e-exhausted', new ResourceExhaustedError('too many pending'), grpc.status.RESOURCE_EXHAUSTED, 'too many pending'],
    ['e-unavailable', new UnavailableError('vault sealed'), grpc.status.UNAVAILABLE, 'vault sealed'],
    ['e-internal', new TypeError('secret=hunter2 oops'), grpc.status.INTERNAL, 'internal error'],
  ];
  for (const [id, err, code, details] of domainErrors) {
    it(`maps a thrown ${err.constructor.name} to ${grpc.status[code]} over the wire`, async () => {
      h.gate.errors[id] = err;
      await assert.rejects(getRequest(c.approval, id), { code, details });
    });
  }

  it('maps an error thrown by the gate before the first update on RequestAccess', async () => {
    h.gate.errors['err-db'] = new UnavailableError('vault unreachable');
    const { updates, error } = await collect(c.access, { resource: 'err-db' });
    assert.equal(updates.length, 0);
    assert.equal(error?.code, grpc.status.UNAVAILABLE);
    assert.equal(error.details, 'vault unreachable');
  });

  it('rejects approver RPCs without an approver identity as UNAUTHENTICATED', async () => {
    await assert.rejects(getRequest(c.approval, 'req-1', new grpc.Metadata()), { code: grpc.status.UNAUTHENTICATED });
  });

  it('answers an oversized message with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const { updates, error } = await collect(c.access, { resource: 'auto-db', idToken: 'x'.repeat(100 * 1024) });
    assert.equal(updates.length, 0);
    assert.equal(error?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal((await getRequest(c.approval, 'req-after')).id, 'req-after');
  });

  it('answers oversized metadata with RESOURCE_EXHAUSTED naming metadata, and keeps serving', async () => {
    const md = approverMd();
    md.set('x-padding', 'p'.repeat(10 * 1024));
    await assert.rejects(getRequest(c.approval, 'req-1', md), { code: grpc.status.RESOURCE_EXHAUSTED, details: /^metadata: / });
    assert.equal((await getRequest(c.approval, 'req-2')).id, 'req-2');
  });

  it('aborts the gate signal when the client cancels a pending RequestAccess', async () => {
    const call = c.access.RequestAccess({ resource: 'hold-db' });
    const first = await firstUpdate(call);
    assert.equal(first.state, 'PENDING');
    const aborted = h.gate.nextAbort();
    call.on('error', () => undefined);
    call.cancel();
    await aborted;
    assert.ok(h.gate.aborted.includes(first.request?.id ?? '?'));
  });

  it('aborts the gate signal when the process holding a grant dies (stream breaks)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./hold-grant.fixture.ts', import.meta.url)), h.socket], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    const requestId = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /GRANTED (\S+)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
    });
    const aborted = h.gate.nextAbort();
    child.kill('SIGKILL');
    await aborted;
    await exited;
    assert.ok(h.gate.aborted.includes(requestId));
    assert.ok(!h.gate.released.includes(`grant-${requestId}`));
  });

  it('passes approver identity, id and comment to the gate, on the cli channel', async () => {
    const view = await new Promise<Request__Output | undefined>((resolve, reject) => {
      c.approval.Approve({ id: 'req-9', comment: 'lgtm' }, approverMd('carol'), (err, v) => {
        if (err) reject(err);
        else resolve(v);
      });
    });
    assert.equal(view?.status, 'APPROVED');
    assert.deepEqual(h.gate.approvals.at(-1), { id: 'req-9', approver: 'carol', comment: 'lgtm', channel: 'cli' });
  });

  it('requires a deny reason', async () => {
    await assert.rejects(
      new Promise((resolve, reject) => {
        c.approval.Deny({ id: 'req-9', reason: '' }, approverMd(), (err, v) => {
          if (err) reject(err);
          else resolve(v);
        });
      }),
      { code: grpc.status.INVALID_ARGUMENT, details: 'reason: is required' },
    );
  });

  it('filters ListRequests by state', async () => {
    const list = await new Promise<Request__Output[]>((resolve, reject) => {
      c.approval.ListRequests({ statuses: ['PENDING'] }, approverMd(), (err, v) => {
        if (err) reject(err);
        else resolve(v?.requests ?? []);
      });
    });
    assert.deepEqual(
      list.map((r) => r.id),
      ['req-a'],
    );
  });

  it('lists the services through server reflection', async () => {
    const require = createRequire(import.meta.url);
    const reflectionProto = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
    const def = protoLoader.loadSync(reflectionProto, { keepCase: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (t: string, c: grpc.ChannelCredentials) => grpc.Client } } };
    };
    const client = new pkg.grpc.reflection.v1.ServerReflection(`unix:${h.socket}`, grpc.credentials.createInsecure());
    try {
      const names = await new Promise<string[]>((resolve, reject) => {
        const stream = (client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }> }).ServerReflectionInfo();
        stream.on('data', (msg: { list_services_response?: { service: { name: string }[] } }) => {
          resolve((msg.list_services_response?.service ?? []).map((s) => s.name));
          stream.end();
        });
        stream.on('error', reject);
        stream.write({ list_services: '' });
      });
      assert.ok(names.includes('jitgate.v1.AccessService'), names.join());
      assert.ok(names.includes('jitgate.v1.ApprovalService'), names.join());
      assert.ok(names.includes('grpc.health.v1.Health'), names.join());
    } finally {
      client.close();
    }
  });

  it('reports SERVING and NOT_SERVING through grpc.health.v1', async () => {
    const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      grpc: { health: { v1: { Health: new (t: string, c: grpc.ChannelCredentials) => grpc.Client } } };
    };
    const client = new pkg.grpc.health.v1.Health(`unix:${h.socket}`, grpc.credentials.createInsecure()) as grpc.Client & {
      Check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
    };
    const check = (service: string): Promise<string | undefined> =>
      new Promise((resolve, reject) => {
        client.Check({ service }, (err, res) => {
          if (err) reject(err);
          else resolve(res?.status);
        });
      });
    try {
      assert.equal(await check(''), 'SERVING');
      assert.equal(await check('jitgate.v1.AccessService'), 'SERVING');
      h.server.setServing(false);
      assert.equal(await check(''), 'NOT_SERVING');
      assert.equal(await check('jitgate.v1.ApprovalService'), 'NOT_SERVING');
      h.server.setServing(true);
      assert.equal(await check(''), 'SERVING');
    } finally {
      client.close();
    }
  });
});

describe('default RPC deadline', () => {
  it('ends a unary call that arrived without a deadline after limits.defaultRpcDeadlineMs', async () => {
    const clock = new ManualClock();
    const h = await startHarness({ clock, limits: { defaultRpcDeadlineMs: 5_000 } });
    const c = clients(h.socket);
    try {
      const pending = getRequest(c.approval, 'hang');
      // Wait until the server has the call (its timer is armed), then move time past the deadline.
      const outcome = assert.rejects(pending, { code: grpc.status.DEADLINE_EXCEEDED });
      for (let i = 0; i < 200; i++) {
        await new Promise((r) => setImmediate(r));
        clock.advance(1_000);
      }
      await outcome;
    } finally {
      c.close();
      await h.close();
    }
  });
});
