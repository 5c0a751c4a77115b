/**
 * Stable error codes through the real daemon: jitgated as a process, the SDK, raw gRPC and the
 * `jitgate` CLI all see the same code for the same refusal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AccessDeniedError, JitgateClient } from '../../src/client/index.js';
import { NotFoundError } from '../../src/common/errors.js';
import { loadJitgateProto } from '../../src/daemon/grpc/load-proto.js';
import type { AccessUpdate__Output } from '../../src/generated/jitgate/v1/AccessUpdate.js';
import { ERROR_CODE_METADATA_KEY } from '../../src/model/error-codes.js';
import { cli, contextFlags, DaemonProcess } from '../support/daemon-process.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

// No catch-all rule: a request from acme/api matches nothing, so the default deny answers.
const POLICIES = `
  - name: token-for-other
    match: { resource: demo-token, repository: acme/other }
    decision: auto-approve`;

const CONTEXT = { repository: 'acme/api', ref: 'refs/heads/main', sha: 'a'.repeat(40), actor: 'alice', environment: 'production' };

describe('end to end: error codes on the wire', () => {
  let env: VaultWithDatabase;
  let daemon: DaemonProcess;
  const { proto } = loadJitgateProto();

  before(async () => {
    env = await startVaultWithDatabase();
    daemon = await DaemonProcess.start({ vaultEnv: env, policies: POLICIES });
  });
  after(async () => {
    await daemon.close();
    await env.stop();
  });

  it('a request matching no rule: the SDK error has code POLICY_NO_MATCH, and so has the raw trailer', async () => {
    const client = new JitgateClient({ socket: daemon.socket, context: CONTEXT });
    try {
      const err = await client.request({ resource: 'demo-token', reason: 'codes' }).then(
        () => assert.fail('expected a denial'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof AccessDeniedError, String(err));
      assert.equal(err.outcome, 'denied');
      assert.equal(err.code, 'POLICY_NO_MATCH');
    } finally {
      client.close();
    }

    const access = new proto.jitgate.v1.AccessService(`unix:${daemon.socket}`, grpc.credentials.createInsecure());
    try {
      const { states, status } = await new Promise<{ states: string[]; status: grpc.StatusObject }>((resolve) => {
        const states: string[] = [];
        const call = access.RequestAccess({ resource: 'demo-token', reason: 'codes', context: CONTEXT });
        call.on('data', (u: AccessUpdate__Output) => states.push(u.state));
        call.on('error', () => undefined);
        call.on('status', (s: grpc.StatusObject) => {
          resolve({ states, status: s });
        });
      });
      assert.deepEqual(states, ['DENIED']);
      assert.equal(status.code, grpc.status.OK);
      assert.deepEqual(status.metadata.get(ERROR_CODE_METADATA_KEY), ['POLICY_NO_MATCH']);
    } finally {
      access.close();
    }

    const run = await cli(['run', '--resource', 'demo-token', ...contextFlags(), '--', 'true'], daemon.env);
    assert.equal(run.code, 77, run.stderr);
  });

  it('an approve of an unknown request: NOT_FOUND with REQUEST_NOT_FOUND in the trailers', async () => {
    const approval = new proto.jitgate.v1.ApprovalService(`unix:${daemon.socket}`, grpc.credentials.createInsecure());
    try {
      const md = new grpc.Metadata();
      md.set('x-jitgate-approver', 'bob');
      const err = await new Promise<grpc.ServiceError>((resolve, reject) => {
        approval.Approve({ id: 'req-nosuch', comment: '' }, md, (e) => {
          if (e) resolve(e);
          else reject(new Error('expected NOT_FOUND'));
        });
      });
      assert.equal(err.code, grpc.status.NOT_FOUND);
      assert.deepEqual(err.metadata.get(ERROR_CODE_METADATA_KEY), ['REQUEST_NOT_FOUND']);
    } finally {
      approval.close();
    }

    const client = new JitgateClient({ socket: daemon.socket, approver: 'bob' });
    try {
      await assert.rejects(client.approve('req-nosuch'), (e: unknown) => e instanceof NotFoundError && e.code === 'REQUEST_NOT_FOUND');
    } finally {
      client.close();
    }
    const approve = await cli(['approve', 'req-nosuch', '--as', 'bob'], daemon.env);
    assert.equal(approve.code, 1, approve.stderr);
  });
});
