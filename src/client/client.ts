import * as grpc from '@grpc/grpc-js';
import type { ClaimedContext } from '../model/context.js';
import { JitgateError } from '../common/errors.js';
import type { RequestStatus } from '../model/request.js';
import { loadJitgateProto } from '../common/load-proto.js';
import type { AccessServiceClient } from '../generated/jitgate/v1/AccessService.js';
import type { ApprovalServiceClient } from '../generated/jitgate/v1/ApprovalService.js';
import type { Request__Output } from '../generated/jitgate/v1/Request.js';
import { awaitGrant } from './access-stream.js';
import { STATUS_TO_STATE, toRequestInfo } from './convert.js';
import type { Grant } from './grant.js';
import { fromGrpcError } from './grpc-errors.js';
import type { AccessProgress, RequestInfo } from './types.js';

/** Where `jitgated` listens by default. */
export const DEFAULT_SOCKET = '/run/jitgated/jitgated.sock';

export interface JitgateClientOptions {
  /** Unix socket of the daemon; default `/run/jitgated/jitgated.sock`. Ignored when `address` is set. */
  socket?: string;
  /** `host:port` of the daemon's TCP+TLS listener (remote approvers). */
  address?: string;
  /** PEM CA bundle for `address`; the system roots when absent. */
  rootCerts?: Buffer;
  /** The CI's OIDC token, or a function fetching a fresh one per request. */
  idToken?: string | (() => Promise<string | undefined>);
  /** Context claimed with every request (compared with the verified token by the daemon). */
  context?: ClaimedContext;
  /** Local approver name (development), sent as `x-jitgate-approver`. */
  approver?: string;
  /** Approver's IdP token, sent as `authorization: Bearer ...`. */
  bearerToken?: string;
  /** Deadline for unary calls; default 30 s. */
  rpcTimeoutMs?: number;
}

export interface RequestOptions {
  /** Resource name from the daemon's configuration. */
  resource: string;
  /** Why; shown to approvers. */
  reason?: string;
  /** Requested TTL such as `60s`; the resource's default when absent. */
  ttl?: string;
  /** Overrides the client's claimed context for this request. */
  context?: ClaimedContext;
  /** Called for every progress update (pending, approved, granted, ...). */
  onUpdate?: (update: AccessProgress) => void;
  /** Aborting cancels a pending request (the daemon drops it). */
  signal?: AbortSignal;
}

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;

/**
 * SDK for `jitgated`: ask for just-in-time credentials, and (as an approver) list, inspect,
 * approve, deny and watch requests.
 *
 * ```ts
 * const client = new JitgateClient();
 * await using grant = await client.request({ resource: 'prod-db', reason: 'migration' });
 * runMigration(grant.credentials.PGUSER, grant.credentials.PGPASSWORD);
 * ```
 */
export class JitgateClient {
  readonly #options: JitgateClientOptions;
  readonly #access: AccessServiceClient;
  readonly #approval: ApprovalServiceClient;

  constructor(options: JitgateClientOptions = {}) {
    this.#options = options;
    const { proto } = loadJitgateProto();
    const target = options.address ?? `unix:${options.socket ?? DEFAULT_SOCKET}`;
    const credentials = options.address ? grpc.credentials.createSsl(options.rootCerts ?? null) : grpc.credentials.createInsecure();
    this.#access = new proto.jitgate.v1.AccessService(target, credentials);
    // Sharing the channel keeps one connection per client.
    this.#approval = new proto.jitgate.v1.ApprovalService(target, credentials, { channelOverride: this.#access.getChannel() });
  }

  /**
   * Asks for access and resolves with the grant once credentials are minted. Rejects with
   * `AccessDeniedError` when denied or expired, or with the typed error of the failure.
   */
  async request(options: RequestOptions): Promise<Grant> {
    const { signal, onUpdate } = options;
    signal?.throwIfAborted();
    const idTokenOption = this.#options.idToken;
    const idToken = typeof idTokenOption === 'function' ? await idTokenOption() : idTokenOption;
    signal?.throwIfAborted();
    const context = options.context ?? this.#options.context ?? {};
    const call = this.#access.RequestAccess({
      resource: options.resource,
      reason: options.reason ?? '',
      ttl: options.ttl ?? '',
      idToken: idToken ?? '',
      context: { ...context },
    });

    return awaitGrant(call, { signal, onUpdate, release: (grantId, releaseToken) => this.#release(grantId, releaseToken) });
  }

  /** Requests, optionally only those in the given states, or only break-glass grants still waiting for review. */
  async listRequests(options: { status?: RequestStatus[]; needsReview?: boolean } = {}): Promise<RequestInfo[]> {
    const statuses = (options.status ?? []).map((s) => STATUS_TO_STATE[s]);
    const response = await this.#unary<{ requests: Request__Output[] }>((md, opts, cb) =>
      this.#approval.ListRequests({ statuses, needsReview: options.needsReview ?? false }, md, opts, cb),
    );
    return response.requests.map(toRequestInfo);
  }

  /** One request with its verified context and approvals. */
  async getRequest(id: string): Promise<RequestInfo> {
    return toRequestInfo(await this.#unary<Request__Output>((md, opts, cb) => this.#approval.GetRequest({ id }, md, opts, cb)));
  }

  /** Approves as the configured approver identity. */
  async approve(id: string, options: { comment?: string } = {}): Promise<RequestInfo> {
    return toRequestInfo(
      await this.#unary<Request__Output>((md, opts, cb) => this.#approval.Approve({ id, comment: options.comment ?? '' }, md, opts, cb)),
    );
  }

  /** Denies as the configured approver identity; the reason is shown to the requester. */
  async deny(id: string, options: { reason: string }): Promise<RequestInfo> {
    return toRequestInfo(
      await this.#unary<Request__Output>((md, opts, cb) => this.#approval.Deny({ id, reason: options.reason }, md, opts, cb)),
    );
  }

  /**
   * Break-glass: grants a pending request without quorum. Only members of the rule's
   * `break_glass.groups`; `reason` (at least 10 characters) is announced by every notifier.
   */
  async breakGlass(id: string, options: { reason: string }): Promise<RequestInfo> {
    return toRequestInfo(
      await this.#unary<Request__Output>((md, opts, cb) => this.#approval.BreakGlass({ id, reason: options.reason }, md, opts, cb)),
    );
  }

  /** Reviews a break-glass grant: `ok`, or `concern` with a note. Not by whoever broke the glass. */
  async review(id: string, options: { verdict: 'ok' | 'concern'; note?: string }): Promise<RequestInfo> {
    return toRequestInfo(
      await this.#unary<Request__Output>((md, opts, cb) =>
        this.#approval.Review({ id, verdict: options.verdict, note: options.note ?? '' }, md, opts, cb),
      ),
    );
  }

  /** Every pending request, then each change to any request, until `signal` aborts. */
  async *watch(options: { signal?: AbortSignal } = {}): AsyncIterable<RequestInfo> {
    const { signal } = options;
    signal?.throwIfAborted();
    const call = this.#approval.WatchRequests({}, this.#approverMetadata());
    const onAbort = (): void => {
      call.cancel();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const event of call as AsyncIterable<{ request: Request__Output | null }>) {
        yield toRequestInfo(event.request);
      }
    } catch (err) {
      if (signal?.aborted && (err as Partial<grpc.ServiceError>).code === grpc.status.CANCELLED) return;
      throw fromGrpcError(err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  /** Closes the connection. Open grants lose their stream, which revokes them. */
  close(): void {
    this.#access.close();
    this.#approval.close();
  }

  #approverMetadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.#options.approver !== undefined) md.set('x-jitgate-approver', this.#options.approver);
    if (this.#options.bearerToken !== undefined) md.set('authorization', `Bearer ${this.#options.bearerToken}`);
    return md;
  }

  #unary<T>(invoke: (md: grpc.Metadata, options: grpc.CallOptions, callback: Callback<T>) => unknown, md = this.#approverMetadata()): Promise<T> {
    const deadline = new Date(Date.now() + (this.#options.rpcTimeoutMs ?? 30_000));
    return new Promise<T>((resolve, reject) => {
      invoke(md, { deadline }, (err, value) => {
        if (err) reject(fromGrpcError(err));
        else if (value === undefined) reject(new JitgateError('jitgated sent an empty answer'));
        else resolve(value);
      });
    });
  }

  #release(grantId: string, releaseToken: string): Promise<void> {
    return this.#unary<object>((md, opts, cb) => this.#access.Release({ grantId, releaseToken }, md, opts, cb), new grpc.Metadata()).then(
      () => undefined,
    );
  }
}
