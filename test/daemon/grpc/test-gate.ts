import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApproverIdentity } from '../../../src/model/context.js';
import { systemClock, type Clock } from '../../../src/common/clock.js';
import { IdentityError, NotFoundError, PermissionDeniedError } from '../../../src/common/errors.js';
import { silentLogger } from '../../../src/common/logger.js';
import type { LimitsConfig } from '../../../src/daemon/config/types.js';
import type { ErrorCode } from '../../../src/model/error-codes.js';
import type { AccessInput, AccessUpdate, BreakGlassView, RequestStatus, RequestView } from '../../../src/model/request.js';
import type { ApproverResolver, DecisionOptions, Gate } from '../../../src/daemon/gate/types.js';
import { createGrpcServer, type GrpcServerHandle } from '../../../src/daemon/grpc/server.js';

export const SECRET_PASSWORD = 'pw-7f3a9c1e-never-print';

/**
 * A scripted gate: the unit under test is the transport, so the gate's behaviour is chosen by
 * resource name. `auto-*` is granted at once; `deny-*` is denied; `expire-*` expires; `hold-*`
 * stays pending until the signal aborts; `denyhold-*` is denied but keeps the stream open until the
 * signal aborts; `error-*` throws `errors[resource]`. A denial or expiry
 * carries `endCodes[resource]` when set (the code the real gate names on the update); approve and
 * deny of an id in `errors` reject with that error.
 */
export class TestGate implements Gate {
  readonly inputs: AccessInput[] = [];
  readonly aborted: string[] = [];
  readonly released: string[] = [];
  readonly errors: Record<string, Error> = {};
  readonly endCodes: Record<string, ErrorCode> = {};
  readonly approvals: { id: string; approver: string; comment?: string; channel?: string }[] = [];
  #seq = 0;
  #abortWaiters: (() => void)[] = [];
  #releaseWaiters = new Map<string, () => void>();
  #watchViews: RequestView[] = [];

  /** Resolves once some request's signal has aborted (the transport saw the step go away). */
  nextAbort(): Promise<void> {
    return new Promise((resolve) => this.#abortWaiters.push(resolve));
  }

  view(id: string, resource: string, status: RequestStatus, extra: Partial<RequestView> = {}): RequestView {
    return {
      id,
      resource,
      reason: 'because',
      context: { trust: 'local', repository: 'acme/api', ref: 'refs/heads/main', sha: 'abc123', actor: 'alice', environment: 'production', fork: false },
      ttlMs: 60_000,
      status,
      rule: 'test-rule',
      approvalsRequired: 1,
      approvers: ['group:sre'],
      approvals: [],
      createdAt: 1_000,
      expiresAt: status === 'pending' ? 2_000_000_000_000 : 0,
      ...extra,
    };
  }

  async *requestAccess(input: AccessInput, signal: AbortSignal): AsyncIterable<AccessUpdate> {
    this.inputs.push(input);
    const id = `req-${++this.#seq}`;
    const { resource } = input;
    const onAbort = new Promise<void>((resolve) => {
      const fire = (): void => {
        this.aborted.push(id);
        for (const w of this.#abortWaiters.splice(0)) w();
        resolve();
      };
      if (signal.aborted) fire();
      else signal.addEventListener('abort', fire, { once: true });
    });
    const err = this.errors[resource];
    if (err) throw err;
    yield { kind: 'pending', request: this.view(id, resource, 'pending') };
    const endCode = this.endCodes[resource];
    const code = { code: endCode ?? 'ERR_ACCESS_DENIED' } as const;
    if (resource.startsWith('denyhold-')) {
      // A denial after which the stream stays open: the client must not wait for its end forever.
      yield { kind: 'denied', request: this.view(id, resource, 'denied', { statusReason: 'policy says no' }), reason: 'policy says no', ...code };
      await onAbort;
      return;
    }
    if (resource.startsWith('deny-')) {
      yield { kind: 'denied', request: this.view(id, resource, 'denied', { statusReason: 'policy says no' }), reason: 'policy says no', ...code };
      return;
    }
    if (resource.startsWith('expire-')) {
      yield { kind: 'expired', request: this.view(id, resource, 'expired', { statusReason: 'expired' }), reason: 'no decision within 15m', code: endCode ?? 'EXPIRED' };
      return;
    }
    if (resource.startsWith('hold-')) {
      await onAbort;
      return;
    }
    const grantId = `grant-${id}`;
    const released = new Promise<void>((resolve) => this.#releaseWaiters.set(grantId, resolve));
    yield {
      kind: 'granted',
      request: this.view(id, resource, 'granted', { grantId }),
      grant: {
        id: grantId,
        releaseToken: `rt-${id}`,
        credentials: { PGUSER: `user-${id}`, PGPASSWORD: SECRET_PASSWORD },
        ttlMs: 60_000,
        expiresAt: 2_000_000_000_000,
      },
    };
    await Promise.race([released, onAbort]);
    if (!signal.aborted) yield { kind: 'released', request: this.view(id, resource, 'released', { grantId }) };
  }

  release(grantId: string, releaseToken: string): Promise<void> {
    const waiter = this.#releaseWaiters.get(grantId);
    if (!waiter) return Promise.reject(new NotFoundError(`grant ${grantId} not found`));
    if (releaseToken !== `rt-${grantId.slice('grant-'.length)}`) return Promise.reject(new PermissionDeniedError('bad release token'));
    this.#releaseWaiters.delete(grantId);
    this.released.push(grantId);
    waiter();
    return Promise.resolve();
  }

  listRequests(filter: { readonly statuses?: readonly RequestStatus[] }): Promise<RequestView[]> {
    const all = [this.view('req-a', 'auto-db', 'pending'), this.view('req-b', 'auto-db', 'released')];
    return Promise.resolve(filter.statuses ? all.filter((v) => filter.statuses?.includes(v.status)) : all);
  }

  getRequest(id: string): Promise<RequestView> {
    const err = this.errors[id];
    if (err) return Promise.reject(err);
    if (id === 'hang') return new Promise(() => undefined);
    return Promise.resolve(this.view(id, 'auto-db', 'pending'));
  }

  /** Makes `watchRequests` yield this view (to every open watch). */
  pushWatch(view: RequestView): void {
    this.#watchViews.push(view);
  }

  async *watchRequests(signal: AbortSignal): AsyncIterable<RequestView> {
    yield this.view('req-w', 'hold-db', 'pending');
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => { resolve(); }, { once: true });
    });
  }

  approve(id: string, approver: ApproverIdentity, options: DecisionOptions = {}): Promise<RequestView> {
    const { comment, channel } = options;
    const err = this.errors[id];
    if (err) return Promise.reject(err);
    if (approver.subject === 'alice') return Promise.reject(new PermissionDeniedError('the requester cannot approve their own request'));
    this.approvals.push({ id, approver: approver.subject, ...(comment === undefined ? {} : { comment }), ...(channel === undefined ? {} : { channel }) });
    return Promise.resolve(this.view(id, 'auto-db', 'approved'));
  }

  deny(id: string, approver: ApproverIdentity, reason: string, options: DecisionOptions = {}): Promise<RequestView> {
    const err = this.errors[id];
    if (err) return Promise.reject(err);
    this.approvals.push({ id, approver: approver.subject, comment: reason, ...(options.channel === undefined ? {} : { channel: options.channel }) });
    return Promise.resolve(this.view(id, 'auto-db', 'denied', { statusReason: reason }));
  }

  breakGlass(id: string, approver: ApproverIdentity, reason: string): Promise<RequestView> {
    const err = this.errors[id];
    if (err) return Promise.reject(err);
    this.approvals.push({ id, approver: approver.subject, comment: reason });
    const breakGlass = { subject: approver.subject, name: approver.name, trust: approver.trust, reason, at: 1_500 };
    return Promise.resolve(this.view(id, 'auto-db', 'approved', { breakGlass }));
  }

  review(id: string, reviewer: ApproverIdentity, verdict: 'ok' | 'concern', note?: string): Promise<BreakGlassView> {
    const err = this.errors[id];
    if (err) return Promise.reject(err);
    this.approvals.push({ id, approver: reviewer.subject, ...(note !== undefined && { comment: `${verdict}: ${note}` }) });
    return Promise.resolve({ subject: 'olga', name: 'olga', trust: 'local', reason: 'INC-1: db down', at: 1_500, review: { subject: reviewer.subject, name: reviewer.name, trust: reviewer.trust, verdict, at: 1_600 } });
  }
}

/** Local approvers: `x-jitgate-approver: NAME`. */
export const localApprovers: ApproverResolver = {
  resolve(metadata) {
    const name = metadata['x-jitgate-approver'];
    if (!name) return Promise.reject(new IdentityError('no approver identity: pass --as NAME'));
    return Promise.resolve({ subject: name, name, groups: ['sre'], aliases: [], trust: 'local' });
  },
};

export const TEST_LIMITS: LimitsConfig = {
  maxPendingRequests: 100,
  pendingPerRepository: 20,
  pendingPerActor: 10,
  maxMessageBytes: 64 * 1024,
  maxMetadataBytes: 8 * 1024,
  defaultRpcDeadlineMs: 30_000,
};

export interface Harness {
  readonly dir: string;
  readonly socket: string;
  readonly gate: TestGate;
  readonly server: GrpcServerHandle;
  close(): Promise<void>;
}

/** A real gRPC server on a Unix socket in a fresh temp dir, backed by a `TestGate`. */
export async function startHarness(options: { clock?: Clock; limits?: Partial<LimitsConfig> } = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'jitgate-grpc-'));
  const socket = join(dir, 'jitgated.sock');
  const gate = new TestGate();
  const server = createGrpcServer({
    gate,
    approvers: localApprovers,
    listen: { socket, socketMode: 0o660 },
    limits: { ...TEST_LIMITS, ...options.limits },
    logger: silentLogger(),
    clock: options.clock ?? systemClock,
  });
  await server.start();
  server.setServing(true);
  return {
    dir,
    socket,
    gate,
    server,
    async close() {
      await server.shutdown(2_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
