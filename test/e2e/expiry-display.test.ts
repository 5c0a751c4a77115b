/**
 * Issue 12, bug "Expiry display is wrong": the wire `expires_at_ms` of a pending request is
 * wall-clock epoch milliseconds (not the daemon's monotonic deadline), and every CLI view of it
 * (`run`, `list`, `show`) prints the time left within the rule's `expires_after`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadJitgateProto } from '../../src/common/load-proto.js';
import type { Request__Output } from '../../src/generated/jitgate/v1/Request.js';
import { parseDuration } from '../../src/common/duration.js';
import { cli, contextFlags, DaemonProcess, startCli } from '../support/daemon-process.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const TIMEOUT_MS = 15 * 60_000;

const POLICIES = `
  - name: demo-db-main
    match: { resource: demo-db, repository: acme/api, ref: refs/heads/main }
    require: { approvals: 1, from: [group:sre], expires_after: 15m }
  - name: everything-else
    decision: deny`;

/** GetRequest straight over gRPC, so the test sees the wire field and not the SDK's reading of it. */
function getRequestRaw(socket: string, id: string): Promise<Request__Output> {
  const { proto } = loadJitgateProto();
  const client = new proto.jitgate.v1.ApprovalService(`unix:${socket}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set('x-jitgate-approver', 'bob');
  return new Promise<Request__Output>((resolve, reject) => {
    client.GetRequest({ id }, md, (err, res) => {
      client.close();
      if (err ?? !res) reject(err ?? new Error('no response'));
      else resolve(res);
    });
  });
}

/** "expires in 14m59s" → milliseconds; fails the test when the text is missing or not a duration. */
function expiresIn(text: string): number {
  const match = /expires\s+in ((?:\d+(?:ms|h|m|s))+)/.exec(text);
  assert.ok(match?.[1], `no "expires in <duration>" in:\n${text}`);
  return parseDuration(match[1]);
}

function assertWithinTimeout(ms: number, what: string): void {
  assert.ok(ms > TIMEOUT_MS - 60_000 && ms <= TIMEOUT_MS, `${what}: ${ms} ms left, expected just under ${TIMEOUT_MS}`);
}

describe('issue 12: expiry display', () => {
  let env: VaultWithDatabase;
  let daemon: DaemonProcess;

  before(async () => {
    env = await startVaultWithDatabase();
    daemon = await DaemonProcess.start({ vaultEnv: env, policies: POLICIES });
  });
  after(async () => {
    await daemon.close();
    await env.stop();
  });

  it('sends wall-clock expires_at_ms within the configured timeout, and run, list and show print e.g. "expires in 14m59s"', async () => {
    const run = startCli(['run', '--resource', 'demo-db', '--reason', 'migrate', ...contextFlags(), '--', process.execPath, '-e', '0'], daemon.env);
    try {
      const [line] = await run.waitFor(/^.*waiting for.*expires in.*$/m);
      assert.match(line, /expires in 1[45]m(\d+s)?\b/);
      assertWithinTimeout(expiresIn(line), 'jitgate run');
      const id = /(req_[a-z0-9]+)/.exec(line)?.[1];
      assert.ok(id);

      const before = Date.now();
      const wire = await getRequestRaw(daemon.socket, id);
      const after = Date.now();
      const expiresAt = Number(wire.expiresAtMs);
      assert.equal(wire.status, 'PENDING');
      assert.ok(Number.isSafeInteger(expiresAt), `expires_at_ms ${wire.expiresAtMs} is an integer`);
      assert.ok(expiresAt > before, `expires_at_ms ${expiresAt} is after now (${before})`);
      assert.ok(expiresAt <= after + TIMEOUT_MS, `expires_at_ms ${expiresAt} is within ${TIMEOUT_MS} ms of now (${after})`);
      assert.ok(expiresAt - Number(wire.createdAtMs) <= TIMEOUT_MS + 1000, 'expiry is about created + expires_after');
      assert.ok(expiresAt - Number(wire.createdAtMs) >= TIMEOUT_MS - 1000, 'expiry is about created + expires_after');

      const listed = await cli(['list', '--as', 'bob'], daemon.env);
      assert.equal(listed.code, 0, listed.stderr);
      const listLine = listed.stdout.split('\n').find((l) => l.startsWith(id)) ?? '';
      assert.match(listLine, /expires in 1[45]m(\d+s)?\b/);
      assertWithinTimeout(expiresIn(listLine), 'jitgate list');

      const shown = await cli(['show', id, '--as', 'bob'], daemon.env);
      assert.equal(shown.code, 0, shown.stderr);
      const showLine = shown.stdout.split('\n').find((l) => l.startsWith('expires')) ?? '';
      assert.match(showLine, /^expires\s+in 1[45]m(\d+s)?$/);
      assertWithinTimeout(expiresIn(showLine), 'jitgate show');

      const json = await cli(['show', id, '--json', '--as', 'bob'], daemon.env);
      // Each view derives the wall-clock expiry from the monotonic deadline afresh: equal to the ms or so.
      const sdkExpiresAt = (JSON.parse(json.stdout) as { expiresAt: number }).expiresAt;
      assert.ok(Math.abs(sdkExpiresAt - expiresAt) <= 1000, `the SDK reads the same expiry (${sdkExpiresAt} vs ${expiresAt})`);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });
});
