import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ConflictError, IdentityError, JitgateError, NotFoundError, PermissionDeniedError, UnavailableError } from '../../../src/common/errors.js';
import { loadJitgateProto } from '../../../src/daemon/grpc/load-proto.js';
import { ERROR_CODE_METADATA_KEY } from '../../../src/model/error-codes.js';
import type { AccessRequest } from '../../../src/generated/jitgate/v1/AccessRequest.js';
import type { AccessServiceClient } from '../../../src/generated/jitgate/v1/AccessService.js';
import type { AccessUpdate__Output } from '../../../src/generated/jitgate/v1/AccessUpdate.js';
import type { ApprovalServiceClient } from '../../../src/generated/jitgate/v1/ApprovalService.js';
import { startHarness, type Harness } from './test-gate.js';

const { proto } = loadJitgateProto();

function approverMd(name = 'bob'): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('x-jitgate-approver', name);
  return md;
}

/** A unary call's failure as the raw gRPC status: code, details and the trailing code. */
function approveFailure(approval: ApprovalServiceClient, id: string, md = approverMd()): Promise<{ code: grpc.status; details: string; trailer: unknown[] }> {
  return new Promise((resolve, reject) => {
    approval.Approve({ id, comment: '' }, md, (err) => {
      if (!err) reject(new Error('expected a failure'));
      else resolve({ code: err.code, details: err.details, trailer: err.metadata.get(ERROR_CODE_METADATA_KEY) });
    });
  });
}

/** A RequestAccess stream to its final status: the states seen, the status code and its trailing error code. */
function streamStatus(access: AccessServiceClient, request: AccessRequest): Promise<{ states: string[]; code: grpc.status; trailer: unknown[] }> {
  return new Promise((resolve) => {
    const states: string[] = [];
    const call = access.RequestAccess(request);
    call.on('data', (u: AccessUpdate__Output) => states.push(u.state));
    call.on('error', () => undefined);
    call.on('status', (status: grpc.StatusObject) => {
      resolve({ states, code: status.code, trailer: status.metadata.get(ERROR_CODE_METADATA_KEY) });
    });
  });
}

describe('error codes in gRPC trailing metadata', () => {
  let h: Harness;
  let access: AccessServiceClient;
  let approval: ApprovalServiceClient;
  before(async () => {
    h = await startHarness();
    access = new proto.jitgate.v1.AccessService(`unix:${h.socket}`, grpc.credentials.createInsecure());
    approval = new proto.jitgate.v1.ApprovalService(`unix:${h.socket}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    access.close();
    approval.close();
    await h.close();
  });

  it('an approve of an unknown request: NOT_FOUND with REQUEST_NOT_FOUND in the trailers', async () => {
    h.gate.errors['req-missing'] = new NotFoundError('no request "req-missing"', { code: 'REQUEST_NOT_FOUND' });
    assert.deepEqual(await approveFailure(approval, 'req-missing'), { code: grpc.status.NOT_FOUND, details: 'no request "req-missing"', trailer: ['REQUEST_NOT_FOUND'] });
  });

  it('a specific code rides with the status of its class: SELF_APPROVAL on PERMISSION_DENIED, ALREADY_DECIDED on FAILED_PRECONDITION', async () => {
    h.gate.errors['req-self'] = new PermissionDeniedError('the requester cannot approve', { code: 'SELF_APPROVAL' });
    h.gate.errors['req-final'] = new ConflictError('request req-final is already denied', { code: 'ALREADY_DECIDED' });
    assert.deepEqual((await approveFailure(approval, 'req-self')).trailer, ['SELF_APPROVAL']);
    const final = await approveFailure(approval, 'req-final');
    assert.equal(final.code, grpc.status.FAILED_PRECONDITION);
    assert.deepEqual(final.trailer, ['ALREADY_DECIDED']);
  });

  it('an error with no specific code carries its class’s generic code', async () => {
    h.gate.errors['req-conflict'] = new ConflictError('request is final');
    assert.deepEqual((await approveFailure(approval, 'req-conflict')).trailer, ['ERR_CONFLICT']);
    assert.deepEqual((await approveFailure(approval, 'req-x', new grpc.Metadata())).trailer, ['ERR_IDENTITY']);
  });

  it('a failure that is not a JitgateError is INTERNAL with ERR_INTERNAL, and so is a bare JitgateError', async () => {
    h.gate.errors['req-bug'] = new TypeError('secret=hunter2 oops');
    h.gate.errors['req-generic'] = new JitgateError('generic');
    assert.deepEqual(await approveFailure(approval, 'req-bug'), { code: grpc.status.INTERNAL, details: 'internal error', trailer: ['ERR_INTERNAL'] });
    assert.deepEqual(await approveFailure(approval, 'req-generic'), { code: grpc.status.INTERNAL, details: 'internal error', trailer: ['ERR_INTERNAL'] });
  });

  it('a RequestAccess stream that fails carries the code in its error status', async () => {
    h.gate.errors['err-mismatch'] = new PermissionDeniedError('context mismatch: ref', { code: 'CONTEXT_MISMATCH' });
    h.gate.errors['err-token'] = new IdentityError('token replayed', { code: 'TOKEN_REPLAYED' });
    h.gate.errors['err-vault'] = new UnavailableError('vault sealed', { code: 'VAULT_UNAVAILABLE' });
    assert.deepEqual(await streamStatus(access, { resource: 'err-mismatch' }), { states: [], code: grpc.status.PERMISSION_DENIED, trailer: ['CONTEXT_MISMATCH'] });
    assert.deepEqual(await streamStatus(access, { resource: 'err-token' }), { states: [], code: grpc.status.UNAUTHENTICATED, trailer: ['TOKEN_REPLAYED'] });
    assert.deepEqual(await streamStatus(access, { resource: 'err-vault' }), { states: [], code: grpc.status.UNAVAILABLE, trailer: ['VAULT_UNAVAILABLE'] });
  });

  it('a stream that ends denied carries the update’s code in the trailers of its OK status', async () => {
    h.gate.endCodes['deny-nomatch'] = 'POLICY_NO_MATCH';
    h.gate.endCodes['deny-approver'] = 'DENIED_BY_APPROVER';
    assert.deepEqual(await streamStatus(access, { resource: 'deny-nomatch' }), { states: ['PENDING', 'DENIED'], code: grpc.status.OK, trailer: ['POLICY_NO_MATCH'] });
    assert.deepEqual((await streamStatus(access, { resource: 'deny-approver' })).trailer, ['DENIED_BY_APPROVER']);
  });

  it('a generic denial ends with ERR_ACCESS_DENIED and an expiry with EXPIRED', async () => {
    assert.deepEqual(await streamStatus(access, { resource: 'deny-plain' }), { states: ['PENDING', 'DENIED'], code: grpc.status.OK, trailer: ['ERR_ACCESS_DENIED'] });
    assert.deepEqual(await streamStatus(access, { resource: 'expire-plain' }), { states: ['PENDING', 'EXPIRED'], code: grpc.status.OK, trailer: ['EXPIRED'] });
  });

  it('a stream that ends without a denial sends no error code', async () => {
    const call = access.RequestAccess({ resource: 'auto-db' });
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => undefined);
    const granted = await new Promise<AccessUpdate__Output>((resolve) => {
      call.on('data', (u: AccessUpdate__Output) => {
        if (u.state === 'GRANTED') resolve(u);
      });
    });
    const grant = granted.grant;
    assert.ok(grant);
    await new Promise<void>((resolve, reject) => {
      access.Release({ grantId: grant.grantId, releaseToken: grant.releaseToken }, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
    const final = await status;
    assert.equal(final.code, grpc.status.OK);
    assert.deepEqual(final.metadata.get(ERROR_CODE_METADATA_KEY), []);
  });
});
