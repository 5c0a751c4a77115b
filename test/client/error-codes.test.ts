import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AccessDeniedError, ERROR_CODES, fromGrpcError, isErrorCode, JitgateClient, type ErrorCode } from '../../src/client/index.js';
import { ConflictError, InvalidArgumentError, JitgateError, NotFoundError, PermissionDeniedError, UnavailableError } from '../../src/common/errors.js';
import { ERROR_CODE_METADATA_KEY } from '../../src/model/error-codes.js';
import { startHarness, type Harness } from '../daemon/grpc/test-gate.js';

/** A grpc-js client error as the transport builds it: status, details, trailing metadata. */
function serviceError(code: grpc.status, details: string, errorCode?: string): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (errorCode !== undefined) metadata.set(ERROR_CODE_METADATA_KEY, errorCode);
  return Object.assign(new Error(details), { code, details, metadata });
}

describe('fromGrpcError and the trailing code', () => {
  it('the typed error carries the code from the trailers', () => {
    const err = fromGrpcError(serviceError(grpc.status.NOT_FOUND, 'no request "x"', 'REQUEST_NOT_FOUND'));
    assert.ok(err instanceof NotFoundError);
    assert.equal(err.code, 'REQUEST_NOT_FOUND');
    assert.equal(err.genericCode, 'ERR_NOT_FOUND');
    const field = fromGrpcError(serviceError(grpc.status.INVALID_ARGUMENT, 'resource: unknown resource "x"', 'UNKNOWN_RESOURCE'));
    assert.ok(field instanceof InvalidArgumentError);
    assert.equal(field.field, 'resource');
    assert.equal(field.code, 'UNKNOWN_RESOURCE');
  });

  it('without a code, or with one it does not know, the class’s generic code', () => {
    assert.equal(fromGrpcError(serviceError(grpc.status.FAILED_PRECONDITION, 'final')).code, 'ERR_CONFLICT');
    const unknown = fromGrpcError(serviceError(grpc.status.PERMISSION_DENIED, 'no', 'SOMETHING_NEWER'));
    assert.ok(unknown instanceof PermissionDeniedError);
    assert.equal(unknown.code, 'ERR_PERMISSION_DENIED');
    const internal = fromGrpcError(serviceError(grpc.status.INTERNAL, 'internal error', 'ERR_INTERNAL'));
    assert.equal(internal.constructor, JitgateError);
    assert.equal(internal.code, 'ERR_INTERNAL');
  });

  it('exports the catalogue and its guard', () => {
    assert.equal(typeof ERROR_CODES.POLICY_NO_MATCH, 'string');
    const code: ErrorCode = 'SELF_APPROVAL';
    assert.ok(isErrorCode(code));
    assert.ok(!isErrorCode('toString'));
  });
});

describe('JitgateClient: codes from the daemon', () => {
  let h: Harness;
  let client: JitgateClient;
  before(async () => {
    h = await startHarness();
    client = new JitgateClient({ socket: h.socket, approver: 'bob' });
  });
  after(async () => {
    client.close();
    await h.close();
  });

  it('a denial carries the code the stream ended with', async () => {
    h.gate.endCodes['deny-nomatch'] = 'POLICY_NO_MATCH';
    const err = await client.request({ resource: 'deny-nomatch' }).then(
      () => assert.fail('expected a denial'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AccessDeniedError);
    assert.equal(err.code, 'POLICY_NO_MATCH');
    assert.equal(err.outcome, 'denied');
    assert.equal(err.reason, 'policy says no');
  });

  it('a denial whose stream does not end still rejects, with the generic code, and cancels the stream', async () => {
    h.gate.endCodes['denyhold-db'] = 'POLICY_DENY';
    const aborted = h.gate.nextAbort();
    const started = Date.now();
    const err = await client.request({ resource: 'denyhold-db' }).then(
      () => assert.fail('expected a denial'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AccessDeniedError);
    assert.equal(err.outcome, 'denied');
    // The trailers never came, so the code is the generic one, not the gate's.
    assert.equal(err.code, 'ERR_ACCESS_DENIED');
    assert.ok(Date.now() - started < 10_000);
    await aborted;
  });

  it('an expiry carries EXPIRED', async () => {
    const err = await client.request({ resource: 'expire-db' }).then(
      () => assert.fail('expected an expiry'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AccessDeniedError);
    assert.equal(err.outcome, 'expired');
    assert.equal(err.code, 'EXPIRED');
  });

  it('a failed RequestAccess and a failed approve carry their codes', async () => {
    h.gate.errors['err-db'] = new UnavailableError('vault sealed', { code: 'VAULT_UNAVAILABLE' });
    h.gate.errors['req-final'] = new ConflictError('request req-final is already denied', { code: 'ALREADY_DECIDED' });
    await assert.rejects(client.request({ resource: 'err-db' }), (e: unknown) => e instanceof UnavailableError && e.code === 'VAULT_UNAVAILABLE');
    await assert.rejects(client.approve('req-final'), (e: unknown) => e instanceof ConflictError && e.code === 'ALREADY_DECIDED');
  });
});
